import type { OperationState, PollerLike } from '@azure/core-lro';
import type { ArmClient } from './client.ts';
import { ArmError, armErrorFromBody, armErrorFromResponse, classifyArmError, cloudErrorOf, parseRetryAfter } from './errors.ts';

/**
 * A started ARM long-running operation, as plain JSON. A controller keeps it in memory to poll it
 * in a later reconcile, for its Retry-After and its error; it is never written to status, so a
 * process that restarts has none and observes the resource itself instead.
 */
export interface OperationHandle {
  /** The SDK operation that started it, e.g. `galleryImageVersions.createOrUpdate`. */
  operation: string;
  resourceId: string;
  /** Absent when ARM finished the operation in its first answer. */
  pollUrl?: string;
  pollVia?: 'Azure-AsyncOperation' | 'Location';
  startedAt: string;
  /** Retry-After, as a time: polling before it is pointless and is not done. */
  notBefore: string;
}

export type OperationStatus =
  | { state: 'InProgress'; handle: OperationHandle; retryAfterMs: number }
  | { state: 'Succeeded' }
  | { state: 'Failed'; error: ArmError };

/** When ARM gives no Retry-After. */
export const defaultPollIntervalMs = 5_000;

/** The shortest wait before looking at an operation again, so that one ARM finished at once is not polled in a tight loop. */
export const MIN_REQUEUE_MS = 500;

/** When to look at ARM again after it said "not before" `notBefore` (an operation's Retry-After): then, and at least MIN_REQUEUE_MS from now. */
export function requeueAfter(handle: Pick<OperationHandle, 'notBefore'>, now = Date.now()): number {
  return retryAfter(Date.parse(handle.notBefore) - now);
}

/** A wait ARM asked for (Retry-After, in milliseconds), held to at least MIN_REQUEUE_MS. */
export function retryAfter(ms: number): number {
  return Math.max(MIN_REQUEUE_MS, ms);
}

interface InitialResponse {
  status: number;
  headers: { get(name: string): string | undefined };
}

export function handleFromInitialResponse(operation: string, resourceId: string, response: InitialResponse, now = Date.now()): OperationHandle {
  const asyncOperation = response.headers.get('azure-asyncoperation');
  const location = response.headers.get('location');
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now) ?? 0;
  const base = { operation, resourceId, startedAt: new Date(now).toISOString(), notBefore: new Date(now + retryAfterMs).toISOString() };
  if (asyncOperation) return { ...base, pollUrl: asyncOperation, pollVia: 'Azure-AsyncOperation' };
  if (location && response.status === 202) return { ...base, pollUrl: location, pollVia: 'Location' };
  return base;
}

/** A handle for work ARM has already finished (or that was never needed, like deleting what is gone). */
export function completedHandle(operation: string, resourceId: string, now = Date.now()): OperationHandle {
  const at = new Date(now).toISOString();
  return { operation, resourceId, startedAt: at, notBefore: at };
}

/**
 * Sends an operation's first request through the SDK and returns as soon as ARM has accepted
 * it; the SDK's poller is dropped, so nothing keeps polling in the background.
 */
export async function startOperation<T>(
  operation: string,
  resourceId: string,
  begin: (options: { onResponse: (response: InitialResponse) => void; abortSignal?: AbortSignal }) => PollerLike<OperationState<T>, T>,
  signal?: AbortSignal,
): Promise<OperationHandle> {
  let initial: InitialResponse | undefined;
  const poller = begin({ onResponse: (response) => (initial ??= response), ...(signal ? { abortSignal: signal } : {}) });
  try {
    await poller.submitted();
  } catch (error) {
    throw classifyArmError(error);
  }
  if (!initial) throw new ArmError({ code: 'NoResponse', message: `${operation} returned without a response`, retryable: true });
  return handleFromInitialResponse(operation, resourceId, initial);
}

/**
 * One look at an operation. Never waits: before the handle's Retry-After it answers InProgress
 * without a request, and otherwise sends exactly one GET (plus the pipeline's own retries).
 *
 * Followed as ARM's two protocols say: an `Azure-AsyncOperation` URL answers 200 with the
 * operation's `status`; a `Location` URL (the only one some operations give, such as a resource
 * group's or a deployment's DELETE) answers 202 while it runs, 200 or 204 once it succeeded, and an
 * error status with the operation's error once it failed.
 */
export async function pollOperation(client: ArmClient, handle: OperationHandle, now = Date.now(), signal?: AbortSignal): Promise<OperationStatus> {
  if (!handle.pollUrl) return { state: 'Succeeded' };
  const waitMs = Date.parse(handle.notBefore) - now;
  if (waitMs > 0) return { state: 'InProgress', handle, retryAfterMs: waitMs };

  const response = await client.send('GET', handle.pollUrl, signal ? { signal } : {});
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? defaultPollIntervalMs;
  const inProgress = (): OperationStatus => ({
    state: 'InProgress',
    handle: { ...handle, notBefore: new Date(now + retryAfterMs).toISOString() },
    retryAfterMs,
  });
  if (response.status >= 400) {
    const error = armErrorFromResponse(response);
    // Throttling or a server error on the poll says nothing of the operation: look again later.
    if (handle.pollVia === 'Location' && !error.retryable) return { state: 'Failed', error };
    throw error;
  }
  if (handle.pollVia === 'Location') return response.status === 202 ? inProgress() : { state: 'Succeeded' };
  const status = String((response.body as { status?: unknown } | undefined)?.status ?? '').toLowerCase();
  if (status === 'succeeded') return { state: 'Succeeded' };
  if (status === 'failed' || status === 'canceled' || status === 'cancelled') {
    const error = armErrorFromBody(undefined, cloudErrorOf(response.body) ?? { code: 'OperationFailed', message: `${handle.operation} ${status}` });
    return { state: 'Failed', error };
  }
  return inProgress();
}
