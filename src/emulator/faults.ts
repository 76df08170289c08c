import { normalizeRegion } from '../azure/regions.ts';

/** Faults to inject, set by `--faults FILE` or `POST /_emulator/faults`. */
export interface Faults {
  /** The next `times` replications to `region` fail. */
  regionFailures: { region: string; times: number }[];
  /** The next `requests` ARM requests are answered 429 with this Retry-After. */
  throttle?: { requests: number; retryAfterSeconds: number };
  /** The next `requests` ARM requests are answered 500. */
  serverErrors?: { requests: number };
  /** The next `requests` ARM requests are refused 403, as for a principal without a role assignment. */
  authorizationFailures?: { requests: number };
  /** Added before every ARM answer. */
  latencyMs?: number;
  /** The next `requests` ARM requests hang this long before they are handled (a client's timeout should fire first). */
  hang?: { requests: number; seconds: number };
}

/** The progress at which a doomed replica fails: part-way, as real failures are. */
export const failAtProgress = 40;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${field} must be a non-negative integer`);
  return value;
}

/** Applies a faults document: each key given replaces that fault; keys left out stay as they are. */
export function mergeFaults(current: Faults, update: unknown): Faults {
  if (!isObject(update)) throw new Error('faults must be a JSON object');
  const next: Faults = { ...current };
  if ('regionFailures' in update) {
    if (!Array.isArray(update.regionFailures)) throw new Error('regionFailures must be an array');
    next.regionFailures = update.regionFailures.map((entry: unknown, index) => {
      if (!isObject(entry) || typeof entry.region !== 'string') throw new Error(`regionFailures[${index}].region must be a string`);
      return { region: normalizeRegion(entry.region), times: entry.times === undefined ? 1 : count(entry.times, `regionFailures[${index}].times`) };
    });
  }
  if ('throttle' in update) {
    if (update.throttle === null) delete next.throttle;
    else if (!isObject(update.throttle)) throw new Error('throttle must be an object or null');
    else
      next.throttle = {
        requests: count(update.throttle.requests, 'throttle.requests'),
        retryAfterSeconds: count(update.throttle.retryAfterSeconds ?? 1, 'throttle.retryAfterSeconds'),
      };
  }
  for (const field of ['serverErrors', 'authorizationFailures'] as const) {
    if (!(field in update)) continue;
    const value = update[field];
    if (value !== null && !isObject(value)) throw new Error(`${field} must be an object or null`);
    next[field] = value === null ? undefined : { requests: count(value.requests, `${field}.requests`) };
  }
  if ('hang' in update) {
    if (update.hang === null) delete next.hang;
    else if (!isObject(update.hang)) throw new Error('hang must be an object or null');
    else next.hang = { requests: count(update.hang.requests, 'hang.requests'), seconds: count(update.hang.seconds, 'hang.seconds') };
  }
  if ('latencyMs' in update) {
    if (update.latencyMs === null) delete next.latencyMs;
    else next.latencyMs = count(update.latencyMs, 'latencyMs');
  }
  return next;
}

/** Consumes one failure for `region`, if one is set; returns the progress it will fail at. */
export function takeRegionFailure(faults: Faults, region: string): number | undefined {
  const entry = faults.regionFailures.find((failure) => failure.region === normalizeRegion(region) && failure.times > 0);
  if (!entry) return undefined;
  entry.times -= 1;
  return failAtProgress;
}

/** Consumes one hang, if one is set; returns how long the request hangs. */
export function takeHang(faults: Faults): number | undefined {
  if (!faults.hang || faults.hang.requests <= 0) return undefined;
  faults.hang.requests -= 1;
  return faults.hang.seconds * 1000;
}

export type InjectedAnswer = { kind: 'throttle'; retryAfterSeconds: number } | { kind: 'serverError' } | { kind: 'authorizationFailure' } | undefined;

/** Consumes the fault (if any) the next ARM request meets. */
export function takeRequestFault(faults: Faults): InjectedAnswer {
  if (faults.throttle && faults.throttle.requests > 0) {
    faults.throttle.requests -= 1;
    return { kind: 'throttle', retryAfterSeconds: faults.throttle.retryAfterSeconds };
  }
  if (faults.serverErrors && faults.serverErrors.requests > 0) {
    faults.serverErrors.requests -= 1;
    return { kind: 'serverError' };
  }
  if (faults.authorizationFailures && faults.authorizationFailures.requests > 0) {
    faults.authorizationFailures.requests -= 1;
    return { kind: 'authorizationFailure' };
  }
  return undefined;
}
