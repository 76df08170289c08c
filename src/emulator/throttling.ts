// ARM's request throttling since 2024: a token bucket per subscription, principal, region and
// operation type, and a subscription-wide bucket per operation type that is a multiple of it
// (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
// Written here rather than taken from a rate-limit library because the answer must carry what
// ARM's does: the tokens left in each bucket, and the seconds until the empty one has a token.
import { remainingHeaders, type OperationType } from '../azure/rate-limits.ts';
import { CloudError } from './cloud-error.ts';
import type { BucketConfig, BucketsConfig } from './config.ts';

export { operationTypeOf } from '../azure/rate-limits.ts';

const singular: Record<OperationType, string> = { reads: 'read', writes: 'write', deletes: 'delete' };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface ThrottleRequest {
  subscriptionId: string;
  /** The principal's object id. */
  actor: string;
  /** The ARM region that serves the request: the emulator is one region. */
  region: string;
  type: OperationType;
  now: number;
}

/** The buckets of a running emulator; their levels are not persisted (a restart refills them, as time would). */
export class Throttle {
  readonly #buckets = new Map<string, Bucket>();
  #config: BucketsConfig;

  constructor(config: BucketsConfig) {
    this.#config = config;
  }

  reconfigure(config: BucketsConfig): void {
    this.#config = config;
    this.#buckets.clear();
  }

  /** Takes one token from the principal's and the subscription's bucket; returns the headers ARM sends, or throws its 429. */
  take(request: ThrottleRequest): Record<string, string> {
    if (!this.#config.enabled) return {};
    const shape = this.#shape(this.#config[request.type], 1);
    const globalShape = this.#shape(this.#config[request.type], this.#config.subscriptionMultiplier);
    const subscription = request.subscriptionId.toLowerCase();
    const own = this.#level(`${subscription}|${request.actor}|${request.region}|${request.type}`, shape, request.now);
    const global = this.#level(`${subscription}|${request.region}|${request.type}`, globalShape, request.now);
    const empty = own.tokens < 1 ? { bucket: own, shape, actor: true } : global.tokens < 1 ? { bucket: global, shape: globalShape, actor: false } : undefined;
    if (empty) {
      const seconds = empty.shape.refillPerSecond > 0 ? Math.max(1, Math.ceil((1 - empty.bucket.tokens) / empty.shape.refillPerSecond)) : 3600;
      const who = empty.actor ? ` actor '${request.actor}'` : '';
      throw new CloudError(
        429,
        'SubscriptionRequestsThrottled',
        `Number of '${singular[request.type]}' requests for subscription '${request.subscriptionId}'${who} exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
        { headers: { 'Retry-After': String(seconds), ...this.#headers(request.type, own, global) } },
      );
    }
    own.tokens -= 1;
    global.tokens -= 1;
    return this.#headers(request.type, own, global);
  }

  #shape(bucket: BucketConfig, multiplier: number): BucketConfig {
    const factor = this.#config.scale * multiplier;
    return { size: Math.max(1, Math.round(bucket.size * factor)), refillPerSecond: bucket.refillPerSecond * factor };
  }

  #level(key: string, shape: BucketConfig, now: number): Bucket {
    const bucket = this.#buckets.get(key) ?? { tokens: shape.size, updatedAt: now };
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(shape.size, bucket.tokens + elapsedSeconds * shape.refillPerSecond);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #headers(type: OperationType, own: Bucket, global: Bucket): Record<string, string> {
    const names = remainingHeaders(type);
    return { [names.principal]: String(Math.max(0, Math.floor(own.tokens))), [names.subscription]: String(Math.max(0, Math.floor(global.tokens))) };
  }
}
