import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { isAlreadyExists } from '../../../src/runtime/errors.ts';
import { Conditions, patchStatus, type Condition, type ControllerDefinition, type Manager, type ResourceType } from '../../../src/runtime/index.ts';
import { eventually as waitFor } from '../eventually.ts';

/** A test-only kind: the runtime is tested on it, not on the project's CRDs. */
export const WIDGET: ResourceType = { group: 'runtime.test.labimages.io', version: 'v1', plural: 'widgets', kind: 'Widget' };

export interface Widget extends KubernetesObject {
  spec: { value: string };
  status?: { observedGeneration?: number; value?: string; conditions?: Condition[] };
}

/** Installs a test CRD with a status subresource (idempotent) and waits until it is served. */
export async function installTestCrd(kc: KubeConfig, resource: ResourceType = WIDGET): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = `${resource.plural}.${resource.group}`;
  try {
    await api.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group: resource.group,
          scope: 'Namespaced',
          names: { plural: resource.plural, kind: resource.kind },
          versions: [
            {
              name: resource.version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { value: { type: 'string' } } },
                    status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                  },
                },
              },
            },
          ],
        },
      },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await eventually(async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  }, `CRD ${name} to be established`);
}

export interface WidgetHooks {
  started?(key: string): void;
  reconciled?(key: string, value: string | undefined): void;
}

/**
 * The test controller: copies spec.value into status with Ready=True. A widget annotated
 * `test/slow-ms` takes that long, to have a reconcile in flight on purpose.
 */
export function widgetController(mgr: Manager, hooks: WidgetHooks = {}): ControllerDefinition {
  const informer = mgr.informer<Widget>(WIDGET);
  return {
    name: 'widget',
    for: WIDGET,
    async reconcile({ namespace, name }) {
      const key = `${namespace}/${name}`;
      const widget = informer.get(name, namespace);
      if (!widget) {
        hooks.reconciled?.(key, undefined);
        return;
      }
      hooks.started?.(key);
      const slow = Number(widget.metadata?.annotations?.['test/slow-ms'] ?? 0);
      if (slow > 0) await new Promise((r) => setTimeout(r, slow));
      const generation = widget.metadata?.generation ?? 0;
      const conditions = new Conditions(widget.status?.conditions, generation).ready('Succeeded', `value is ${widget.spec.value}`);
      await patchStatus(mgr.client, WIDGET, widget, { ...widget.status, observedGeneration: generation, value: widget.spec.value, conditions: conditions.list() });
      hooks.reconciled?.(key, widget.spec.value);
    },
  };
}

export function widget(namespace: string, name: string, value: string, annotations?: Record<string, string>): Widget {
  return { apiVersion: `${WIDGET.group}/${WIDGET.version}`, kind: WIDGET.kind, metadata: { name, namespace, annotations }, spec: { value } };
}

/** The shared `eventually`, in the argument order these suites use. */
export function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(check, { what, timeoutMs });
}

/** GET on the API server with the kubeconfig's credentials, for /readyz and /metrics. */
export async function apiServerGet(kc: KubeConfig, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return await new Promise((resolve, reject) => {
    const req = request(url, { ...options, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Plain HTTP GET on a local endpoint (our probes and metrics). */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}
