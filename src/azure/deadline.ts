import type { GetTokenOptions } from '@azure/core-auth';

/** The SDK's AbortSignalLike (from @azure/abort-controller, which is not ours to depend on). */
type AbortSignalLike = NonNullable<GetTokenOptions['abortSignal']>;

/** A caller's signal with a time limit added, and which of the two fired. */
export interface Deadline {
  signal: AbortSignal;
  /** The limit passed before the caller gave up. */
  readonly expired: boolean;
  /** Stops the timer and lets go of the caller's signal. */
  dispose(): void;
}

/**
 * A signal that fires when the caller's does (an SDK `AbortSignalLike`, which AbortSignal.any does
 * not take) or after `timeoutMs`, whichever comes first.
 */
export function deadline(caller: AbortSignalLike | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onCallerAbort = () => controller.abort(new DOMException('The operation was aborted.', 'AbortError'));
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`No answer within ${timeoutMs} ms.`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref();
  if (caller?.aborted) onCallerAbort();
  else caller?.addEventListener('abort', onCallerAbort);
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    },
  };
}
