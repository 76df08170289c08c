import { retryPolicy, type PipelinePolicy, type RetryStrategy } from '@azure/core-rest-pipeline';
import { parseRetryAfter } from './errors.ts';

export interface ArmRetryOptions {
  /** Attempts after the first. */
  maxRetries: number;
  /**
   * The longest Retry-After waited for inside a call. A longer one is handed back to the caller
   * (as ArmError.retryAfterMs) so a controller requeues instead of holding a worker.
   */
  maxInlineWaitMs: number;
  /** First delay of the exponential backoff for 5xx and network errors. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultArmRetryOptions: ArmRetryOptions = { maxRetries: 3, maxInlineWaitMs: 10_000, baseDelayMs: 800, maxDelayMs: 10_000 };

const networkErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Exponential backoff with full jitter over the upper half, so retries of many callers spread out. */
export function backoffDelayMs(retryCount: number, options: Pick<ArmRetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retryCount);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * What the SDK's default retry does, with two changes: Retry-After is obeyed exactly (never
 * shortened), and a Retry-After longer than `maxInlineWaitMs` is not waited for in-process.
 */
export function armRetryStrategy(options: ArmRetryOptions): RetryStrategy {
  return {
    name: 'labimagesArmRetryStrategy',
    retry({ retryCount, response, responseError }) {
      const status = response?.status;
      if (status === 429 || status === 503) {
        const waitMs = parseRetryAfter(response?.headers.get('retry-after'));
        if (waitMs !== undefined) return waitMs <= options.maxInlineWaitMs ? { retryAfterInMs: waitMs } : { skipStrategy: true };
      }
      const transientStatus = status !== undefined && (status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505));
      const networkError = responseError?.code !== undefined && networkErrors.has(responseError.code);
      if (transientStatus || (status === undefined && networkError)) return { retryAfterInMs: backoffDelayMs(retryCount, options) };
      return { skipStrategy: true };
    },
  };
}

export function armRetryPolicy(options: ArmRetryOptions): PipelinePolicy {
  const policy = retryPolicy([armRetryStrategy(options)], { maxRetries: options.maxRetries });
  return { name: 'labimagesArmRetryPolicy', sendRequest: policy.sendRequest };
}
