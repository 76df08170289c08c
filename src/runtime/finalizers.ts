import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectClient, ResourceType } from './client.ts';

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Finalizers are a list that other controllers edit too, and a merge patch replaces lists whole, so
 * the patch carries the resourceVersion it was computed from: if the object changed meanwhile the
 * API server answers 409 Conflict, the reconcile fails and is requeued with backoff, and no one's
 * finalizer is lost. Both return the updated object, or undefined when nothing had to change.
 */
/** What changing finalizers needs of a client. */
export type FinalizerClient = Pick<ObjectClient, 'mergePatch'>;

export async function addFinalizer<T extends KubernetesObject>(client: FinalizerClient, resource: ResourceType, obj: T, finalizer: string): Promise<T | undefined> {
  if (hasFinalizer(obj, finalizer)) return undefined;
  return await writeFinalizers(client, resource, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);
}

export async function removeFinalizer<T extends KubernetesObject>(client: FinalizerClient, resource: ResourceType, obj: T, finalizer: string): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return undefined;
  return await writeFinalizers(client, resource, obj, (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer));
}

async function writeFinalizers<T extends KubernetesObject>(client: FinalizerClient, resource: ResourceType, obj: T, finalizers: string[]): Promise<T> {
  const { namespace = '', name = '', resourceVersion } = obj.metadata ?? {};
  if (!resourceVersion) throw new Error(`cannot change finalizers of ${namespace}/${name} without its resourceVersion`);
  return await client.mergePatch<T>(resource, namespace, name, { metadata: { finalizers, resourceVersion } });
}
