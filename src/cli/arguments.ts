import { InvalidArgumentError } from 'commander';
import { SHARD_KEY_PATTERN } from '../api/index.ts';
import { parseDuration } from '../runtime/index.ts';

// Parsers for command-line values, shared by every command, so a bad value gets the same answer everywhere.

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
}

/** Go-style durations, as controller-runtime's flags take them: 10m, 30s, 1h30m. */
export function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A Go-style boolean flag, as controller-runtime's: `--flag` or `--flag=true` is true, `--flag=false` false. */
export function boolean(value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('must be true or false');
}

/** A shard key (`--shard`): a DNS label, since it is a label value and part of the shard's Lease name. */
export function shardKey(value: string): string {
  if (!SHARD_KEY_PATTERN.test(value)) throw new InvalidArgumentError('must be a DNS label: lower-case letters, digits and -, at most 63, starting and ending with a letter or digit');
  return value;
}
