// The GalleryAttachment reconciler: one gallery per lab account (the oldest attachment holds it),
// created or adopted, its image catalogue in status, and detach (or delete) on deletion.
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount } from '../../api/index.ts';
import { CREATED_BY_TAG, requeueAfter, type GalleryObservation, type GalleryPort, type GalleryRef } from '../../azure/index.ts';
import type { Logger } from '../../log.ts';
import { READY, STALLED, findCondition, objectKey, type ObjectReader, type ReconcileContext, type Request, type Result } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import type { AccountsForDeletion } from '../common/departed-accounts.ts';
import type { ApiClient, Connector, Recorder } from '../common/deps.ts';
import { holderOf } from '../common/holder.ts';
import { BY_ACCOUNT, UNSETTLED_BY_ACCOUNT } from '../common/indexes.ts';
import { ObjectWriter, conditionsOf, isBeingDeleted } from '../common/object-writer.ts';
import { RELEASED, isOutcome, progressing, ready, stalled, type Released } from '../common/outcome.ts';
import { checkResourceGroupScope } from '../common/scope.ts';
import { SyncMemo } from '../common/sync-memo.ts';
import { exportsFingerprint, readCatalogue } from './catalogue.ts';
import { deleteOwnGallery } from './detach.ts';
import { PROVISIONING_POLL_MS, describeGallery as where, galleryRef } from './gallery.ts';
import { computeStatus, type AttachmentFound, type AttachmentOutcome } from './status.ts';

export const GALLERY_ATTACHMENT_FINALIZER = 'labimages.io/finalizer';
/** Changes of the account's exports are read into the catalogue at most this often once they have all settled... */
const CATALOGUE_COALESCE_MS = 5000;
/**
 * ...and at most this often while any of them is still at work: a burst of exports reaches the
 * catalogue once it is over (one read and one write per attachment, not one every few seconds,
 * each read costing ARM a list and a GET per image), and a long replication holds other changes
 * back by a minute at most.
 */
const CATALOGUE_BUSY_COALESCE_MS = 60_000;

export interface GalleryAttachmentDeps {
  attachments: ObjectReader<GalleryAttachment>;
  accounts: ObjectReader<LabAccount>;
  /** For deletion passes: also an account deleted just before its attachment. */
  accountsForDeletion: AccountsForDeletion;
  exports: ObjectReader<ImageExport>;
  client: ApiClient;
  events: Recorder;
  connector: Connector;
  settings: Pick<OperatorContext, 'syncPeriodMs' | 'stalledRecheckMs'>;
}

export class GalleryAttachmentReconciler {
  readonly #deps: GalleryAttachmentDeps;
  readonly #writer: ObjectWriter<GalleryAttachment, AttachmentFound>;
  /** When each attachment's catalogue was last read: while exports of the account change in a burst, it is read at most every few seconds. */
  readonly #refreshed: SyncMemo;

  constructor(deps: GalleryAttachmentDeps) {
    this.#deps = deps;
    const { syncPeriodMs, stalledRecheckMs } = deps.settings;
    this.#refreshed = new SyncMemo(syncPeriodMs, { coalesceMs: Math.min(CATALOGUE_COALESCE_MS, syncPeriodMs / 10) });
    this.#writer = new ObjectWriter({ resource: RESOURCES.GalleryAttachment, finalizer: GALLERY_ATTACHMENT_FINALIZER, computeStatus, client: deps.client, events: deps.events, stalledRecheckMs });
  }

  async reconcile({ namespace, name }: Request, context: ReconcileContext): Promise<Result> {
    const cached = this.#deps.attachments.get(name, namespace);
    if (!cached) {
      this.#refreshed.forget(namespace, name);
      return {};
    }
    if (isBeingDeleted(cached)) return await this.#writer.finishDeletion(cached, () => this.#detach(cached, context), context);
    const att = await this.#writer.ensureFinalizer(cached);
    return await this.#writer.finish(att, () => this.#attach(att, context), context);
  }

