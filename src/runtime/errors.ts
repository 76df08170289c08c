import { ApiError } from './rest-client.ts';

/** The parts of a metav1.Status that decide what to do with a failed request. */
export interface ApiStatus {
  code: number;
  reason: string;
  message: string;
}

/** client-node's ApiException, by shape: the CLI's tools still talk through client-node. */
interface ClientNodeException {
  code: number;
  body: unknown;
  message: string;
}

function isClientNodeException(err: unknown): err is ClientNodeException {
  return err instanceof Error && typeof (err as Partial<ClientNodeException>).code === 'number' && 'body' in err;
}

/**
 * The API server's Status behind an error: the operator's own ApiError, client-node's ApiException
 * (whose body is raw JSON text for custom objects, parsed for built-in kinds), or anything else
 * carrying a numeric `statusCode`.
 */
export function apiStatus(err: unknown): ApiStatus | undefined {
  if (err instanceof ApiError) return { code: err.statusCode, reason: err.reason, message: err.message };
  if (isClientNodeException(err)) {
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
