// What deleting a GalleryAttachment with deletionPolicy Delete does to its gallery in Azure, and
// the gallery facts the attach path shares with it.
import type { GalleryAttachment, LabAccount } from '../api/index.ts';
import { ArmError, type GalleryRef, type OperationHandle } from '../azure/index.ts';
import type { Logger } from '../log.ts';
import { READY, type Conditions, type EventRecorder, type Result } from '../runtime/index.ts';
import type { AccountConnection, AccountConnector } from './account-connector.ts';
import { StalledError } from './stalled.ts';

/** Tag on a gallery the operator created: the uid of the attachment that did. Status can be lost; Azure keeps this. */
export const CREATED_BY_TAG = 'labimages.io/created-by';

/** How often a gallery that ARM is still creating or deleting is looked at again. */
export const PROVISIONING_RECHECK_MS = 2_000;

/** When to look at a started operation again: ARM's Retry-After, at least a moment. */
export function afterHandle(handle: OperationHandle): number {
  return Math.max(Date.parse(handle.notBefore) - Date.now(), 200);
}

export function galleryRef(att: GalleryAttachment, connection: AccountConnection): GalleryRef {
  return { resourceGroup: att.spec.gallery.resourceGroup ?? connection.resourceGroup, gallery: att.spec.gallery.name };
}

/**
 * deletionPolicy Delete: deletes the gallery only if this attachment created it (its tag says so)
 * and it holds no image definitions; otherwise a Warning Event says why it stays. Returns a
 * requeue while ARM deletes it (marking DeletingGallery), undefined once there is nothing more to do.
 */
export async function deleteOwnGallery(
  att: GalleryAttachment,
  account: LabAccount | undefined,
  accounts: Pick<AccountConnector, 'connect'>,
  recorder: EventRecorder,
  conditions: Conditions,
  log: Logger,
): Promise<Result | undefined> {
  const keep = (why: string) => recorder.event(att, 'Warning', 'GalleryKept', `deletionPolicy is Delete, but the gallery stays in Azure: ${why}`, 'Delete');
  if (!account) {
    keep(`LabAccount ${att.spec.labAccountRef.name} is gone, so the gallery cannot be reached`);
    return undefined;
  }
  let connection: AccountConnection;
  try {
    connection = await accounts.connect(account);
  } catch (err) {
    if (!(err instanceof StalledError)) throw err;
    keep(`LabAccount ${account.metadata.name} cannot reach Azure: ${err.message}`);
    return undefined;
  }
  const ref = galleryRef(att, connection);
  const where = `gallery ${ref.gallery} in resource group ${ref.resourceGroup}`;
  try {
    const gallery = await connection.port.observeGallery(ref);
    if (!gallery) {
      if (conditions.get(READY)?.reason === 'DeletingGallery') recorder.event(att, 'Normal', 'GalleryDeleted', `deleted ${where}`, 'Delete');
      return undefined;
    }
    if (gallery.provisioningState === 'Deleting') return { requeueAfter: PROVISIONING_RECHECK_MS };
    if (gallery.tags[CREATED_BY_TAG] !== att.metadata.uid) {
      keep(`${where} was not created by this attachment (it was adopted, or another attachment created it)`);
      return undefined;
    }
    const images = await connection.port.listImages(ref);
    if (images.length > 0) {
      const names = images.map((i) => i.name).sort();
      keep(`${where} holds ${images.length} image definition(s) (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}); delete them first to have it deleted`);
      return undefined;
    }
    const handle = await connection.port.deleteGallery(ref);
    log.info({ gallery: ref }, 'deleting gallery');
    conditions.reconciling('DeletingGallery', `deleting ${where} (deletionPolicy Delete)`);
    return { requeueAfter: afterHandle(handle) };
  } catch (err) {
    if (!(err instanceof ArmError) || err.retryable) throw err;
    keep(`ARM refused to delete ${where}: ${err.code}: ${err.message}`);
    return undefined;
  }
}
