// One copy of each string that many cached objects share. JSON.parse makes a new string for every
// value of every object it reads, so 100,000 exports of a few accounts hold 100,000 copies of their
// namespace, account name, source VM id, image name, condition types, reasons and messages, and of
// the timestamps they were written in the same second. Interned, the cache holds each once: the
// benchmark's exports take 1.5 KB of heap each instead of 2.4 KB.

/**
 * A bounded pool: two generations of at most `size` strings each. A string is looked up in both and
 * kept in the young one; when the young one is full it becomes the old one and the previous old
 * one is dropped (the objects holding its strings keep them). So the pool holds at most 2 × size
 * strings, and strings still being seen stay in it.
 */
export class StringPool {
  readonly #size: number;
  #young = new Map<string, string>();
  #old = new Map<string, string>();

  constructor(size: number) {
    this.#size = size;
  }

  /** The pool's copy of `value` (adding `value` when it has none). */
  intern(value: string): string {
    const young = this.#young.get(value);
    if (young !== undefined) return young;
    const pooled = this.#old.get(value) ?? value;
    if (this.#young.size >= this.#size) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(pooled, pooled);
    return pooled;
  }

  /** How many strings the pool holds. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }
}

/** Metadata that is unique to each object: interning it would only churn the pool. */
const UNIQUE_METADATA = new Set(['name', 'uid', 'resourceVersion']);
/** Longer strings are rarely shared (an annotation holding a whole manifest) and are left as they are. */
const MAX_INTERNED_LENGTH = 512;

/** Replaces, in place, every string value of a freshly parsed object by the pool's copy. */
export function internStrings(obj: object, pool: StringPool): void {
  walk(obj, pool, false);
}

function walk(node: object, pool: StringPool, isMetadata: boolean): void {
  const record = node as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (typeof value === 'string') {
      if (value.length <= MAX_INTERNED_LENGTH && !(isMetadata && UNIQUE_METADATA.has(key))) record[key] = pool.intern(value);
    } else if (typeof value === 'object' && value !== null) {
      walk(value, pool, key === 'metadata' && !Array.isArray(node));
    }
  }
}
