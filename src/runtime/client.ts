import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from './errors.ts';

/**
 * A namespaced kind served under /apis/{group}/{version}: our CRDs (and any grouped API).
 * The runtime keeps objects as the API server sends them (plain JSON), so it goes through
 * CustomObjectsApi, which does not convert timestamps into Date objects the way typed clients do.
 */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export function apiVersionOf(resource: ResourceType): string {
  return `${resource.group}/${resource.version}`;
}

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

// client-node's generated patch calls send JSON Patch unless told otherwise.
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Reads and writes of custom objects, as plain JSON; merge patches carry their content type. */
export class ObjectClient {
  readonly #api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.#api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.#api.getNamespacedCustomObject({ ...this.#where(resource, namespace), name })) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject>(
    resource: ResourceType,
    namespace: string | undefined,
    options: { limit?: number; continue?: string } = {},
  ): Promise<{ items: T[]; metadata: { resourceVersion?: string; continue?: string } }> {
    const page = { group: resource.group, version: resource.version, plural: resource.plural, limit: options.limit, _continue: options.continue };
    return namespace === undefined
      ? await this.#api.listClusterCustomObject(page)
      : await this.#api.listNamespacedCustomObject({ ...page, namespace });
  }

  async create<T extends KubernetesObject>(resource: ResourceType, obj: T): Promise<T> {
    const namespace = obj.metadata?.namespace ?? '';
    return (await this.#api.createNamespacedCustomObject({ ...this.#where(resource, namespace), body: { ...obj, apiVersion: apiVersionOf(resource), kind: resource.kind } })) as T;
  }

  /** Deletes the object; one that is already gone counts as deleted. */
  async delete(resource: ResourceType, namespace: string, name: string): Promise<void> {
    try {
      await this.#api.deleteNamespacedCustomObject({ ...this.#where(resource, namespace), name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A JSON merge patch (RFC 7386) on the object; put metadata.resourceVersion in it to make it conditional. */
  async mergePatch<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object): Promise<T> {
    return (await this.#api.patchNamespacedCustomObject({ ...this.#where(resource, namespace), name, body: patch }, mergePatch)) as T;
  }

  /** A JSON merge patch on the /status subresource. */
  async mergePatchStatus<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object): Promise<T> {
    return (await this.#api.patchNamespacedCustomObjectStatus({ ...this.#where(resource, namespace), name, body: patch }, mergePatch)) as T;
  }

  #where(resource: ResourceType, namespace: string) {
    return { group: resource.group, version: resource.version, plural: resource.plural, namespace };
  }
}
