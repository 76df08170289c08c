import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectClient, ResourceType } from './client.ts';
import { createMergePatch } from './mergepatch.ts';

/**
 * Flux's patch-helper lesson: compute the whole status, compare it with the status of the object
 * the reconcile started from (the cache's copy), and send only the difference, as a merge patch on
 * /status, and nothing at all when they are equal. Returns the updated object, or undefined when no
 * request was made.
 */
export async function patchStatus<T extends KubernetesObject & { status?: object }>(
  client: Pick<ObjectClient, 'mergePatchStatus'>,
  resource: ResourceType,
  current: T,
  status: object,
): Promise<T | undefined> {
  const patch = createMergePatch(current.status ?? {}, status);
  if (patch === undefined) return undefined;
  const { namespace = '', name = '' } = current.metadata ?? {};
  return await client.mergePatchStatus<T>(resource, namespace, name, { status: patch });
}
