// Helpers for the API suites: typed access to the custom objects and the API server's refusals.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ApiException,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../../src/api/index.ts';

export interface CustomObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string; [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** What the API server said when it refused a request. */
export interface Refusal {
  code: number;
  message: string;
  /** The fields the server named (Status details.causes[].field). */
  fields: string[];
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class Objects {
  readonly api: CustomObjectsApi;
  readonly namespace: string;

  constructor(kc: KubeConfig, namespace: string) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.namespace = namespace;
  }

  create(plural: string, body: CustomObject): Promise<CustomObject> {
    return this.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, body });
  }

  get(plural: string, name: string): Promise<CustomObject> {
    return this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, name });
  }

  patch(plural: string, name: string, body: object): Promise<CustomObject> {
    return this.api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, name, body }, mergePatch);
  }

  patchStatus(plural: string, name: string, body: object): Promise<CustomObject> {
    return this.api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace: this.namespace, plural, name, body },
      mergePatch,
    );
  }
}

/** Awaits a request that must be refused and returns how; fails the test if it was accepted. */
export async function refusal(request: Promise<unknown>): Promise<Refusal> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    // For custom objects the body arrives as the Status object's JSON text.
    const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as {
      message?: string;
      details?: { causes?: { field?: string }[] };
    };
    return {
      code: error.code,
      message: body.message ?? '',
      fields: (body.details?.causes ?? []).map((cause) => cause.field ?? ''),
    };
  }
  throw new Error('the API server accepted a request it should have refused');
}

const execFileAsync = promisify(execFile);

/** Runs kubectl (on the machine, as a user would) against the test control plane. */
export async function kubectl(kubeconfigPath: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7386 JSON merge patch (null removes a field), to derive a manifest from a valid one. */
export function merged<T>(target: T, patch: Json): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T;
  const base = target !== null && typeof target === 'object' && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  const entries = Object.entries(base).filter(([key]) => !(key in patch));
  for (const [key, value] of Object.entries(patch)) {
    if (value !== null) entries.push([key, merged(base[key], value)]);
  }
  return Object.fromEntries(entries) as T;
}

export type { Json };
