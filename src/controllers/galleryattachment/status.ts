// A GalleryAttachment's status from what one pass found.
import type { GalleryAttachment, GalleryAttachmentStatus, GalleryImageStatus } from '../../api/index.ts';
import { Conditions } from '../../runtime/index.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { markState, type Outcome } from '../common/outcome.ts';

/** What a pass found of the attachment's gallery: exactly this (a field left out is not shown). */
export interface AttachmentFound {
  galleryId?: string;
  images?: GalleryImageStatus[];
}

export type AttachmentOutcome = Outcome<AttachmentFound>;

/** A pass that found nothing (a failure) keeps the gallery and catalogue status shows; one that found something shows just that. */
export function computeStatus(att: GalleryAttachment, outcome: AttachmentOutcome, now: Date): GalleryAttachmentStatus {
  const generation = att.metadata.generation ?? 0;
  const conditions = new Conditions(conditionsOf(att), generation, now);
  markState(conditions, outcome);
  const found = outcome.found ?? { galleryId: att.status?.galleryId, images: att.status?.images };
  return {
    observedGeneration: generation,
    ...(found.galleryId ? { galleryId: found.galleryId } : {}),
    ...(found.images ? { images: found.images } : {}),
    conditions: conditions.list(),
  };
}
