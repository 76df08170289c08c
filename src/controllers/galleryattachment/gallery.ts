// The attachment's gallery as both the attach and the detach paths name it.
import type { GalleryAttachment } from '../../api/index.ts';
import type { GalleryRef } from '../../azure/index.ts';
import type { AccountConnection } from '../common/deps.ts';

/** How often a gallery that ARM is still creating or deleting is looked at again. */
export const PROVISIONING_POLL_MS = 2_000;

/** spec.gallery, in the account's resource group unless it names another. */
export function galleryRef(att: GalleryAttachment, connection: AccountConnection): GalleryRef {
  return { resourceGroup: att.spec.gallery.resourceGroup ?? connection.resourceGroup, gallery: att.spec.gallery.name };
}

/** A gallery in messages and Events. */
export function describeGallery(ref: GalleryRef): string {
  return `gallery ${ref.gallery} in resource group ${ref.resourceGroup}`;
}
