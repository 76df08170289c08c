// A LabAccount's status: its geography (from its spec), the attachment that holds it (from the
// cache), and how the last pass went.
import type { GalleryAttachment, LabAccount, LabAccountStatus } from '../../api/index.ts';
import { geographyOf, regionsOfGeography } from '../../azure/index.ts';
import { Conditions } from '../../runtime/index.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { markState, type Outcome } from '../common/outcome.ts';
import { regionChoice } from './geography.ts';

export function computeStatus(account: LabAccount, holder: GalleryAttachment | undefined, outcome: Outcome, now: Date): LabAccountStatus {
  const generation = account.metadata.generation ?? 0;
  const conditions = new Conditions(conditionsOf(account), generation, now);
  markState(conditions, outcome);
  const geography = geographyOf(account.spec.location);
  const regions = geography ? regionsOfGeography(geography) : [];
  return {
    observedGeneration: generation,
    ...(holder ? { gallery: { attachment: holder.metadata.name ?? '', ...(holder.status?.galleryId ? { id: holder.status.galleryId } : {}) } } : {}),
    ...(geography ? { geography, regions, ...regionChoice(account.spec.location, regions) } : {}),
    conditions: conditions.list(),
  };
}
