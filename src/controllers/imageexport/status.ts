// An ImageExport's status, computed in one place from what a pass found: pure, so every phase and
// condition is tested without a server, and an unchanged situation gives an equal status (and so
// no write).
import { CONDITION_TYPES, type ImageExportPhase, type ImageExportStatus, type RegionReplicationStatus } from '../../api/index.ts';
import { monthlyReplicaCost, type PriceTable } from '../../pricing/price-table.ts';
import { Conditions, metaTime, type Condition } from '../../runtime/index.ts';
import { markState, progressing, ready, retrying, stalled, type Outcome } from '../common/outcome.ts';
import type { TargetRegion } from './regions.ts';

const { Exported, Replicated, DeletionBlocked } = CONDITION_TYPES;

/** What a pass found of an export, besides its state. Fields left out keep what status says. */
export interface ExportFound {
  /** The phase the version has reached; absent: kept while waiting, Failed when Stalled. */
  phase?: Extract<ImageExportPhase, 'Exporting' | 'Replicating' | 'Succeeded' | 'PartiallySucceeded'>;
  version?: string;
  imageVersionId?: string;
  targets?: readonly TargetRegion[];
  regions?: RegionReplicationStatus[];
  sizeGiB?: number;
  dataDisks?: number;
  /** Being deleted: what still uses the export's version (none: the deletion is under way). */
  blockedBy?: string[];
}

export type ExportOutcome = Outcome<ExportFound>;

export interface ReplicationSummary {
  /** Replica-weighted percent over every target region, 100 only when all are Completed. */
  progress: number;
  regionsReady: string;
  failed: string[];
  /** Every region is Completed or has Failed for good. */
  done: boolean;
}

export function summarize(regions: readonly RegionReplicationStatus[]): ReplicationSummary {
  const replicas = regions.reduce((sum, r) => sum + (r.replicaCount ?? 1), 0);
  const weighted = regions.reduce((sum, r) => sum + (r.replicaCount ?? 1) * (r.progress ?? 0), 0);
  const completed = regions.filter((r) => r.state === 'Completed').length;
  const failed = regions.filter((r) => r.state === 'Failed').map((r) => r.name);
  return {
    progress: replicas === 0 ? 0 : Math.floor(weighted / replicas),
    regionsReady: `${completed}/${regions.length}`,
    failed,
    done: regions.length > 0 && completed + failed.length === regions.length,
  };
}

/**
 * How long to wait before looking at replication again: every 2 s at first (tests and small
 * images finish fast), then a tenth of the time it has taken so far, at most 30 s (real Azure
 * takes minutes per region).
 */
export function replicationPollMs(elapsedMs: number): number {
  return Math.min(30_000, Math.max(2_000, Math.round(elapsedMs / 10)));
}

/** What a pass found of the export's image version in Azure. */
export interface VersionFacts {
  version: string;
  imageVersionId: string;
  targets: readonly TargetRegion[];
  regions: RegionReplicationStatus[];
  sizeGiB?: number;
  dataDisks?: number;
  /** The version exists and its creation has finished. */
  exported: boolean;
}

/** The outcome of a pass that saw the version: being made, replicating, done, or done short of some regions. */
export function versionOutcome(facts: VersionFacts, requeueAfter?: number): ExportOutcome {
  const { exported, ...seen } = facts;
  const { version } = facts;
  const summary = summarize(facts.regions);
  const extras = (phase: NonNullable<ExportFound['phase']>) => ({ found: { ...seen, phase }, ...(requeueAfter === undefined ? {} : { requeueAfter }) });
  if (!exported) return progressing('Exporting', `Creating image version ${version}`, extras('Exporting'));
  if (!summary.done) return progressing('Replicating', `Replicating image version ${version}: ${summary.regionsReady} regions replicated`, extras('Replicating'));
  if (summary.failed.length === 0) return ready('Succeeded', `Image version ${version} replicated to ${facts.regions.length} regions`, extras('Succeeded'));
  // Stalled: the retries are spent and only a person can settle it, so kstatus says Failed, Argo CD
  // Degraded and `kubectl wait` gives up; the completed regions stay usable meanwhile.
  return stalled('PartiallySucceeded', partialMessage(version, facts.regions, summary), { ...seen, phase: 'PartiallySucceeded' });
}

/** Which regions failed for good, which are usable, and the two ways out (both a change of spec.replication.regions). */
function partialMessage(version: string, regions: readonly RegionReplicationStatus[], summary: ReplicationSummary): string {
  const failed = summary.failed.join(', ');
  const usable = regions.filter((r) => r.state === 'Completed').map((r) => r.name);
  return (
    `Replication of image version ${version} to ${failed} failed after every retry; usable in ${usable.length > 0 ? usable.join(', ') : 'no region'} ` +
    `(${summary.regionsReady} regions): take ${failed} out of spec.replication.regions to settle for the usable regions, or take ${summary.failed.length > 1 ? 'them' : 'it'} out and put ${summary.failed.length > 1 ? 'them' : 'it'} back to try again`
  );
}

