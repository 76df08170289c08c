// What deleting a GalleryAttachment with deletionPolicy Delete does to its gallery in Azure.
import type { GalleryAttachment, LabAccount } from '../../api/index.ts';
import { ArmError, CREATED_BY_TAG, requeueAfter } from '../../azure/index.ts';
import type { Logger } from '../../log.ts';
import { READY, findCondition } from '../../runtime/index.ts';
import type { AccountConnection, Connector, Recorder } from '../common/deps.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { progressing } from '../common/outcome.ts';
import { StalledError } from '../common/stalled.ts';
import { PROVISIONING_POLL_MS, describeGallery, galleryRef } from './gallery.ts';
import type { AttachmentFound, AttachmentOutcome } from './status.ts';

export interface DetachDeps {
  connector: Connector;
  events: Recorder;
  log: Logger;
  signal: AbortSignal;
}

/**
 * deletionPolicy Delete: deletes the gallery only if this attachment created it (its tag says so)
 * and it holds no image definitions; otherwise a Warning Event says why it stays. Answers
 * DeletingGallery while ARM deletes it, undefined once there is nothing more to do. Deletion never
 * waits on what only a person can fix: whatever keeps the gallery becomes the Event.
 */
export async function deleteOwnGallery(att: GalleryAttachment, account: LabAccount | undefined, deps: DetachDeps): Promise<AttachmentOutcome | undefined> {
  const keep = (why: string) => deps.events.event(att, 'Warning', 'GalleryKept', `deletionPolicy is Delete, but the gallery stays in Azure: ${why}`, 'Delete');
  if (!account) {
    keep(`LabAccount ${att.spec.labAccountRef.name} is gone, so the gallery cannot be reached`);
    return undefined;
  }
  let connection: AccountConnection;
  try {
    connection = await deps.connector.connect(account, deps.signal);
  } catch (err) {
    if (!(err instanceof StalledError)) throw err;
    keep(`LabAccount ${account.metadata.name} cannot reach Azure: ${err.message}`);
    return undefined;
  }
  const ref = galleryRef(att, connection);
  const where = describeGallery(ref);
  const deleting = (requeueAfter: number) => progressing<AttachmentFound>('DeletingGallery', `deleting ${where} (deletionPolicy Delete)`, { requeueAfter });
  try {
    const gallery = await connection.port.observeGallery(ref);
    if (!gallery) {
      if (findCondition(conditionsOf(att), READY)?.reason === 'DeletingGallery') deps.events.event(att, 'Normal', 'GalleryDeleted', `deleted ${where}`, 'Delete');
      return undefined;
    }
    if (gallery.provisioningState === 'Deleting') return deleting(PROVISIONING_POLL_MS);
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
    deps.log.info({ gallery: ref }, 'deleting gallery');
    return deleting(requeueAfter(handle));
  } catch (err) {
    if (!(err instanceof ArmError) || err.retryable) throw err;
    keep(`ARM refused to delete ${where}: ${err.code}: ${err.message}`);
    return undefined;
  }
}
