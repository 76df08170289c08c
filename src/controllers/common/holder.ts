import type { GalleryAttachment } from '../../api/index.ts';
import { isBeingDeleted } from './object-writer.ts';

/**
 * The attachment that holds an account: the oldest (creationTimestamp, then name) of those not
 * being deleted. The LabAccount and GalleryAttachment controllers use this one rule, so the
 * account and its attachments agree.
 */
export function holderOf(attachments: readonly GalleryAttachment[]): GalleryAttachment | undefined {
  // creationTimestamp arrives as RFC 3339 text in UTC with whole seconds, so text order is time order.
  const key = (a: GalleryAttachment) => [String(a.metadata.creationTimestamp ?? ''), a.metadata.name ?? ''] as const;
  return attachments
    .filter((a) => !isBeingDeleted(a))
    .toSorted((a, b) => {
      const [ta, na] = key(a);
      const [tb, nb] = key(b);
      return ta === tb ? (na < nb ? -1 : na > nb ? 1 : 0) : ta < tb ? -1 : 1;
    })[0];
}
