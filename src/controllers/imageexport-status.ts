// An ImageExport's status, computed in one place from what a reconcile found: pure, so every
// phase and condition is tested without a server, and an unchanged situation gives an equal
// status (and so no write).
import { CONDITION_TYPES, type ImageExportPhase, type ImageExportStatus, type RegionReplicationStatus } from '../api/index.ts';
import { monthlyReplicaCost, type PriceTable } from '../pricing/price-table.ts';
import { Conditions, READY, RECONCILING, STALLED, metaTime, type Condition } from '../runtime/index.ts';
import type { TargetRegion } from './imageexport-regions.ts';

const { Exported, Replicated, DeletionBlocked } = CONDITION_TYPES;

export interface Reason {
  reason: string;
  message: string;
}

/** What one reconcile found out; the status follows from it and the previous status. */
export interface ExportView {
  /** Waiting for something that will come by itself (an account, a gallery, a source VM, an ARM operation). */
  waiting?: Reason;
  /** Only the user can fix it. */
  stalled?: Reason;
  /** Being deleted; `blockedBy` names the LabTemplates that still use the export. */
  deleting?: { blockedBy: string[] };
  version?: string;
  imageVersionId?: string;
  /** The image version exists and its creation has finished. */
  exported?: boolean;
  targets?: readonly TargetRegion[];
  regions?: RegionReplicationStatus[];
  sizeGiB?: number;
}

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

export function computeStatus(
  previous: ImageExportStatus | undefined,
  generation: number,
  view: ExportView,
  prices: PriceTable,
  now: Date,
): ImageExportStatus {
  const conditions = new Conditions(previous?.conditions as Condition[] | undefined, generation, now);
  const version = view.version ?? previous?.version;
  const regions = view.regions ?? previous?.regions;
  const sizeGiB = view.sizeGiB ?? previous?.sizeGiB;
  const summary = regions ? summarize(regions) : undefined;
  let phase: ImageExportPhase;

  if (view.deleting) {
    phase = 'Deleting';
    const { blockedBy } = view.deleting;
    if (blockedBy.length > 0) {
      const message = `Used by LabTemplate ${blockedBy.join(', ')}: the export is deleted once no template uses it`;
      conditions.markTrue(DeletionBlocked, 'InUse', message);
      conditions.retrying('InUse', message);
    } else {
      conditions.delete(DeletionBlocked);
      conditions.reconciling('Deleting', version ? `Deleting image version ${version}` : 'Deleting');
    }
  } else if (view.stalled) {
    phase = 'Failed';
    conditions.delete(DeletionBlocked);
    conditions.stalled(view.stalled.reason, view.stalled.message);
  } else if (view.waiting) {
    phase = version ? (previous?.phase ?? 'Pending') : 'Pending';
    conditions.delete(DeletionBlocked);
    conditions.reconciling(view.waiting.reason, view.waiting.message);
    if (!conditions.get(Exported)) conditions.markFalse(Exported, view.waiting.reason, view.waiting.message);
    if (!conditions.get(Replicated)) conditions.markFalse(Replicated, view.waiting.reason, view.waiting.message);
  } else if (!view.exported || !summary) {
    phase = 'Exporting';
    const message = `Creating image version ${version ?? ''}`.trim();
    conditions.delete(DeletionBlocked);
    conditions.markFalse(Exported, 'Exporting', message);
    conditions.markFalse(Replicated, 'Exporting', message);
    conditions.reconciling('Exporting', message);
  } else {
    conditions.delete(DeletionBlocked);
    conditions.markTrue(Exported, 'ImageVersionCreated', `Image version ${version ?? ''} exists in the gallery`);
    if (!summary.done) {
      phase = 'Replicating';
      const message = `${summary.regionsReady} regions replicated`;
      conditions.markFalse(Replicated, 'ReplicationInProgress', message);
      conditions.reconciling('Replicating', `Replicating image version ${version ?? ''}: ${message}`);
    } else if (summary.failed.length === 0) {
      phase = 'Succeeded';
      const message = `Image version ${version ?? ''} replicated to ${summary.regionsReady.split('/')[1]} regions`;
      conditions.markTrue(Replicated, 'ReplicationSucceeded', message);
      conditions.ready('Succeeded', message);
    } else {
      // Neither Stalled nor Reconciling: the completed regions are usable and the retries are spent; the
      // user accepts them or changes spec.replication (a region removed and added back starts afresh).
      phase = 'PartiallySucceeded';
      const message = `Replication to ${summary.failed.join(', ')} failed after every retry; ${summary.regionsReady} regions are usable`;
      conditions.markFalse(Replicated, 'RegionsFailed', message);
      conditions.delete(RECONCILING).delete(STALLED);
      conditions.markFalse(READY, 'RegionsFailed', message);
    }
  }

  const cost = sizeGiB !== undefined && view.targets ? monthlyReplicaCost(prices, sizeGiB, view.targets) : previous?.estimatedMonthlyCost;
  const startTime = previous?.startTime ?? (version ? metaTime(now) : undefined);
  const finished = phase === 'Succeeded' || phase === 'PartiallySucceeded';
  const completionTime = finished ? (previous?.completionTime ?? metaTime(now)) : view.deleting ? previous?.completionTime : undefined;
  const imageVersionId = view.imageVersionId ?? previous?.imageVersionId;
  return {
    observedGeneration: generation,
    phase,
    ...(version ? { version } : {}),
    ...(imageVersionId ? { imageVersionId } : {}),
    ...(summary ? { progress: summary.progress, regionsReady: summary.regionsReady } : {}),
    ...(regions ? { regions } : {}),
    ...(sizeGiB !== undefined ? { sizeGiB } : {}),
    ...(cost ? { estimatedMonthlyCost: cost } : {}),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    conditions: conditions.list(),
  };
}
