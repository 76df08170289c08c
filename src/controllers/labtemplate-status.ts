// A LabTemplate's status, computed in one place from what one reconcile found.
import { CONDITION_TYPES, type LabTemplate, type LabTemplatePhase, type LabTemplateStatus } from '../api/index.ts';
import { Conditions, type ConditionStatus } from '../runtime/index.ts';
import { conditionsOf } from './shared.ts';
import type { TemplateImage } from './labtemplate-rules.ts';

export type VmStatus = NonNullable<LabTemplateStatus['vm']>;

export interface ConditionValue {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** What a reconcile found. Fields left undefined keep what status already says. */
export interface Outcome {
  phase: LabTemplatePhase;
  /** The kstatus summary: done, work under way, retrying on its own, or waiting for the user. */
  state: 'ready' | 'reconciling' | 'retrying' | 'stalled';
  reason: string;
  message: string;
  image?: TemplateImage;
  imageResolved?: ConditionValue;
  imageAvailable?: ConditionValue;
  /** null: there is no VM (any more). */
  vm?: VmStatus | null;
}

export function computeStatus(template: LabTemplate, outcome: Outcome, now: Date): LabTemplateStatus {
  const current = template.status ?? {};
  const generation = template.metadata.generation ?? 0;
  const conditions = new Conditions(conditionsOf(template), generation, now);
  const mark = (type: string, value: ConditionValue | undefined) => value && conditions.set(type, value.status, value.reason, value.message);
  mark(CONDITION_TYPES.ImageResolved, outcome.imageResolved);
  mark(CONDITION_TYPES.ImageAvailable, outcome.imageAvailable);
  if (outcome.state === 'ready') conditions.ready(outcome.reason, outcome.message);
  else if (outcome.state === 'stalled') conditions.stalled(outcome.reason, outcome.message);
  else if (outcome.state === 'retrying') conditions.retrying(outcome.reason, outcome.message);
  else conditions.reconciling(outcome.reason, outcome.message);

  const image = outcome.image ?? current.image;
  const vm = outcome.vm === null ? undefined : (outcome.vm ?? current.vm);
  return {
    observedGeneration: generation,
    phase: outcome.phase,
    ...(image ? { image } : {}),
    ...(vm ? { vm } : {}),
    conditions: conditions.list(),
  };
}