/** Deletion waits for what uses the export's version (`LabTemplate t1`, `VM vm1`); `requeueAfter` when no watch tells of their going. */
export function deletionBlocked(blockedBy: string[], requeueAfter?: number): ExportOutcome {
  const message = `Used by ${blockedBy.join(', ')}: the export's image version is deleted once nothing uses it`;
  return retrying('InUse', message, { found: { blockedBy }, ...(requeueAfter === undefined ? {} : { requeueAfter }) });
}

/** The export's image version is being deleted. */
export function deletingVersion(version: string | undefined, requeueAfter: number): ExportOutcome {
  return progressing('Deleting', version ? `Deleting image version ${version}` : 'Deleting', { found: { blockedBy: [] }, requeueAfter });
}

function phaseOf(outcome: ExportOutcome, found: ExportFound, previous: ImageExportStatus | undefined, version: string | undefined): ImageExportPhase {
  if (found.blockedBy) return 'Deleting';
  // A Stalled outcome is Failed, unless the version got somewhere (PartiallySucceeded: usable regions).
  if (found.phase) return found.phase;
  if (outcome.state === 'stalled') return 'Failed';
  return version ? (previous?.phase ?? 'Pending') : 'Pending';
}

/** Exported, Replicated and DeletionBlocked, as the phase the version reached says. */
function markExportConditions(conditions: Conditions, outcome: ExportOutcome, found: ExportFound, version: string | undefined): void {
  if (found.blockedBy) {
    if (found.blockedBy.length > 0) conditions.markTrue(DeletionBlocked, 'InUse', outcome.message);
    else conditions.delete(DeletionBlocked);
    return;
  }
  conditions.delete(DeletionBlocked);
  const created = () => conditions.markTrue(Exported, 'ImageVersionCreated', `Image version ${version ?? ''} exists in the gallery`);
  switch (found.phase) {
    case 'Exporting':
      conditions.markFalse(Exported, 'Exporting', outcome.message).markFalse(Replicated, 'Exporting', outcome.message);
      return;
    case 'Replicating':
      created().markFalse(Replicated, 'ReplicationInProgress', `${summarize(found.regions ?? []).regionsReady} regions replicated`);
      return;
    case 'Succeeded':
      created().markTrue(Replicated, 'ReplicationSucceeded', outcome.message);
      return;
    case 'PartiallySucceeded':
      created().markFalse(Replicated, 'RegionsFailed', outcome.message);
      return;
    case undefined:
      // Waiting before anything was made: say so until there is more to say.
      if (outcome.state === 'stalled') return;
      if (!conditions.get(Exported)) conditions.markFalse(Exported, outcome.reason, outcome.message);
      if (!conditions.get(Replicated)) conditions.markFalse(Replicated, outcome.reason, outcome.message);
  }
}

export function computeStatus(previous: ImageExportStatus | undefined, generation: number, outcome: ExportOutcome, prices: PriceTable, now: Date): ImageExportStatus {
  const conditions = new Conditions(previous?.conditions as Condition[] | undefined, generation, now);
  const found = outcome.found ?? {};
  const version = found.version ?? previous?.version;
  const regions = found.regions ?? previous?.regions;
  const sizeGiB = found.sizeGiB ?? previous?.sizeGiB;
  const dataDisks = found.dataDisks ?? previous?.dataDisks;
  const summary = regions ? summarize(regions) : undefined;
  const phase = phaseOf(outcome, found, previous, version);
  markExportConditions(conditions, outcome, found, version);
  markState(conditions, outcome);

  const cost = sizeGiB !== undefined && found.targets ? monthlyReplicaCost(prices, sizeGiB, found.targets) : previous?.estimatedMonthlyCost;
  const startTime = previous?.startTime ?? (version ? metaTime(now) : undefined);
  const finished = phase === 'Succeeded' || phase === 'PartiallySucceeded';
  const completionTime = finished ? (previous?.completionTime ?? metaTime(now)) : found.blockedBy ? previous?.completionTime : undefined;
  const imageVersionId = found.imageVersionId ?? previous?.imageVersionId;
  return {
    observedGeneration: generation,
    phase,
    ...(version ? { version } : {}),
    ...(imageVersionId ? { imageVersionId } : {}),
    ...(summary ? { progress: summary.progress, progressDisplay: `${summary.progress}%`, regionsReady: summary.regionsReady } : {}),
    ...(regions ? { regions } : {}),
    ...(sizeGiB !== undefined ? { sizeGiB } : {}),
    ...(dataDisks !== undefined ? { dataDisks } : {}),
    ...(cost ? { estimatedMonthlyCost: cost } : {}),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    conditions: conditions.list(),
  };
}
