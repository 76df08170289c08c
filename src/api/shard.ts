import { GROUP } from './group.ts';

/**
 * The label that gives an object to one shard of the operator, as Flux's sharding.fluxcd.io/key: a
 * replica started with `--shard KEY` takes only objects labelled with KEY, and a replica without a
 * key takes only objects without the label. An object and the objects it refers to (its account,
 * the account's attachment, a template and its export) carry the same key.
 */
export const SHARD_LABEL = `${GROUP}/shard`;

/** A shard key: a DNS label, since it also names the shard's Lease (and is then a valid label value). */
export const SHARD_KEY_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The label selector of a shard's caches: objects labelled with its key, or (no key) objects no shard claims. */
export function shardSelector(key: string | undefined): string {
  return key === undefined ? `!${SHARD_LABEL}` : `${SHARD_LABEL}=${key}`;
}
