// Replication polls spread over time so that what they cost a subscription stays flat however many
// exports replicate in it. ARM lists image versions without their replicationStatus, so there is no
// one list call to replace the GETs; instead the GETs are spaced: each export looks again no
// sooner than (exports replicating in its subscription) / (polls a second the subscription
// affords), and jittered, so a thousand exports started together do not poll together.

/** Replication polls a second one subscription affords: a fifth of a principal's read refill (25 a second). */
export const REPLICATION_POLLS_PER_SECOND = 5;

interface Member {
  seenAt: number;
  intervalMs: number;
}

interface Scope {
  members: Map<string, Member>;
  prunedAt: number;
}

/** How often a scope drops members that stopped coming back: a walk over all of them, so not on every call. */
const PRUNE_EVERY_MS = 60_000;

export class PollSpread {
  readonly #pollsPerSecond: number;
  readonly #random: () => number;
  /** Exports polling replication, by subscription. */
  readonly #scopes = new Map<string, Scope>();

  constructor(pollsPerSecond = REPLICATION_POLLS_PER_SECOND, random: () => number = Math.random) {
    this.#pollsPerSecond = pollsPerSecond;
    this.#random = random;
  }

  /** When export `id`, replicating in `scope`, should look again: `baseMs` (its own rhythm), or later (±10 %) when too many share the scope for that. */
  intervalMs(scope: string, id: string, baseMs: number, now = Date.now()): number {
    const members = this.#members(scope, now);
    const floorMs = ((members.size + (members.has(id) ? 0 : 1)) / this.#pollsPerSecond) * 1000;
    const intervalMs = baseMs >= floorMs ? baseMs : Math.round(floorMs * (0.9 + this.#random() / 5));
    members.set(id, { seenAt: now, intervalMs });
    return intervalMs;
  }

  /** The export no longer polls (replication settled, or it is gone). */
  done(id: string): void {
    for (const [name, scope] of this.#scopes) {
      if (scope.members.delete(id) && scope.members.size === 0) this.#scopes.delete(name);
    }
  }

  /** The scope's members, less (now and then) those that have not come back long after they were due: deleted, or gone without saying. */
  #members(name: string, now: number): Map<string, Member> {
    let scope = this.#scopes.get(name);
    if (!scope) this.#scopes.set(name, (scope = { members: new Map(), prunedAt: now }));
    if (now - scope.prunedAt >= PRUNE_EVERY_MS) {
      for (const [id, member] of scope.members) if (now - member.seenAt > 2 * member.intervalMs + PRUNE_EVERY_MS) scope.members.delete(id);
      scope.prunedAt = now;
    }
    return scope.members;
  }
}
