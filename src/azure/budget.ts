// Pacing within ARM's budget. ARM throttles with token buckets per subscription × principal (and
// per subscription), and tells in every answer how many tokens are left
// (x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}, and -global- for the
// subscription's). The operator keeps a model of those buckets, fed by those headers and refilled
// at ARM's published rates, and consults it before every request: a request whose token is there
// goes, one whose token comes within a moment waits for it, and one that would wait longer is
// handed back as a "not before" (a retryable ArmError with retryAfterMs), so its reconcile is
// requeued and its worker freed, as with a long Retry-After. The token stays reserved for that
// request (by method and URL) until it comes again: workers are never all asleep on one bucket
// while requests of another (replication polls, while exports are being written) could go, and
// the requests handed back come again one per token, not all at once. A 429 stays possible (other clients
// spend the same budget) and is handled as before: the fallback, not what steers.
//
// Written here rather than taken from a rate-limit library: the buckets' levels must be corrected
// by what ARM answers, which none of those take.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Counter } from 'prom-client';
import { ArmError, parseRetryAfter } from './errors.ts';
import { ARM_BUCKETS, SUBSCRIPTION_BUCKET_MULTIPLIER, operationTypeOf, remainingHeaders, type BucketShape, type OperationType } from './rate-limits.ts';

/**
 * A bucket as the client models it: tokens refill continuously; below zero they are promised to
 * requests waiting for them. ARM's bucket starts refilling when a request *arrives* at a full one,
 * later than the client sent it: so a full modelled bucket that a request draws on stops refilling
 * until an answer comes back, and refills from then on. Otherwise the model would run ahead of ARM
 * by the first request's latency, for as long as the bucket stays below full.
 *
 * A bucket ARM has never reported on is counted but holds nothing back: an endpoint that sends no
 * x-ms-ratelimit-remaining-* headers (the emulator with its buckets off) has no budget to keep to.
 */
class ModelledBucket {
  readonly #shape: BucketShape;
  #tokens: number;
  #at: number;
  #waitingForAnswer = false;
  #reported = false;

  constructor(shape: BucketShape, now: number) {
    this.#shape = shape;
    this.#tokens = shape.size;
    this.#at = now;
  }

  /** Takes a token: how long until it is there (0: now). */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= this.#shape.size) this.#waitingForAnswer = true;
    this.#tokens -= 1;
    return this.#tokens >= 0 || !this.#reported ? 0 : Math.ceil((-this.#tokens / this.#shape.refillPerSecond) * 1000);
  }

  /** An answer came (with or without a count of what is left): refilling goes on from now. */
  answered(now: number): void {
    this.#refill(now);
    this.#waitingForAnswer = false;
  }

  /** A token taken for a request that did not go. */
  giveBack(now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#shape.size, this.#tokens + 1);
  }

  /** What ARM says is left: never count on more (others spend it too), keep what is already promised. */
  observe(remaining: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#tokens, remaining);
    this.#reported = true;
  }

  #refill(now: number): void {
    if (now <= this.#at) return;
    if (!this.#waitingForAnswer) this.#tokens = Math.min(this.#shape.size, this.#tokens + ((now - this.#at) / 1000) * this.#shape.refillPerSecond);
    this.#at = now;
  }
}

export interface ArmBudgetOptions {
  /** A principal's buckets; default: ARM's published ones. */
  shapes?: Readonly<Record<OperationType, BucketShape>>;
  subscriptionMultiplier?: number;
  /** The longest a request waits in-process for its token; a longer wait is handed back to the reconcile. Default 250 ms. */
  maxInlineWaitMs?: number;
}

/** How long a request waits in-process for its token at most: a worker is not held for a queue of them. */
const DEFAULT_MAX_INLINE_WAIT_MS = 250;

/** How late a request handed back may come and still go on the token kept for it. */
const LATE_RESERVATION_MS = 1000;

/** How long after its time a reservation is kept for a request that does not come again. */
const RESERVATION_KEPT_MS = 60_000;

/** The code of a request the pacing handed back: it never left this process. */
export const ARM_BUDGET_EXHAUSTED = 'ArmBudgetExhausted';

function handBack(type: OperationType, subscription: string, retryAfterMs: number): ArmError {
  return new ArmError({
    code: ARM_BUDGET_EXHAUSTED,
    message: `ARM's ${type} budget for subscription ${subscription} is spent for now: the next request in ${(retryAfterMs / 1000).toFixed(1)} s`,
    retryable: true,
    retryAfterMs,
  });
}

/** The client-side model of ARM's budget, one per operator, shared by every account's client. */
export class ArmBudget {
  readonly #buckets = new Map<string, ModelledBucket>();
  readonly #shapes: Readonly<Record<OperationType, BucketShape>>;
  readonly #multiplier: number;
  readonly #maxInlineWaitMs: number;
  /** Tokens kept for requests handed back, by `METHOD url`: when each may go. */
  readonly #reservations = new Map<string, number>();

  constructor(options: ArmBudgetOptions = {}) {
    this.#shapes = options.shapes ?? ARM_BUCKETS;
    this.#multiplier = options.subscriptionMultiplier ?? SUBSCRIPTION_BUCKET_MULTIPLIER;
    this.#maxInlineWaitMs = options.maxInlineWaitMs ?? DEFAULT_MAX_INLINE_WAIT_MS;
  }

