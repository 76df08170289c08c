// What one pass over an object found, in one vocabulary for every kind: its kstatus state with a
// reason and a message, what it observed (in the kind's terms), and when to look again.
import type { Conditions } from '../../runtime/index.ts';
import type { StalledReason } from './stalled.ts';

export type OutcomeState =
  /** Done: Ready=True. */
  | 'ready'
  /** Work under way, or waiting for something that comes by itself: Reconciling=True, Ready=Unknown. */
  | 'progressing'
  /** Held up by something that clears by itself: Reconciling=True, Ready=False. */
  | 'retrying'
  /** Only a change from the user can help: Stalled=True, Ready=False. */
  | 'stalled';

export interface Outcome<F = unknown> {
  state: OutcomeState;
  /** CamelCase, as a condition's reason. */
  reason: string;
  message: string;
  /** What the pass observed, in the kind's terms. Absent (a pass that failed): status keeps what it says. */
  found?: F;
  /** Look again after this long; absent: when something watched changes. A Stalled outcome's comes from the recheck table. */
  requeueAfter?: number;
}

/** A deletion pass with nothing left to do: the finalizer may go. */
export const RELEASED: unique symbol = Symbol('released');
export type Released = typeof RELEASED;

type Extras<F> = Pick<Outcome<F>, 'found' | 'requeueAfter'>;

function outcome<F>(state: OutcomeState, reason: string, message: string, extras: Extras<F>): Outcome<F> {
  return {
    state,
    reason,
    message,
    ...(extras.found === undefined ? {} : { found: extras.found }),
    ...(extras.requeueAfter === undefined ? {} : { requeueAfter: extras.requeueAfter }),
  };
}

export const ready = <F>(reason: string, message: string, extras: Extras<F> = {}) => outcome('ready', reason, message, extras);
export const progressing = <F>(reason: string, message: string, extras: Extras<F> = {}) => outcome('progressing', reason, message, extras);
export const retrying = <F>(reason: string, message: string, extras: Extras<F> = {}) => outcome('retrying', reason, message, extras);
/** Every Stalled reason is declared in STALLED_REASONS, with whether it is looked at again. */
export const stalled = <F>(reason: StalledReason, message: string, found?: F) => outcome<F>('stalled', reason, message, { found });

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'object' && value !== null && 'state' in value && 'reason' in value && 'message' in value;
}

/** The kstatus conditions of an outcome's state: Ready, Reconciling and Stalled. */
export function markState(conditions: Conditions, { state, reason, message }: Outcome): void {
  switch (state) {
    case 'ready':
      conditions.ready(reason, message);
      break;
    case 'progressing':
      conditions.reconciling(reason, message);
      break;
    case 'retrying':
      conditions.retrying(reason, message);
      break;
    case 'stalled':
      conditions.stalled(reason, message);
      break;
  }
}
