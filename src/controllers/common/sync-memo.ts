import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from '../../runtime/index.ts';
import { isReconcileRequested } from './reconcile-request.ts';

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
   * objects) is only called once per window, not on every related change. A caller may widen the
   * window for one answer (`coalesceMs`), e.g. while the related objects are still changing. A
   * reconcile asked for (labimages.io/requestedAt) is due at once.
   */
  dueIn(obj: KubernetesObject, fingerprint: () => string, now = Date.now(), coalesceMs = this.#coalesceMs): number {
    if (isReconcileRequested(obj)) return 0;
    const entry = this.#entries.get(objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ''));
    if (!entry || entry.uid !== obj.metadata?.uid) return 0;
    const elapsed = now - entry.at;
    if (elapsed < coalesceMs) return coalesceMs - elapsed;
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
