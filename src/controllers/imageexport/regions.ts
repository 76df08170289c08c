// Where an export replicates, and how failed regions are retried: pure functions of the spec, the
// account and what Azure reports, so the rules are tested without a gallery.
import type { ImageExport, LabAccount, RegionReplicationStatus } from '../../api/index.ts';
import { normalizeRegion, type ImageVersionObservation } from '../../azure/index.ts';
import type { StorageAccountType } from '../../pricing/price-table.ts';
import { StalledError } from '../common/stalled.ts';

export interface TargetRegion {
  name: string;
  replicaCount: number;
  storageAccountType: StorageAccountType;
}

/**
 * The export's target regions: spec.replication, else the account's spec.replication, else the
 * available regions of the account's geography (an empty list means those too); restricted-access
 * and coming-soon regions only when listed. A region outside the geography is for the user to fix.
 */
export function desiredTargets(exp: ImageExport, account: LabAccount): TargetRegion[] {
  const own = exp.spec.replication;
  const defaults = account.spec.replication;
  const geography = (account.status?.regions ?? []).map(normalizeRegion);
  const regions = own?.regions ?? defaults?.regions;
  const names = regions?.length ? [...new Set(regions.map(normalizeRegion))] : (account.status?.availableRegions?.map(normalizeRegion) ?? geography);
  const outside = names.filter((name) => !geography.includes(name));
  if (outside.length > 0) {
    throw new StalledError(
      'RegionOutsideGeography',
      `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside the lab account's geography ${account.status?.geography ?? ''} ` +
        `(${geography.join(', ')}): change spec.replication.regions`,
    );
  }
  const replicaCount = own?.replicaCount ?? defaults?.replicaCount ?? 1;
  const storageAccountType = own?.storageAccountType ?? defaults?.storageAccountType ?? 'Standard_LRS';
  return names.map((name) => ({ name, replicaCount, storageAccountType }));
}

/** What survives a restart of one region's retries, kept in status.regions[]. */
export interface RetryState {
  attempts: number;
  /** Set while a failed region is out of targetRegions, waiting to be added back. */
  nextAttemptTime?: string;
  /** Azure's message of the last failure. */
  message?: string;
}

export interface TargetPlan {
  /** What the version's targetRegions should be now. */
  targets: TargetRegion[];
  retries: Map<string, RetryState>;
  /** The earliest time a waiting region is due to be added back. */
  wakeAt?: number;
}

/** Wait before a failed region's n-th retry (n ≥ 1): 3 s, 9 s, 27 s ... at most 5 minutes. */
export function retryBackoffMs(attempt: number): number {
  return Math.min(300_000, 3_000 * 3 ** (attempt - 1));
}

/**
 * Azure's advice for a failed region: remove it from targetRegions, then add it back. A failed
 * region with retries left is taken out now and put back after a backoff; once `regionRetries` are
 * spent it stays Failed (and in targetRegions, where its completed siblings are unaffected).
 */
export function planTargets(
  desired: readonly TargetRegion[],
  observed: ImageVersionObservation,
  previous: readonly RegionReplicationStatus[] | undefined,
  regionRetries: number,
  now: number,
): TargetPlan {
  const targets: TargetRegion[] = [];
  const retries = new Map<string, RetryState>();
  let wakeAt: number | undefined;
  for (const target of desired) {
    const before = previous?.find((r) => r.name === target.name);
    const attempts = before?.attempts ?? 0;
    const targeted = observed.targetRegions.some((r) => r.name === target.name);
    const replication = observed.replication?.regions.find((r) => r.region === target.name);
    const waitUntil = before?.nextAttemptTime ? Date.parse(before.nextAttemptTime) : undefined;
    if (targeted && replication?.state === 'Failed' && attempts < regionRetries) {
      const due = now + retryBackoffMs(attempts + 1);
      retries.set(target.name, { attempts: attempts + 1, nextAttemptTime: new Date(due).toISOString(), message: replication.details });
      wakeAt = Math.min(wakeAt ?? due, due);
      continue;
    }
    if (!targeted && waitUntil !== undefined && waitUntil > now) {
      retries.set(target.name, { attempts, nextAttemptTime: before?.nextAttemptTime, ...(before?.message ? { message: before.message } : {}) });
      wakeAt = Math.min(wakeAt ?? waitUntil, waitUntil);
      continue;
    }
    retries.set(target.name, { attempts });
    targets.push(target);
  }
  // A version needs a target region: when every region failed there is none left to keep while the
  // failed ones are out, so they stay Failed (and their attempts unspent) instead.
  if (targets.length === 0) {
    for (const target of desired) retries.set(target.name, { attempts: previous?.find((r) => r.name === target.name)?.attempts ?? 0 });
    return { targets: [...desired], retries };
  }
  return { targets, retries, ...(wakeAt === undefined ? {} : { wakeAt }) };
}

/** Whether the version's targetRegions already are `targets` (order aside). */
export function sameTargets(observed: ImageVersionObservation, targets: readonly TargetRegion[]): boolean {
  return (
    observed.targetRegions.length === targets.length &&
    targets.every((t) =>
      observed.targetRegions.some((o) => o.name === t.name && o.replicaCount === t.replicaCount && o.storageAccountType === t.storageAccountType),
    )
  );
}

/**
 * Per-region status, in the order of the desired regions. Azure reports a replica that waits for
 * its turn as Replicating at 0 %: that is Queued to a user. A failed region waiting for its retry
 * is Queued too, with the failure in its message.
 */
export function regionStatuses(
  desired: readonly TargetRegion[],
  observed: ImageVersionObservation | undefined,
  retries: ReadonlyMap<string, RetryState>,
  regionRetries: number,
): RegionReplicationStatus[] {
  return desired.map((target): RegionReplicationStatus => {
    const retry = retries.get(target.name) ?? { attempts: 0 };
    const bookkeeping = {
      ...(retry.attempts > 0 ? { attempts: retry.attempts } : {}),
      ...(retry.nextAttemptTime ? { nextAttemptTime: retry.nextAttemptTime } : {}),
    };
    const base = { name: target.name, replicaCount: target.replicaCount, ...bookkeeping };
    if (retry.nextAttemptTime) {
      return { ...base, state: 'Queued', progress: 0, message: `Replication failed; retry ${retry.attempts} of ${regionRetries} is queued. ${retry.message ?? ''}`.trim() };
    }
    const targeted = observed?.targetRegions.some((r) => r.name === target.name) ?? false;
    const replication = targeted ? observed?.replication?.regions.find((r) => r.region === target.name) : undefined;
    if (replication?.state === 'Completed') return { ...base, state: 'Completed', progress: 100 };
    if (replication?.state === 'Failed') return { ...base, state: 'Failed', progress: clampPercent(replication.progress), message: replication.details || 'Replication failed' };
    if (replication && replication.progress > 0) return { ...base, state: 'Replicating', progress: clampPercent(replication.progress) };
    return { ...base, state: 'Queued', progress: 0 };
  });
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, Math.floor(value)));
}
