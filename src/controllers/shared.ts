// Pieces the controllers share: the index by account, the rule that
// picks which attachment holds an account, what an ARM failure does to conditions, Events on
// condition transitions, and the memo that keeps ARM reads to one per sync period.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { GalleryAttachment } from '../api/index.ts';
import type { ArmError } from '../azure/index.ts';
import type { Logger } from '../log.ts';
import {
  READY,
  STALLED,
  findCondition,
  objectKey,
  patchStatus,
  type Condition,
  type Conditions,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type ResourceType,
  type Result,
} from '../runtime/index.ts';

/** Index of GalleryAttachments (and ImageExports) by `namespace/labAccountRef.name`. */
// Namespaced by this module so that another index on the same informer cannot clash.
export const BY_ACCOUNT_INDEX = 'controllers/byAccount';

/** Files objects that carry spec.labAccountRef under their account's key. Adding it twice is harmless. */
export function indexByAccount<T extends KubernetesObject & { spec?: { labAccountRef?: { name?: string } } }>(informer: Informer<T>): void {
  informer.addIndex(BY_ACCOUNT_INDEX, (obj) => {
    const name = obj.spec?.labAccountRef?.name;
    return name ? [objectKey(obj.metadata?.namespace, name)] : [];
  });
}

/**
 * An object's conditions as the runtime types them. The API schema leaves a condition's
 * observedGeneration optional (metav1.Condition's), and the operator always writes it.
 */
export function conditionsOf(obj: { status?: { conditions?: readonly object[] } } | undefined): Condition[] | undefined {
  return obj?.status?.conditions as Condition[] | undefined;
}

function isDeleting(obj: KubernetesObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

/**
 * The attachment that holds an account: the oldest (creationTimestamp, then name) of those not
 * being deleted. Both controllers use this one rule, so the account and its attachments agree.
 */
export function holderOf(attachments: readonly GalleryAttachment[]): GalleryAttachment | undefined {
  // creationTimestamp arrives as RFC 3339 text in UTC with whole seconds, so text order is time order.
  const key = (a: GalleryAttachment) => [String(a.metadata.creationTimestamp ?? ''), a.metadata.name ?? ''] as const;
  return attachments
    .filter((a) => !isDeleting(a))
    .toSorted((a, b) => {
      const [ta, na] = key(a);
      const [tb, nb] = key(b);
      return ta === tb ? (na < nb ? -1 : na > nb ? 1 : 0) : ta < tb ? -1 : 1;
    })[0];
}

/**
 * Events for a status just written: one on every change of Ready's status, and one (Warning) on
 * every new terminal failure (Stalled appearing, or its reason or message changing). A new
 * object's first Ready while it makes progress (Unknown or False, not Stalled) is not news: it gets
 * no Event, which saves an API write per object.
 */
export function recordConditionEvents(recorder: EventRecorder, obj: KubernetesObject, before: readonly Condition[] | undefined, after: readonly Condition[]): void {
  const ready = findCondition(after, READY);
  if (!ready) return;
  const stalled = findCondition(after, STALLED);
  const was = findCondition(before, STALLED);
  const newFailure = stalled !== undefined && (was?.reason !== stalled.reason || was.message !== stalled.message);
  const wasReady = findCondition(before, READY);
  if (!newFailure && (wasReady?.status === ready.status || (!wasReady && ready.status !== 'True'))) return;
  recorder.event(obj, ready.status === 'False' ? 'Warning' : 'Normal', ready.reason, ready.message);
}

/**
 * Writes the status computed in one reconcile (only when it differs from the cached object's) and,
 * when it did, records the Events its condition transitions call for. Every controller writes
 * status here, so every kind gets the same Events.
 */
export async function writeStatus<T extends KubernetesObject & { status?: { conditions?: readonly object[] } }>(
  client: ObjectClient,
  resource: ResourceType,
  recorder: EventRecorder,
  obj: T,
  status: { conditions?: readonly object[] },
  log: Logger,
): Promise<void> {
  if (await patchStatus(client, resource, obj, status)) {
    log.debug('status written');
    recordConditionEvents(recorder, obj, conditionsOf(obj), conditionsOf({ status }) ?? []);
  }
}

/** ARM's code when it is fit for a condition reason (CamelCase), else a generic one. */
export function armReason(error: ArmError): string {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(error.code) ? error.code : 'ArmError';
}

/** Azure refused who we are or what we may do: only new credentials or role assignments help. */
export function isCredentialRejection(error: ArmError): boolean {
  return error.statusCode === 401 || error.statusCode === 403;
}

/**
 * An ARM failure in conditions. Retryable: Ready=False while Reconciling, again after ARM's
 * Retry-After, else (`rethrow`) with the work queue's backoff. Terminal: Stalled, looked at again
 * after `recheckMs`, since its cause lies in Azure, outside our watches.
 */
export function armFailure(error: ArmError, conditions: Conditions, what: string, recheckMs: number): { result: Result; rethrow: boolean } {
  const message = `${what}: ARM answered ${error.code}${error.statusCode ? ` (HTTP ${error.statusCode})` : ''}: ${error.message}`;
  if (error.retryable) {
    conditions.retrying(armReason(error), `${message}; retrying`);
    return error.retryAfterMs === undefined ? { result: {}, rethrow: true } : { result: { requeueAfter: Math.max(error.retryAfterMs, 1) }, rethrow: false };
  }
  conditions.stalled(armReason(error), message);
  return { result: { requeueAfter: recheckMs }, rethrow: false };
}

/**
 * When each object last had its Azure side read, so a reconcile that finds nothing new (an event
 * from a related object, a resync) skips ARM until the sync period has passed. Only an
 * optimisation: after a restart it is empty and the first reconcile reads Azure again.
 */
export class SyncMemo {
  readonly #periodMs: number;
  readonly #coalesceMs: number;
  readonly #entries = new Map<string, { uid: string; fingerprint: string; at: number }>();

  /**
   * `coalesceMs`: a changed fingerprint is read at most this often, so that a burst of related
   * changes (a thousand exports finishing one after another) costs one read per window, not one each.
   */
  constructor(periodMs: number, options: { coalesceMs?: number } = {}) {
    this.#periodMs = periodMs;
    this.#coalesceMs = options.coalesceMs ?? 0;
  }

  /**
   * Milliseconds until the next read is due, or 0 when it is due now. `fingerprint` sums up
   * everything besides time that should force a read (related objects); a spec change should not
   * wait, so callers read at once when the generation moved. A tenth of the period of slack lets a
   * resync and a requeue that land close together share one read. Within the coalescing window the
   * answer is the window's end whatever changed, so `fingerprint` (which may cost a walk over many
   * objects) is only called once per window, not on every related change.
   */
  dueIn(obj: KubernetesObject, fingerprint: () => string, now = Date.now()): number {
    const entry = this.#entries.get(objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    if (!entry || entry.uid !== obj.metadata?.uid) return 0;
    const elapsed = now - entry.at;
    if (elapsed < this.#coalesceMs) return this.#coalesceMs - elapsed;
    if (entry.fingerprint !== fingerprint()) return 0;
    return elapsed >= this.#periodMs * 0.9 ? 0 : this.#periodMs - elapsed;
  }

  remember(obj: KubernetesObject, fingerprint: string, now = Date.now()): void {
    this.#entries.set(objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ''), { uid: obj.metadata?.uid ?? '', fingerprint, at: now });
  }

  forget(namespace: string, name: string): void {
    this.#entries.delete(objectKey(namespace, name));
  }

  get periodMs(): number {
    return this.#periodMs;
  }
}
