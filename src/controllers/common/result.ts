// The result finalizer: the one place that turns how a pass ended (an Outcome returned, or an
// error thrown) into what status shows and when the object is looked at again, for every kind.
// The rules (README, Decisions):
// - a returned Outcome is shown as it is; a Stalled one is looked at again after the recheck
//   period only when its cause lies outside our watches (stalled.ts);
// - a Secret missing within SECRET_DEADLINE_MS of the object's creation is waited for
//   (Reconciling, looked at again soon), not Stalled: a sync creates both together;
// - StalledError: Stalled with its reason, rechecked as its reason says;
// - ARM refusing the credentials (401/403), or Entra ID giving no token for them: Stalled
//   CredentialsRejected, rechecked (the account connector has already dropped its cached
//   credentials, so the next pass reads the Secret again);
// - any other terminal ARM error: Stalled with ARM's code as reason, rechecked;
// - a transient ARM error (throttling, 5xx, network): status is left as it is, since nothing
//   changed that a user can act on and a Ready object must not flap, and the object is looked at
//   again after ARM's Retry-After, or after the work queue's per-key backoff when ARM gave none;
// - a pass cut short by its AbortSignal (shutdown, the reconcile timeout): nothing is written,
//   and the key goes back through the queue's backoff;
// - anything else is not ours to judge: it is rethrown to the controller, which logs it and backs off.
import { ArmError, isCredentialRejection, retryAfter } from '../../azure/index.ts';
import type { Result } from '../../runtime/index.ts';
import { RELEASED, type Outcome, type Released } from './outcome.ts';
import { SECRET_DEADLINE_MS, StalledError, isAwaitedSecret, isRechecked } from './stalled.ts';

/** How a pass ended. */
export type Ending<F> = { outcome: Outcome<F> | Released } | { error: unknown };

export interface Settled<F> {
  /** What status shows; absent: status stays as it is. */
  outcome?: Outcome<F>;
  /** A deletion is done: the finalizer goes. */
  released?: true;
  result: Result;
  /** Why nothing is shown (a transient failure, an abort), for the log. */
  note?: string;
  /** Not ours to judge: rethrow. */
  rethrow?: unknown;
}

export interface ResultPolicy {
  stalledRecheckMs: number;
  /** The pass's AbortSignal had fired. */
  aborted: boolean;
  /** How long ago the object was created; absent: unknown, as if long ago. */
  ageMs?: number;
}

/** How often a Secret within its deadline is looked for (the operator does not watch Secrets). */
const AWAITED_SECRET_POLL_MS = 2_000;

export async function runPass<F>(pass: () => Promise<Outcome<F> | Released>): Promise<Ending<F>> {
  try {
    return { outcome: await pass() };
  } catch (error) {
    return { error };
  }
}

export function finalizeResult<F>(ending: Ending<F>, policy: ResultPolicy): Settled<F> {
  const settled = settle(ending, policy);
  const outcome = settled.outcome;
  if (outcome?.state !== 'stalled' || !isAwaitedSecret(outcome.reason, policy.ageMs)) return settled;
  const waited = SECRET_DEADLINE_MS / 1000;
  return {
    outcome: { ...outcome, state: 'retrying', message: `${outcome.message} (waiting for it until ${waited} s after this object was created, as a sync may create it alongside; Stalled after that)` },
    result: { requeueAfter: Math.min(policy.stalledRecheckMs, AWAITED_SECRET_POLL_MS) },
  };
}

function settle<F>(ending: Ending<F>, policy: ResultPolicy): Settled<F> {
  if ('outcome' in ending) {
    if (ending.outcome === RELEASED) return { released: true, result: {} };
    return { outcome: ending.outcome, result: resultOf(ending.outcome, policy.stalledRecheckMs) };
  }
  const { error } = ending;
  if (policy.aborted) return { result: { requeue: true }, note: `the pass was cut short: ${error instanceof Error ? error.message : String(error)}` };
  if (error instanceof StalledError) return settledStalled<F>(error.reason, error.message, policy);
  if (!(error instanceof ArmError)) return { result: {}, rethrow: error };
  if (isCredentialRejection(error)) {
    return settledStalled<F>('CredentialsRejected', `Azure refused the account's credentials: ${armAnswer(error)}: fix the credentials or the identity's role assignments`, policy);
  }
  if (!error.retryable) return settledStalled<F>(armReason(error), armAnswer(error), policy);
  const result = error.retryAfterMs === undefined ? { requeue: true } : { requeueAfter: retryAfter(error.retryAfterMs) };
  return { result, note: `ARM failed transiently: ${armAnswer(error)}` };
}

/** When an Outcome asks to be looked at again. */
export function resultOf(outcome: Outcome, stalledRecheckMs: number): Result {
  if (outcome.state === 'stalled') return isRechecked(outcome.reason) ? { requeueAfter: stalledRecheckMs } : {};
  return outcome.requeueAfter && outcome.requeueAfter > 0 ? { requeueAfter: outcome.requeueAfter } : {};
}

function settledStalled<F>(reason: string, message: string, policy: ResultPolicy): Settled<F> {
  const outcome: Outcome<F> = { state: 'stalled', reason, message };
  return { outcome, result: resultOf(outcome, policy.stalledRecheckMs) };
}

/** ARM's code when it is fit for a condition reason (CamelCase), else a generic one. */
export function armReason(error: ArmError): string {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(error.code) ? error.code : 'ArmError';
}

/** What ARM (or, for a token, Microsoft Entra ID) answered, for a condition's message: its code, the HTTP status and its message. */
export function armAnswer(error: ArmError): string {
  return `${error.fromIdentity ? 'Microsoft Entra ID' : 'ARM'} answered ${error.code}${error.statusCode ? ` (HTTP ${error.statusCode})` : ''}: ${error.message}`;
}
