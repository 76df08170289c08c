import { isRestError } from '@azure/core-rest-pipeline';

/**
 * An ARM failure the controllers can act on: `code` is ARM's error code (or `HttpNNN` when the
 * body had none) and is fit for a condition's reason; `retryable` says whether trying again
 * without a change from the user can succeed.
 */
export class ArmError extends Error {
  override readonly name = 'ArmError';
  readonly code: string;
  readonly statusCode: number | undefined;
  readonly retryable: boolean;
  /** What the server asked for (Retry-After), when it did. */
  readonly retryAfterMs: number | undefined;
  /** Getting a token failed (Microsoft Entra ID, or the credential itself), before ARM saw the request. */
  readonly fromIdentity: boolean;

  constructor(init: { code: string; message: string; statusCode?: number; retryable: boolean; retryAfterMs?: number; fromIdentity?: boolean }) {
    super(init.message);
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.fromIdentity = init.fromIdentity ?? false;
  }
}

/** The code of a request the ARM client gave up on after its timeout (client.ts): ARM was slow, nothing was refused. */
export const REQUEST_TIMEOUT_CODE = 'RequestTimeout';

// Codes that name a transient condition even when the status code alone would not say so.
const retryableCodes = new Set([
  'Conflict',
  'OperationNotAllowed',
  'TooManyRequests',
  'RetryableError',
  'InternalServerError',
  'InternalExecutionError',
  'ServiceUnavailable',
  'GatewayTimeout',
  'AnotherOperationInProgress',
  'OperationPreempted',
]);

// Network failures (the emulator restarting, a dropped connection, a request we gave up on) clear up by themselves.
const retryableSystemErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', REQUEST_TIMEOUT_CODE]);

/** 429, 5xx, 408 and 409 (a conflicting operation still running) are worth retrying; other 4xx are not. */
export function isRetryableStatus(statusCode: number): boolean {
  return statusCode === 408 || statusCode === 409 || statusCode === 429 || statusCode >= 500;
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Classifies an ARM error body (`{code, message}`, the inside of CloudError) with its HTTP status. */
export function armErrorFromBody(statusCode: number | undefined, body: { code?: string; message?: string } | undefined, retryAfterMs?: number): ArmError {
  const code = body?.code ?? (statusCode === undefined ? 'UnknownError' : `Http${statusCode}`);
  const retryable = (statusCode !== undefined && isRetryableStatus(statusCode)) || retryableCodes.has(code);
  return new ArmError({
    code,
    message: body?.message ?? `ARM answered ${statusCode ?? 'without a status'}`,
    retryable,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** The `{code, message}` inside an ARM CloudError body (`{error: {...}}`), when the body is one. */
export function cloudErrorOf(body: unknown): { code?: string; message?: string } | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  return error && typeof error === 'object' ? (error as { code?: string; message?: string }) : undefined;
}

/** An ARM answer with an error status, as an ArmError: the CloudError body's code and message, and its Retry-After. */
export function armErrorFromResponse(response: { status: number; headers: { get(name: string): string | undefined }; body: unknown }): ArmError {
  return armErrorFromBody(response.status, cloudErrorOf(response.body), parseRetryAfter(response.headers.get('retry-after')));
}

// What @azure/identity throws when it gets no token: Entra ID refused the client (AuthenticationError:
// a wrong or expired secret, an unknown client or tenant), or the credential cannot work where it
// runs (CredentialUnavailableError: no workload identity, no managed identity endpoint). Known by
// name, so that this module does not load @azure/identity.
const identityErrorNames = new Set(['AuthenticationError', 'AggregateAuthenticationError', 'CredentialUnavailableError', 'AuthenticationRequiredError']);

/** An error of token acquisition as an ArmError: a refusal of the credentials, unless Entra ID was only busy or slow. */
function identityError(error: Error): ArmError | undefined {
  if (error.name === 'TokenTimeoutError') return new ArmError({ code: 'TokenRequestTimeout', message: error.message, retryable: true, fromIdentity: true });
  if (!identityErrorNames.has(error.name)) return undefined;
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  const busy = typeof statusCode === 'number' && (statusCode === 429 || statusCode >= 500);
  return new ArmError({ code: error.name, message: error.message, retryable: busy, fromIdentity: true, ...(typeof statusCode === 'number' ? { statusCode } : {}) });
}

/** Turns whatever an SDK call threw into an ArmError. */
export function classifyArmError(error: unknown): ArmError {
  if (error instanceof ArmError) return error;
  const fromIdentity = error instanceof Error ? identityError(error) : undefined;
  if (fromIdentity) return fromIdentity;
  // A call cancelled on our side (shutdown, a reconcile's timeout, or a read shared with one that
  // was): nothing is wrong in Azure, so trying again later can succeed.
  if (error instanceof Error && error.name === 'AbortError') return new ArmError({ code: 'RequestAborted', message: error.message, retryable: true });
  if (isRestError(error)) {
    const retryAfterMs = parseRetryAfter(error.response?.headers.get('retry-after'));
    if (error.statusCode === undefined) {
      const code = error.code ?? 'RequestFailed';
      return new ArmError({ code, message: error.message, retryable: retryableSystemErrors.has(code) });
    }
    return armErrorFromBody(error.statusCode, { ...(error.code ? { code: error.code } : {}), message: error.message }, retryAfterMs);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && retryableSystemErrors.has(code)) {
    return new ArmError({ code, message: String((error as Error).message), retryable: true });
  }
  return new ArmError({ code: 'UnknownError', message: error instanceof Error ? error.message : String(error), retryable: false });
}

export function isNotFound(error: ArmError): boolean {
  return error.statusCode === 404;
}

/**
 * Azure refused who we are (401, or no token from Entra ID) or what we may do (403): only new
 * credentials or role assignments help.
 */
export function isCredentialRejection(error: ArmError): boolean {
  if (error.fromIdentity) return !error.retryable;
  return error.statusCode === 401 || error.statusCode === 403;
}

/** Whatever an SDK call threw was @azure/identity refusing the credentials (for the pipeline, before classification). */
export function isIdentityRejection(error: unknown): boolean {
  const classified = error instanceof Error ? identityError(error) : undefined;
  return classified !== undefined && !classified.retryable;
}
