// Replication as a pure function of time: a replica's state is computed from when it was queued
// and started, so a restarted emulator (or a test's clock) needs nothing but the stored times.

export interface Replica {
  /** Normalized region name. */
  region: string;
  queuedAt: number;
  startedAt?: number;
  endedAt?: number;
  outcome?: 'Completed' | 'Failed';
  /** Set when a fault dooms this replica: it fails when its progress reaches this percentage. */
  failAtProgress?: number;
}

export interface ReplicationTiming {
  /** Time one region takes from start to 100 %. */
  durationMs: number;
  /** Regions of one version replicating at the same time; the rest wait. */
  concurrency: number;
}

export interface ReplicaView {
  region: string;
  state: 'Replicating' | 'Completed' | 'Failed';
  progress: number;
}

function endTime(replica: Replica, timing: ReplicationTiming): number {
  return (replica.startedAt ?? 0) + (timing.durationMs * (replica.failAtProgress ?? 100)) / 100;
}

/**
 * Applies every start and finish that has happened by `now`, in time order: a waiting replica
 * starts when a slot frees (or when it was queued, if a slot was free then).
 */
export function advanceReplication(replicas: readonly Replica[], now: number, timing: ReplicationTiming): Replica[] {
  const result = replicas.map((replica) => ({ ...replica }));
  let lastEvent = Math.max(-Infinity, ...result.flatMap((replica) => [replica.startedAt ?? -Infinity, replica.endedAt ?? -Infinity]));
  for (;;) {
    const running = result.filter((replica) => replica.startedAt !== undefined && replica.outcome === undefined);
    const waiting = result
      .filter((replica) => replica.startedAt === undefined && replica.queuedAt <= now)
      .sort((a, b) => a.queuedAt - b.queuedAt || a.region.localeCompare(b.region));
    const next = waiting[0];
    const startAt = next && running.length < timing.concurrency ? Math.max(next.queuedAt, lastEvent) : Infinity;
    const finishing = running.sort((a, b) => endTime(a, timing) - endTime(b, timing))[0];
    const finishAt = finishing ? endTime(finishing, timing) : Infinity;
    if (Math.min(startAt, finishAt) > now) return result;
    if (next && startAt <= finishAt) {
      next.startedAt = startAt;
      lastEvent = startAt;
    } else if (finishing) {
      finishing.endedAt = finishAt;
      finishing.outcome = finishing.failAtProgress === undefined ? 'Completed' : 'Failed';
      lastEvent = finishAt;
    }
  }
}

/** What ARM's replicationStatus says of a replica at `now` (after advanceReplication). */
export function viewReplica(replica: Replica, now: number, timing: ReplicationTiming): ReplicaView {
  if (replica.outcome === 'Completed') return { region: replica.region, state: 'Completed', progress: 100 };
  if (replica.outcome === 'Failed') return { region: replica.region, state: 'Failed', progress: replica.failAtProgress ?? 0 };
  if (replica.startedAt === undefined || timing.durationMs <= 0) return { region: replica.region, state: 'Replicating', progress: 0 };
  const progress = Math.floor((100 * (now - replica.startedAt)) / timing.durationMs);
  return { region: replica.region, state: 'Replicating', progress: Math.min(99, Math.max(0, progress)) };
}

export function aggregateState(views: readonly ReplicaView[]): 'InProgress' | 'Completed' | 'Failed' {
  if (views.some((view) => view.state === 'Failed')) return 'Failed';
  if (views.every((view) => view.state === 'Completed')) return 'Completed';
  return 'InProgress';
}

/** Keeps the replicas of regions still targeted, queues the new ones at `queuedAt`. */
export function retarget(replicas: readonly Replica[], regions: readonly string[], queuedAt: number, doom: (region: string) => number | undefined): Replica[] {
  return regions.map((region) => {
    const existing = replicas.find((replica) => replica.region === region);
    if (existing) return existing;
    const failAtProgress = doom(region);
    return { region, queuedAt, ...(failAtProgress === undefined ? {} : { failAtProgress }) };
  });
}
