// What a reconciler writes to its own object: the finalizer before anything exists in Azure, and
// once per pass the status computed from the pass's Outcome (through the result finalizer), with
// the reconcile request it answered, only when it differs (and, for kinds that allow it, not when
// the next pass is a moment away), with the Events its condition transitions call for.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log.ts';
import {
  READY,
  STALLED,
  addFinalizer,
  findCondition,
  hasFinalizer,
  patchStatus,
  removeFinalizer,
  type Condition,
  type ReconcileContext,
  type ResourceType,
  type Result,
} from '../../runtime/index.ts';
import type { ApiClient, Recorder } from './deps.ts';
import type { Outcome, Released } from './outcome.ts';
import { isReconcileRequested, lastHandledReconcileAt } from './reconcile-request.ts';
import { finalizeResult, runPass } from './result.ts';

type WithStatus = KubernetesObject & { status?: { conditions?: readonly object[] } };

/**
 * An object's conditions as the runtime types them. The API schema leaves a condition's
 * observedGeneration optional (metav1.Condition's), and the operator always writes it.
 */
export function conditionsOf(obj: { status?: { conditions?: readonly object[] } } | undefined): Condition[] | undefined {
  return obj?.status?.conditions as Condition[] | undefined;
}

export function isBeingDeleted(obj: KubernetesObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

/**
 * Events for a status just written: one on every change of Ready's status, and one (Warning) on
 * every new terminal failure (Stalled appearing, or its reason or message changing). A new
 * object's first Ready while it makes progress (Unknown or False, not Stalled) is not news: it gets
 * no Event, which saves an API write per object.
 */
export function recordConditionEvents(recorder: Recorder, obj: KubernetesObject, before: readonly Condition[] | undefined, after: readonly Condition[]): void {
  const ready = findCondition(after, READY);
  if (!ready) return;
  const stalled = findCondition(after, STALLED);
  const was = findCondition(before, STALLED);
  const newFailure = stalled !== undefined && (was?.reason !== stalled.reason || was.message !== stalled.message);
  const wasReady = findCondition(before, READY);
  if (!newFailure && (wasReady?.status === ready.status || (!wasReady && ready.status !== 'True'))) return;
  recorder.event(obj, ready.status === 'False' ? 'Warning' : 'Normal', ready.reason, ready.message);
}

/** How long ago the object was created (creationTimestamp comes as RFC 3339 text); nothing when it does not say. */
function ageOf(obj: KubernetesObject): { ageMs?: number } {
  const created = new Date(obj.metadata?.creationTimestamp ?? Number.NaN).getTime();
  return Number.isNaN(created) ? {} : { ageMs: Date.now() - created };
}

export interface ObjectWriterOptions<T, F> {
  resource: ResourceType;
  /** The kind's finalizer; absent: the kind holds nothing in Azure that deletion must wait for. */
  finalizer?: string;
  /** The kind's status from the object and a pass's Outcome: pure. */
  computeStatus(obj: T, outcome: Outcome<F>, now: Date): { conditions?: readonly object[]; phase?: string };
  client: ApiClient;
  events: Recorder;
  /** How soon a Stalled object whose cause lies outside our watches is looked at again. */
  stalledRecheckMs: number;
  /**
   * Hold back the status of a pass that ends in progress and looks again soon (see `#holdsBack`);
   * absent: every change is written at once. Only for kinds whose next pass does not read back what
   * this one wrote.
   */
  holdBack?: HoldBack;
}

/** When a status write may wait for the next pass. */
export interface HoldBack {
  /** Only when that pass is due within this long... */
  withinMs: number;
  /** ...and only while what is held back is younger than this. */
  atMostMs: number;
}

/** Held-back objects not seen again within this long (deleted meanwhile) are forgotten. */
const HELD_FORGOTTEN_MS = 60_000;

export class ObjectWriter<T extends WithStatus, F> {
  readonly #options: ObjectWriterOptions<T, F>;
  /** Objects (by uid) whose last pass held its status back, and since when: the next pass writes. */
  readonly #held = new Map<string, number>();

  constructor(options: ObjectWriterOptions<T, F>) {
    this.#options = options;
  }

  /** Puts the finalizer on before anything exists in Azure, so nothing there can outlive the object. */
  async ensureFinalizer(obj: T): Promise<T> {
    const { client, resource, finalizer } = this.#options;
    return (finalizer && (await addFinalizer(client, resource, obj, finalizer))) || obj;
  }

  /** Runs one pass over a live object and shows how it ended. */
  async finish(obj: T, pass: () => Promise<Outcome<F> | Released>, { log, signal }: ReconcileContext): Promise<Result> {
    const { client, resource, finalizer, stalledRecheckMs } = this.#options;
    const settled = finalizeResult(await runPass(pass), { stalledRecheckMs, aborted: signal.aborted, ...ageOf(obj) });
    if (settled.rethrow !== undefined) throw settled.rethrow;
    if (settled.note) log.info(settled.note);
    if (settled.released && finalizer) await removeFinalizer(client, resource, obj, finalizer);
    if (settled.outcome) await this.#writeStatus(obj, settled.outcome, settled.result, log);
    return settled.result;
  }

  /** Runs one deletion pass, unless the object no longer carries our finalizer (then it is none of ours). */
  async finishDeletion(obj: T, pass: () => Promise<Outcome<F> | Released>, context: ReconcileContext): Promise<Result> {
    const { finalizer } = this.#options;
    if (!finalizer || !hasFinalizer(obj, finalizer)) return {};
    return await this.finish(obj, pass, context);
  }

  async #writeStatus(obj: T, outcome: Outcome<F>, result: Result, log: Logger): Promise<void> {
    const { client, resource, events, computeStatus } = this.#options;
    const status = { ...computeStatus(obj, outcome, new Date()), ...lastHandledReconcileAt(obj) };
    if (this.#holdsBack(obj, outcome, result)) {
      log.debug({ phase: status.phase, reason: outcome.reason, requeueAfter: result.requeueAfter }, 'status held back: the next pass is a moment away');
      return;
    }
    if (await patchStatus(client, resource, obj, status)) {
      log.debug({ phase: status.phase, reason: outcome.reason }, 'status written');
      recordConditionEvents(events, obj, conditionsOf(obj), conditionsOf({ status }) ?? []);
    }
  }

  /**
   * A pass that ends in progress and looks again within `withinMs` need not show what it found:
   * the next pass, a moment later, shows what is true then. A phase that lasts less than that (an
   * export ARM creates within a second) is never seen by anyone polling, and writing it costs the
   * API server one write per object. Never held back: a change of Ready's status (which has its
   * Event), anything but an in-progress outcome (Ready, Stalled, Failed, held up), the answer to a
   * reconcile request, and a change first held back `atMostMs` ago or more, so nothing is shown
   * later than that.
   */
  #holdsBack(obj: T, outcome: Outcome<F>, result: Result): boolean {
    const { holdBack } = this.#options;
    const uid = obj.metadata?.uid ?? '';
    const now = Date.now();
    const heldSince = this.#held.get(uid) ?? now;
    this.#held.delete(uid);
    if (!holdBack || now - heldSince >= holdBack.atMostMs || outcome.state !== 'progressing') return false;
    if (result.requeueAfter === undefined || result.requeueAfter > holdBack.withinMs) return false;
    // A reconcile asked for is answered now: `labimage reconcile --wait` waits for its echo.
    if (isReconcileRequested(obj)) return false;
    const ready = findCondition(conditionsOf(obj), READY);
    if (ready && ready.status !== 'Unknown') return false;
    // Oldest first (a Map keeps insertion order): forget those whose object went away while held.
    for (const [other, since] of this.#held) {
      if (now - since <= HELD_FORGOTTEN_MS) break;
      this.#held.delete(other);
    }
    this.#held.set(uid, heldSince);
    return true;
  }
}
