// A LabTemplate's status, computed in one place from what one pass found and the exports made
// from the template that are still running (read from the cache, as the lab platform's template
// page shows "export in progress").
import { CONDITION_TYPES, RUNNING_EXPORT_PHASES, type ImageExport, type LabTemplate, type LabTemplatePhase, type LabTemplateStatus } from '../../api/index.ts';
import { Conditions, type ConditionStatus } from '../../runtime/index.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { markState, type Outcome } from '../common/outcome.ts';

export type TemplateImage = NonNullable<LabTemplateStatus['image']>;
export type VmStatus = NonNullable<LabTemplateStatus['vm']>;

export interface ConditionValue {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** What a pass found of a template, besides its state. Fields left out keep what status says. */
export interface TemplateFound {
  /** The phase the pass reached; absent: Failed when Stalled, else the phase status has (Pending at first). */
  phase?: LabTemplatePhase;
  image?: TemplateImage;
  imageResolved?: ConditionValue;
  imageAvailable?: ConditionValue;
  /** null: there is no VM (any more). */
  vm?: VmStatus | null;
}

export type TemplateOutcome = Outcome<TemplateFound>;

export type RunningExport = NonNullable<LabTemplateStatus['exports']>[number];

/** Of the exports made from a template, those still running, by name. */
export function runningExports(exports: readonly ImageExport[]): RunningExport[] {
  const running: readonly string[] = RUNNING_EXPORT_PHASES;
  return exports
    .filter((e) => !e.metadata.deletionTimestamp && running.includes(e.status?.phase ?? 'Pending'))
    .map((e) => ({ name: e.metadata.name ?? '', phase: e.status?.phase ?? 'Pending', progress: e.status?.progress ?? 0 }) as RunningExport)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The running exports in a few words: a replicating one by its progress, one not that far by its phase. */
export function exportingSummary(running: readonly RunningExport[]): string {
  return running.map((e) => `${e.name} ${e.phase === 'Replicating' ? `${e.progress}%` : e.phase}`).join(', ');
}

/** `exports`: the ImageExports whose source is this template (spec.source.labTemplateRef). */
export function computeStatus(template: LabTemplate, outcome: TemplateOutcome, now: Date, exports: readonly ImageExport[]): LabTemplateStatus {
  const current = template.status ?? {};
  const found = outcome.found ?? {};
  const generation = template.metadata.generation ?? 0;
  const conditions = new Conditions(conditionsOf(template), generation, now);
  const mark = (type: string, value: ConditionValue | undefined) => value && conditions.set(type, value.status, value.reason, value.message);
  mark(CONDITION_TYPES.ImageResolved, found.imageResolved);
  mark(CONDITION_TYPES.ImageAvailable, found.imageAvailable);
  markState(conditions, outcome);

  const image = found.image ?? current.image;
  const vm = found.vm === null ? undefined : (found.vm ?? current.vm);
  const running = runningExports(exports);
  return {
    observedGeneration: generation,
    phase: found.phase ?? (outcome.state === 'stalled' ? 'Failed' : (current.phase ?? 'Pending')),
    ...(image ? { image } : {}),
    ...(vm ? { vm } : {}),
    ...(running.length > 0 ? { exports: running, exporting: exportingSummary(running) } : {}),
    conditions: conditions.list(),
  };
}
