// A LabTemplate's status, computed in one place from what one pass found.
import { CONDITION_TYPES, type LabTemplate, type LabTemplatePhase, type LabTemplateStatus } from '../../api/index.ts';
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

export function computeStatus(template: LabTemplate, outcome: TemplateOutcome, now: Date): LabTemplateStatus {
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
  return {
    observedGeneration: generation,
    phase: found.phase ?? (outcome.state === 'stalled' ? 'Failed' : (current.phase ?? 'Pending')),
    ...(image ? { image } : {}),
    ...(vm ? { vm } : {}),
    conditions: conditions.list(),
  };
}
