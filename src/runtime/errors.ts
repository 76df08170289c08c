import { ApiException } from '@kubernetes/client-node';

/** The parts of a metav1.Status that decide what to do with a failed request. */
export interface ApiStatus {
  code: number;
  reason: string;
  message: string;
}

/**
 * The API server's Status behind an error. For custom objects client-node leaves
 * `ApiException.body` as the raw JSON string, for built-in kinds it is parsed; both are handled.
 * Watch failures carry only `statusCode`.
 */
export function apiStatus(err: unknown): ApiStatus | undefined {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        body = undefined;
      }
    }
    const status = (typeof body === 'object' && body !== null ? body : {}) as { reason?: unknown; message?: unknown };
    return {
      code: err.code,
      reason: typeof status.reason === 'string' ? status.reason : '',
      message: typeof status.message === 'string' ? status.message : err.message,
    };
  }
  if (typeof err === 'object' && err !== null && typeof (err as { statusCode?: unknown }).statusCode === 'number') {
    return { code: (err as { statusCode: number }).statusCode, reason: '', message: String((err as Error).message) };
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatus(err)?.code === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err)?.code === 409 && apiStatus(err)?.reason !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown): boolean => apiStatus(err)?.reason === 'AlreadyExists';
export const isGone = (err: unknown): boolean => apiStatus(err)?.code === 410;
