import { isDeepStrictEqual } from 'node:util';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`, or undefined when they are equal.
 * Keys gone from `to` become null (deletion); arrays are replaced whole, as merge patch demands.
 * Properties whose value is undefined count as absent, as JSON.stringify treats them.
 */
export function createMergePatch(from: unknown, to: unknown): Json | undefined {
  if (isObject(from) && isObject(to)) {
    const patch: Record<string, Json> = {};
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined) patch[key] = null;
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      const sub = from[key] === undefined ? (JSON.parse(JSON.stringify(value)) as Json) : createMergePatch(from[key], value);
      if (sub !== undefined) patch[key] = sub;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  if (isDeepStrictEqual(from, to)) return undefined;
  return JSON.parse(JSON.stringify(to ?? null)) as Json;
}
