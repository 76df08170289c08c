// ARM reads that many reconciles repeat within moments of each other (the image definition and the
// source VM that a burst of exports share), answered from one read for a few seconds.

/**
 * Keeps each answer `ttlMs`, when `keep` says it is worth keeping (a settled resource, not one
 * still provisioning nor a 404), and lets callers asking at once share one read. Only an
 * optimisation: an answer at most `ttlMs` old stands in for a fresh one, so use it only where a
 * stale answer is caught later (ARM refuses what builds on a resource that is gone).
 */
export class RecentReads<T> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { value: Promise<T>; at: number }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  read(key: string, fetch: () => Promise<T>, keep: (value: T) => boolean, now = Date.now()): Promise<T> {
    const entry = this.#entries.get(key);
    if (entry && now - entry.at < this.#ttlMs) return entry.value;
    const value = fetch();
    this.#entries.set(key, { value, at: now });
    const forget = () => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    };
    value.then((v) => (keep(v) ? undefined : forget()), forget);
    // Expired entries go on the next read of any key, so the map stays as small as the keys in use.
    for (const [k, e] of this.#entries) if (now - e.at >= this.#ttlMs && k !== key) this.#entries.delete(k);
    return value;
  }
}
