import type { KubernetesObject } from '@kubernetes/client-node';
import { RestClient } from './rest-client.ts';
import type { RestConfig } from './rest-config.ts';
import { isNotFound } from './errors.ts';

/** A namespaced kind: served under /apis/{group}/{version}, or /api/v1 for the core group (""). */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** metav1.MicroTime as the API server writes it (RFC 3339, microseconds), for Events and Leases. */
export function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The core group's Namespaces (cluster-scoped: create them without metadata.namespace). */
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };

/** The core group's Secrets, which lab accounts and templates read credentials from. */
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function keyOf(obj: KubernetesObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const MERGE_PATCH = 'application/merge-patch+json';

/** Reads and writes of namespaced objects as plain JSON (timestamps stay text); merge patches for changes. */
export class ObjectClient {
  readonly rest: RestClient;

  /** A RestClient to share its connections, or the configuration for a client of its own. */
  constructor(connection: RestClient | RestConfig) {
    this.rest = connection instanceof RestClient ? connection : new RestClient(connection);
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.rest.request<T>({ method: 'GET', path: objectPath(resource, namespace, name) });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject>(
    resource: ResourceType,
    namespace: string | undefined,
    options: { limit?: number; continue?: string; labelSelector?: string } = {},
  ): Promise<{ items: T[]; metadata: { resourceVersion?: string; continue?: string } }> {
    const { limit, labelSelector } = options;
    return await this.rest.request({ method: 'GET', path: collectionPath(resource, namespace), query: { limit, continue: options.continue, labelSelector } });
  }

  async create<T extends KubernetesObject>(resource: ResourceType, obj: T): Promise<T> {
    // No metadata.namespace: a cluster-scoped kind (a Namespace).
    return await this.rest.request<T>({ method: 'POST', path: collectionPath(resource, obj.metadata?.namespace), body: typed(resource, obj) });
  }

  /** Replaces the object (PUT); its metadata.resourceVersion makes the write conditional. */
  async replace<T extends KubernetesObject>(resource: ResourceType, obj: T): Promise<T> {
    return await this.rest.request<T>({ method: 'PUT', path: objectPath(resource, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''), body: typed(resource, obj) });
  }

  /** Deletes the object; one that is already gone counts as deleted. */
  async delete(resource: ResourceType, namespace: string, name: string): Promise<void> {
    try {
      await this.rest.request({ method: 'DELETE', path: objectPath(resource, namespace, name) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A JSON merge patch (RFC 7386) on the object; put metadata.resourceVersion in it to make it conditional. */
  async mergePatch<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object): Promise<T> {
    return await this.rest.request<T>({ method: 'PATCH', path: objectPath(resource, namespace, name), body: patch, contentType: MERGE_PATCH });
  }

  /** A JSON merge patch on the /status subresource. */
  async mergePatchStatus<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object): Promise<T> {
    return await this.rest.request<T>({ method: 'PATCH', path: `${objectPath(resource, namespace, name)}/status`, body: patch, contentType: MERGE_PATCH });
  }
}

/** The collection's path, in `namespace` or (undefined) across all namespaces. */
export function collectionPath(resource: ResourceType, namespace: string | undefined): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return `${root}${namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`}/${resource.plural}`;
}

/** The object with the apiVersion and kind of `resource`, which the API server wants in a body. */
function typed<T extends KubernetesObject>(resource: ResourceType, obj: T): T {
  return { ...obj, apiVersion: apiVersionOf(resource), kind: resource.kind };
}

function objectPath(resource: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
}
