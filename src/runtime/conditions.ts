/**
 * Conditions with the kstatus contract (sigs.k8s.io/cli-utils/pkg/kstatus) and metav1.Condition's
 * rules, in the shape of Flux's condition helpers: `Ready` is the summary; `Reconciling` and `Stalled`
 * are "abnormal-true" conditions, present only while True; `lastTransitionTime` moves only when a
 * condition's status changes; every condition carries the generation it was computed from.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export const READY = 'Ready';
export const RECONCILING = 'Reconciling';
export const STALLED = 'Stalled';

// metav1.Condition's validation: reason is CamelCase, message at most 32768 characters.
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const TYPE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const MAX_MESSAGE = 32768;

/** metav1.Time's wire format: RFC 3339 in UTC, whole seconds. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * A working copy of an object's conditions for one reconcile. Start from what the object has,
 * mark what the reconcile found, then write `list()` into status. Types keep the order they had, and
 * new ones are appended, so recomputing an unchanged state gives a deep-equal array (and no write).
 */
export class Conditions {
  readonly #conditions: Condition[];
  readonly #generation: number;
  readonly #now: Date;

  constructor(existing: readonly Condition[] | undefined, generation: number, now: Date = new Date()) {
    this.#conditions = (existing ?? []).map((c) => ({ ...c }));
    this.#generation = generation;
    this.#now = now;
  }

  get(type: string): Condition | undefined {
    return findCondition(this.#conditions, type);
  }

  isTrue(type: string): boolean {
    return this.get(type)?.status === 'True';
  }

  set(type: string, status: ConditionStatus, reason: string, message: string): this {
    if (!TYPE.test(type)) throw new Error(`invalid condition type ${JSON.stringify(type)}`);
    if (!REASON.test(reason)) throw new Error(`invalid condition reason ${JSON.stringify(reason)}: must be CamelCase`);
    const text = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) : message;
    const current = this.get(type);
    const next: Condition = {
      type,
      status,
      reason,
      message: text,
      lastTransitionTime: current && current.status === status ? current.lastTransitionTime : metaTime(this.#now),
      observedGeneration: this.#generation,
    };
    if (current) this.#conditions.splice(this.#conditions.indexOf(current), 1, next);
    else this.#conditions.push(next);
    return this;
  }

  markTrue(type: string, reason: string, message: string): this {
    return this.set(type, 'True', reason, message);
  }

  markFalse(type: string, reason: string, message: string): this {
    return this.set(type, 'False', reason, message);
  }

  markUnknown(type: string, reason: string, message: string): this {
    return this.set(type, 'Unknown', reason, message);
  }

  delete(type: string): this {
    const i = this.#conditions.findIndex((c) => c.type === type);
    if (i >= 0) this.#conditions.splice(i, 1);
    return this;
  }

  /** Work is under way: Reconciling=True, Ready=Unknown with the same reason, no Stalled. */
  reconciling(reason: string, message: string): this {
    this.delete(STALLED);
    this.markTrue(RECONCILING, reason, message);
    return this.markUnknown(READY, reason, message);
  }

  /**
   * A failure the controller retries on its own (a timeout, a 5xx, throttling): Ready=False, but
   * still Reconciling=True so kstatus reports InProgress rather than Failed.
   */
  retrying(reason: string, message: string): this {
    this.delete(STALLED);
    this.markTrue(RECONCILING, reason, message);
    return this.markFalse(READY, reason, message);
  }

  /** Cannot go on without a change from the user: Stalled=True, Ready=False, no Reconciling. */
  stalled(reason: string, message: string): this {
    this.delete(RECONCILING);
    this.markTrue(STALLED, reason, message);
    return this.markFalse(READY, reason, message);
  }

  /** Done: Ready=True, neither Reconciling nor Stalled. */
  ready(reason: string, message: string): this {
    this.delete(RECONCILING).delete(STALLED);
    return this.markTrue(READY, reason, message);
  }

  list(): Condition[] {
    return this.#conditions.map((c) => ({ ...c }));
  }
}