  /**
   * Takes a token for one request from the principal's bucket and the subscription's: how long to
   * wait for them (0: go now). Throws the hand-back when that would be longer than the inline limit.
   */
  reserve(subscription: string, principal: string, type: OperationType, request: string, now = Date.now()): number {
    const reserved = this.#reservations.get(request);
    if (reserved !== undefined) {
      // Its token was taken when it was handed back: it goes at its time, with no other.
      if (reserved - now > this.#maxInlineWaitMs) throw handBack(type, subscription, reserved - now);
      this.#reservations.delete(request);
      // Later than its time (its reconcile waited in the queue), ARM's bucket has moved on without
      // it: its token stays spent, and it takes a new one as any request.
      if (now - reserved <= LATE_RESERVATION_MS) return Math.max(0, reserved - now);
    }
    const buckets = this.#bucketsOf(subscription, principal, type, now);
    const waitMs = Math.max(...buckets.map((bucket) => bucket.take(now)));
    if (waitMs <= this.#maxInlineWaitMs) return waitMs;
    this.#forgetStaleReservations(now);
    this.#reservations.set(request, now + waitMs);
    throw handBack(type, subscription, waitMs);
  }

  /** A request handed back that never came again (its object was deleted, say): its token stays spent. */
  #forgetStaleReservations(now: number): void {
    for (const [request, at] of this.#reservations) if (now - at > RESERVATION_KEPT_MS) this.#reservations.delete(request);
  }

  /** Gives back the tokens of a request that never reached ARM (cancelled while it waited). */
  release(subscription: string, principal: string, type: OperationType, now = Date.now()): void {
    for (const bucket of this.#bucketsOf(subscription, principal, type, now)) bucket.giveBack(now);
  }

  /** What ARM's answer says of the budget. A 429 that says nothing more empties the principal's bucket until its Retry-After. */
  observe(subscription: string, principal: string, type: OperationType, answer: { status: number; headers: { get(name: string): string | undefined } }, now = Date.now()): void {
    const [own, all] = this.#bucketsOf(subscription, principal, type, now);
    own?.answered(now);
    all?.answered(now);
    const names = remainingHeaders(type);
    const remaining = (name: string) => {
      const value = Number(answer.headers.get(name));
      return answer.headers.get(name) === undefined || !Number.isFinite(value) ? undefined : value;
    };
    const principalLeft = remaining(names.principal);
    const subscriptionLeft = remaining(names.subscription);
    if (principalLeft !== undefined) own?.observe(principalLeft, now);
    if (subscriptionLeft !== undefined) all?.observe(subscriptionLeft, now);
    if (answer.status === 429 && principalLeft === undefined && subscriptionLeft === undefined) {
      const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'), now) ?? 1000;
      own?.observe(-Math.ceil((retryAfterMs / 1000) * this.#shapes[type].refillPerSecond), now);
    }
  }

  #bucketsOf(subscription: string, principal: string, type: OperationType, now: number): ModelledBucket[] {
    const shape = this.#shapes[type];
    const keys: [string, BucketShape][] = [
      [`${subscription}|${principal}|${type}`, shape],
      [`${subscription}|*|${type}`, { size: shape.size * this.#multiplier, refillPerSecond: shape.refillPerSecond * this.#multiplier }],
    ];
    return keys.map(([key, bucketShape]) => {
      let bucket = this.#buckets.get(key);
      if (!bucket) this.#buckets.set(key, (bucket = new ModelledBucket(bucketShape, now)));
      return bucket;
    });
  }
}

/**
 * Who ARM counts a request against: the object id (`oid`) of the bearer token's principal, or,
 * for a token that is not a JWT (the emulator's static ones), a digest of it.
 */
function principalOf(authorization: string | undefined, seen: Map<string, string>): string {
  const token = authorization?.replace(/^Bearer\s+/i, '');
  if (!token) return 'anonymous';
  let principal = seen.get(token);
  if (principal) return principal;
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid?: unknown };
    principal = typeof claims.oid === 'string' ? `oid:${claims.oid}` : undefined;
  } catch {
    principal = undefined;
  }
  principal ??= `token:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
  // Tokens are renewed hourly: a small memory of them is enough.
  if (seen.size >= 64) seen.clear();
  seen.set(token, principal);
  return principal;
}

const SUBSCRIPTION = /\/subscriptions\/([^/?]+)/i;

/**
 * Paces every request (retries and operation polls included) to `budget`. It runs after the Sign
 * phase, which sets the token that says who the principal is; requests outside a subscription
 * (none the operator sends) go as they are.
 */
export function armBudgetPolicy(budget: ArmBudget, paced?: Counter<'type' | 'outcome'>): PipelinePolicy {
  const principals = new Map<string, string>();
  return {
    name: 'labimagesArmBudgetPolicy',
    async sendRequest(request, next) {
      const subscription = SUBSCRIPTION.exec(new URL(request.url).pathname)?.[1]?.toLowerCase();
      if (!subscription) return await next(request);
      const principal = principalOf(request.headers.get('authorization'), principals);
      const type = operationTypeOf(request.method);
      let waitMs: number;
      try {
        waitMs = budget.reserve(subscription, principal, type, `${request.method} ${request.url}`);
      } catch (error) {
        paced?.inc({ type, outcome: 'deferred' });
        throw error;
      }
      if (waitMs > 0) {
        paced?.inc({ type, outcome: 'waited' });
        try {
          await delay(waitMs, undefined, request.abortSignal ? { signal: request.abortSignal as AbortSignal } : {});
        } catch (error) {
          budget.release(subscription, principal, type);
          throw error;
        }
      }
      const response = await next(request);
      budget.observe(subscription, principal, type, response);
      return response;
    },
  };
}
