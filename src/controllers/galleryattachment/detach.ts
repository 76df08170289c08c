// What deleting a GalleryAttachment with deletionPolicy Delete does to its gallery in Azure.
import type { GalleryAttachment, LabAccount } from '../../api/index.ts';
import { ArmError, CREATED_BY_TAG, requeueAfter, type GalleryPort, type GalleryRef, type ImageObservation } from '../../azure/index.ts';
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
 * deletionPolicy Delete: deletes the gallery only if this attachment created it (its tag says so),
 * once the account's ImageExports (`exports`, by name) are gone, as an export's deletion waits for
 * the templates that use it: their versions are in it, and a prune deletes them together with the
 * attachment. Then the image definitions they made that hold no version go, and the gallery, unless
 * it holds anything else: then a Warning Event says why it stays. Answers WaitingForExports or
 * DeletingGallery while there is more to do, undefined once there is nothing more to do.
 */
export async function deleteOwnGallery(att: GalleryAttachment, account: LabAccount | undefined, exports: readonly string[], deps: DetachDeps): Promise<AttachmentOutcome | undefined> {
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
    if (exports.length > 0) {
      // Their changes wake this attachment (it watches exports).
      const names = [...exports].sort().join(', ');
      const message = `deleting ${where} once ImageExport ${names} of LabAccount ${account.metadata.name} are gone: delete them, or set spec.deletionPolicy to Detach to keep the gallery`;
      return progressing<AttachmentFound>('WaitingForExports', message, {});
    }
    const { made, kept } = await emptyImagesWeMade(connection.port, ref);
    if (kept.length > 0) {
      const names = kept.sort();
      keep(`${where} holds ${kept.length} image definition(s) (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}); delete them first to have it deleted`);
      return undefined;
    }
    if (made.length > 0) {
      deps.log.info({ gallery: ref, images: made.map((image) => image.name) }, 'deleting the empty image definitions exports made');
      const handles = await Promise.all(made.filter((image) => image.provisioningState !== 'Deleting').map((image) => connection.port.deleteImage({ ...ref, image: image.name })));
      return deleting(Math.max(PROVISIONING_POLL_MS, ...handles.map((handle) => requeueAfter(handle))));
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

/**
 * The gallery's image definitions: those the operator's exports made (tagged) that hold no version
 * any more, which go with the gallery, and the names of the others, which keep it.
 */
async function emptyImagesWeMade(port: GalleryPort, ref: GalleryRef): Promise<{ made: ImageObservation[]; kept: string[] }> {
  const images = await port.listImages(ref);
  const made: ImageObservation[] = [];
  const kept: string[] = [];
  for (const image of images) {
    const ours = image.tags[CREATED_BY_TAG] !== undefined && (await port.listImageVersions({ ...ref, image: image.name })).length === 0;
    if (ours) made.push(image);
    else kept.push(image.name);
  }
  return { made, kept };
}
