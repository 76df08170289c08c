// Reconcile on demand, Flux's way: setting the labimages.io/requestedAt annotation (as
// `kubectl labimage reconcile` does) makes the operator look at an object at once, past every
// shortcut that would otherwise answer from what it read lately, and the value is echoed in
// status.lastHandledReconcileAt once a pass has run for it. One place for every kind: the `for`
// predicate (here), the shortcut (SyncMemo) and the echo (ObjectWriter) all ask it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { RECONCILE_REQUESTED_AT } from '../../api/annotations.ts';
import { generationChanged, type UpdatePredicate } from '../../runtime/index.ts';

type Requestable = KubernetesObject & { status?: { lastHandledReconcileAt?: string } };

/** The annotation's value, when it is set. */
export function requestedAt(obj: KubernetesObject): string | undefined {
  return obj.metadata?.annotations?.[RECONCILE_REQUESTED_AT];
}

/** A request no pass has answered yet: this pass reads Azure afresh, whatever it read lately. */
export function isReconcileRequested(obj: Requestable): boolean {
  const requested = requestedAt(obj);
  return requested !== undefined && requested !== obj.status?.lastHandledReconcileAt;
}

/** What status.lastHandledReconcileAt says after a pass over `obj`: the request it ran for, else what it said. */
export function lastHandledReconcileAt(obj: Requestable): { lastHandledReconcileAt?: string } {
  const handled = requestedAt(obj) ?? obj.status?.lastHandledReconcileAt;
  return handled === undefined ? {} : { lastHandledReconcileAt: handled };
}

/**
 * The update filter of every kind's own objects: controller-runtime's GenerationChangedPredicate
 * (updates of status or metadata alone are not ours to act on), except a new request, which is
 * only an annotation.
 */
export const generationChangedOrRequested: UpdatePredicate = (oldObj, newObj) => generationChanged(oldObj, newObj) || requestedAt(oldObj) !== requestedAt(newObj);