  /** Holds the account, waits for it to be Ready, then creates or adopts the gallery and reads its catalogue. */
  async #attach(att: GalleryAttachment, { log, signal }: ReconcileContext): Promise<AttachmentOutcome> {
    const account = this.#holdAccount(att);
    if (isOutcome(account)) return account;
    const group = att.spec.gallery.resourceGroup;
    const outside = group ? checkResourceGroupScope<AttachmentFound>(account, group, 'spec.gallery.resourceGroup') : undefined;
    if (outside) return outside;
    // Computed at most once per pass, and before any read, so that a change during the read forces the next one.
    let fingerprint: string | undefined;
    const fingerprintNow = () => (fingerprint ??= `${att.metadata.generation ?? 0}/${exportsFingerprint(this.#exportsOf(att))}`);
    const unchanged = this.#unchanged(att, fingerprintNow);
    if (unchanged) return unchanged;

    const readFingerprint = fingerprintNow();
    const connection = await this.#deps.connector.connect(account, signal);
    const ref = galleryRef(att, connection);
    const gallery = await this.#ensureGallery(att, account, connection.port, ref, log);
    if (isOutcome(gallery)) return gallery;
    const images = await readCatalogue(connection.port, ref, this.#exportsOf(att), att.spec.images);
    this.#refreshed.remember(att, readFingerprint);
    const made = gallery.tags[CREATED_BY_TAG] === att.metadata.uid ? 'created by this attachment' : 'adopted';
    const message = `${where(ref)} (${made}) is attached to LabAccount ${att.spec.labAccountRef.name}; ${images.length} image(s) in its catalogue`;
    return ready('GalleryAttached', message, { found: { galleryId: gallery.id, images }, requeueAfter: this.#deps.settings.syncPeriodMs });
  }

  /** The account, when this attachment holds it and it is Ready; otherwise why not. */
  #holdAccount(att: GalleryAttachment): LabAccount | AttachmentOutcome {
    const namespace = att.metadata.namespace ?? '';
    const accountName = att.spec.labAccountRef.name;
    const holder = holderOf(this.#deps.attachments.byIndex(BY_ACCOUNT, objectKey(namespace, accountName)));
    if (holder && holder.metadata.name !== att.metadata.name) {
      const message =
        `LabAccount ${accountName} already holds a gallery through GalleryAttachment ${holder.metadata.name} (the oldest attachment wins): ` +
        `delete one of the two; this one attaches by itself once ${holder.metadata.name} is gone`;
      return stalled('AccountAlreadyAttached', message, {});
    }
    const account = this.#deps.accounts.get(accountName, namespace);
    if (!account) return progressing('AccountNotFound', `waiting for LabAccount ${accountName} (spec.labAccountRef) to exist`, { found: {} });
    const accountReady = findCondition(conditionsOf(account), READY);
    if (account.status?.observedGeneration !== account.metadata.generation || accountReady?.status !== 'True') {
      const accountStalled = findCondition(conditionsOf(account), STALLED);
      if (accountStalled?.status === 'True') return stalled('AccountNotReady', `LabAccount ${accountName} is Stalled (${accountStalled.reason}): ${accountStalled.message}`, {});
      return progressing('AccountNotReady', `waiting for LabAccount ${accountName} to be Ready${accountReady ? `: ${accountReady.message}` : ''}`, { found: {} });
    }
    return account;
  }

  /**
   * Attached at this generation and read within the sync period, with no export of the account
   * changed since (or changed, but read only moments ago, or exports are still at work and it was
   * read within the minute): what status says stands, until the read is due.
   */
  #unchanged(att: GalleryAttachment, fingerprint: () => string): AttachmentOutcome | undefined {
    const readyNow = findCondition(conditionsOf(att), READY);
    if (readyNow?.status !== 'True' || readyNow.observedGeneration !== (att.metadata.generation ?? 0)) return undefined;
    const busy = this.#deps.exports.countByIndex(UNSETTLED_BY_ACCOUNT, objectKey(att.metadata.namespace, att.spec.labAccountRef.name)) > 0;
    const dueIn = this.#refreshed.dueIn(att, fingerprint, Date.now(), busy ? Math.min(CATALOGUE_BUSY_COALESCE_MS, this.#refreshed.periodMs) : undefined);
    if (dueIn <= 0) return undefined;
    const found = { ...(att.status?.galleryId ? { galleryId: att.status.galleryId } : {}), ...(att.status?.images ? { images: att.status.images } : {}) };
    return ready(readyNow.reason, readyNow.message, { found, requeueAfter: dueIn });
  }

  /** The gallery, created when missing (unless spec.gallery.create is false); or why it cannot be used yet. */
  async #ensureGallery(att: GalleryAttachment, account: LabAccount, port: GalleryPort, ref: GalleryRef, log: Logger): Promise<GalleryObservation | AttachmentOutcome> {
    const gallery = await port.observeGallery(ref);
    if (!gallery || gallery.provisioningState === 'Deleting') {
      if (att.spec.gallery.create === false) {
        return stalled('GalleryNotFound', `${where(ref)} does not exist (spec.gallery.create is false): create it in Azure, or set spec.gallery.create to true`, {});
      }
      if (gallery) return progressing('GalleryDeleting', `${where(ref)} is being deleted; it is created again once that finishes`, { found: {}, requeueAfter: PROVISIONING_POLL_MS });
      const handle = await port.createGallery(ref, {
        location: account.spec.location,
        description: `Lab images of LabAccount ${att.metadata.namespace}/${account.metadata.name}`,
        tags: { [CREATED_BY_TAG]: att.metadata.uid ?? '' },
      });
      log.info({ gallery: ref }, 'creating gallery');
      this.#deps.events.event(att, 'Normal', 'CreatingGallery', `creating ${where(ref)} in ${account.spec.location}`, 'Create');
      return progressing('CreatingGallery', `creating ${where(ref)}`, { found: {}, requeueAfter: requeueAfter(handle) });
    }
    if (gallery.provisioningState === 'Failed') {
      return stalled('GalleryFailed', `${where(ref)} is in provisioning state Failed: look at it in Azure, then delete it or fix it`, { galleryId: gallery.id });
    }
    if (gallery.provisioningState !== 'Succeeded') {
      return progressing('GalleryProvisioning', `${where(ref)} is ${gallery.provisioningState}`, { found: { galleryId: gallery.id }, requeueAfter: PROVISIONING_POLL_MS });
    }
    return gallery;
  }

  /** Deletion: detach (the default), or delete the gallery this attachment created; then the finalizer goes. */
  async #detach(att: GalleryAttachment, { log, signal }: ReconcileContext): Promise<AttachmentOutcome | Released> {
    this.#refreshed.forget(att.metadata.namespace ?? '', att.metadata.name ?? '');
    if (att.spec.deletionPolicy === 'Delete') {
      const account = this.#deps.accountsForDeletion.get(att.spec.labAccountRef.name, att.metadata.namespace);
      const exports = this.#exportsOf(att).map((e) => e.metadata.name ?? '');
      const deleting = await deleteOwnGallery(att, account, exports, { connector: this.#deps.connector, events: this.#deps.events, log, signal });
      if (deleting) return deleting;
    }
    this.#deps.events.event(att, 'Normal', 'Detached', `detached from LabAccount ${att.spec.labAccountRef.name}`, 'Delete');
    return RELEASED;
  }

  #exportsOf(att: GalleryAttachment): ImageExport[] {
    return this.#deps.exports.byIndex(BY_ACCOUNT, objectKey(att.metadata.namespace, att.spec.labAccountRef.name));
  }
}
