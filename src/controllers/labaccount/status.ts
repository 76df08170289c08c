// A LabAccount's status: its geography (from its spec), the attachment that holds it (from the
// cache), how the last pass went, and what its deletion waits for.
import { CONDITION_TYPES, type GalleryAttachment, type LabAccount, type LabAccountStatus } from '../../api/index.ts';
import { Conditions } from '../../runtime/index.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { markState, type Outcome } from '../common/outcome.ts';
import { placeOfAccount, regionChoice } from './geography.ts';

/** What a pass found of an account, besides its state. */
export interface AccountFound {
  /** Being deleted: the attachments, exports and templates it waits for. */
  blockedBy?: string[];
}

export type AccountOutcome = Outcome<AccountFound>;

export function computeStatus(account: LabAccount, holder: GalleryAttachment | undefined, outcome: AccountOutcome, now: Date): LabAccountStatus {
  const generation = account.metadata.generation ?? 0;
  const conditions = new Conditions(conditionsOf(account), generation, now);
  if (outcome.found?.blockedBy?.length) conditions.markTrue(CONDITION_TYPES.DeletionBlocked, 'InUse', outcome.message);
  else conditions.delete(CONDITION_TYPES.DeletionBlocked);
  markState(conditions, outcome);
  const place = placeOfAccount(account.spec);
  return {
    observedGeneration: generation,
    ...(holder ? { gallery: { attachment: holder.metadata.name ?? '', ...(holder.status?.galleryId ? { id: holder.status.galleryId } : {}) } } : {}),
    ...(place?.geography ? { geography: place.geography } : {}),
    ...(place ? { regions: place.regions, ...regionChoice(account.spec.location, place.regions) } : {}),
    conditions: conditions.list(),
  };
}
