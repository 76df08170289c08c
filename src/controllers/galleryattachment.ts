// The GalleryAttachment controller: one gallery per lab account (the oldest attachment holds it),
// created or adopted, its image catalogue in status, and detach (or delete) on deletion.
import { RESOURCES } from '../api/index.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { GalleryAttachment, GalleryAttachmentStatus, ImageExport, LabAccount } from '../api/index.ts';
import { ArmError } from '../azure/index.ts';
import type { Logger } from '../log.ts';
import {
  Conditions,
  READY,
  STALLED,
  addFinalizer,
  findCondition,
  generationChanged,
  hasFinalizer,
  objectKey,
  removeFinalizer,
  type ControllerSetup,
  type Request,
  type Result,
} from '../runtime/index.ts';
import type { OperatorContext } from './context.ts';
import { exportsFingerprint, readCatalogue } from './gallery-catalogue.ts';
import { CREATED_BY_TAG, PROVISIONING_RECHECK_MS, afterHandle, deleteOwnGallery, galleryRef } from './gallery-detach.ts';
import {
  BY_ACCOUNT_INDEX,
  SyncMemo,
  armFailure,
  conditionsOf,
  holderOf,
  indexByAccount,
  isCredentialRejection,
  writeStatus,
} from './shared.ts';
import { StalledError } from './stalled.ts';

export const GALLERY_ATTACHMENT_FINALIZER = 'labimages.io/finalizer';
// Stalled for these waits on something we do not watch (a Secret, Azure), so it is looked at again.
const RECHECKED_REASONS = new Set(['GalleryNotFound', 'GalleryFailed', 'CredentialsNotFound', 'CredentialsRejected', 'EmulatorDisabled']);

interface Attempt {
  result: Result;
  rethrow?: unknown;
}

export function galleryAttachmentController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    const accounts = mgr.informer<LabAccount>(RESOURCES.LabAccount);
    const exports = mgr.informer<ImageExport>(RESOURCES.ImageExport);
    indexByAccount(attachments);
    indexByAccount(exports);
    const recorder = mgr.eventRecorder('galleryattachment-controller');
    // While exports of the account change in a burst, the catalogue is read at most every few seconds.
    const refreshed = new SyncMemo(ctx.syncPeriodMs, { coalesceMs: Math.min(5000, ctx.syncPeriodMs / 10) });

    const ofAccount = (namespace: string, account: string) => attachments.byIndex(BY_ACCOUNT_INDEX, objectKey(namespace, account));
    const exportsOf = (namespace: string, account: string) => exports.byIndex(BY_ACCOUNT_INDEX, objectKey(namespace, account));

    /** Holds the account, waits for it to be Ready, then creates or adopts the gallery and reads its catalogue. */
    async function attach(att: GalleryAttachment, conditions: Conditions, status: GalleryAttachmentStatus, log: Logger): Promise<Result> {
      const namespace = att.metadata.namespace ?? '';
      const accountName = att.spec.labAccountRef.name;
      const holder = holderOf(ofAccount(namespace, accountName));
      if (holder && holder.metadata.name !== att.metadata.name) {
        throw new StalledError(
          'AccountAlreadyAttached',
          `LabAccount ${accountName} already holds a gallery through GalleryAttachment ${holder.metadata.name} (the oldest attachment wins): ` +
            `delete one of the two; this one attaches by itself once ${holder.metadata.name} is gone`,
        );
      }
      const account = accounts.get(accountName, namespace);
      if (!account) {
        conditions.reconciling('AccountNotFound', `waiting for LabAccount ${accountName} (spec.labAccountRef) to exist`);
        return {};
      }
      const accountReady = findCondition(conditionsOf(account), READY);
      if (account.status?.observedGeneration !== account.metadata.generation || accountReady?.status !== 'True') {
        const stalled = findCondition(conditionsOf(account), STALLED);
        if (stalled?.status === 'True') throw new StalledError('AccountNotReady', `LabAccount ${accountName} is Stalled (${stalled.reason}): ${stalled.message}`);
        conditions.reconciling('AccountNotReady', `waiting for LabAccount ${accountName} to be Ready${accountReady ? `: ${accountReady.message}` : ''}`);
        return {};
      }

      // Attached at this generation and read within the sync period, with no export of the account changed since
      // (or changed, but read only moments ago): nothing to read yet.
      const generation = att.metadata.generation ?? 0;
      // Computed at most once per reconcile, and before any read, so that a change during the read forces the next one.
      let fingerprint: string | undefined;
      const fingerprintNow = () => (fingerprint ??= `${generation}/${exportsFingerprint(exportsOf(namespace, accountName))}`);
      const ready = conditions.get(READY);
      const dueIn = ready?.status === 'True' && ready.observedGeneration === generation ? refreshed.dueIn(att, fingerprintNow) : 0;
      if (dueIn > 0) {
        if (att.status?.galleryId) status.galleryId = att.status.galleryId;
        if (att.status?.images) status.images = att.status.images;
        return { requeueAfter: dueIn };
      }

      const readFingerprint = fingerprintNow();
      const connection = await ctx.accounts.connect(account);
      const ref = galleryRef(att, connection);
      const where = `gallery ${ref.gallery} in resource group ${ref.resourceGroup}`;
      const gallery = await connection.port.observeGallery(ref);
      if (!gallery || gallery.provisioningState === 'Deleting') {
        if (att.spec.gallery.create === false) {
          throw new StalledError('GalleryNotFound', `${where} does not exist (spec.gallery.create is false): create it in Azure, or set spec.gallery.create to true`);
        }
        if (gallery) {
          conditions.reconciling('GalleryDeleting', `${where} is being deleted; it is created again once that finishes`);
          return { requeueAfter: PROVISIONING_RECHECK_MS };
        }
        const handle = await connection.port.createGallery(ref, {
          location: account.spec.location,
          description: `Lab images of LabAccount ${namespace}/${accountName}`,
          tags: { [CREATED_BY_TAG]: att.metadata.uid ?? '' },
        });
        log.info({ gallery: ref }, 'creating gallery');
        recorder.event(att, 'Normal', 'CreatingGallery', `creating ${where} in ${account.spec.location}`, 'Create');
        conditions.reconciling('CreatingGallery', `creating ${where}`);
        return { requeueAfter: afterHandle(handle) };
      }
      status.galleryId = gallery.id;
      if (gallery.provisioningState === 'Failed') {
        throw new StalledError('GalleryFailed', `${where} is in provisioning state Failed: look at it in Azure, then delete it or fix it`);
      }
      if (gallery.provisioningState !== 'Succeeded') {
        conditions.reconciling('GalleryProvisioning', `${where} is ${gallery.provisioningState}`);
        return { requeueAfter: PROVISIONING_RECHECK_MS };
      }
      status.images = await readCatalogue(connection.port, ref, exportsOf(namespace, accountName), att.spec.images);
      refreshed.remember(att, readFingerprint);
      const made = gallery.tags[CREATED_BY_TAG] === att.metadata.uid ? 'created by this attachment' : 'adopted';
      conditions.ready('GalleryAttached', `${where} (${made}) is attached to LabAccount ${accountName}; ${status.images.length} image(s) in its catalogue`);
      return { requeueAfter: ctx.syncPeriodMs };
    }

    async function finalize(att: GalleryAttachment, log: Logger): Promise<Result> {
      const { namespace = '', name = '' } = att.metadata;
      refreshed.forget(namespace, name);
      if (!hasFinalizer(att, GALLERY_ATTACHMENT_FINALIZER)) return {};
      if (att.spec.deletionPolicy === 'Delete') {
        const conditions = new Conditions(conditionsOf(att), att.metadata.generation ?? 0);
        const account = accounts.get(att.spec.labAccountRef.name, att.metadata.namespace);
        const pending = await deleteOwnGallery(att, account, ctx.accounts, recorder, conditions, log);
        if (pending) {
          await writeStatus(mgr.client, RESOURCES.GalleryAttachment, recorder, att, { ...att.status, conditions: conditions.list() }, log);
          return pending;
        }
      }
      await removeFinalizer(mgr.client, RESOURCES.GalleryAttachment, att, GALLERY_ATTACHMENT_FINALIZER);
      recorder.event(att, 'Normal', 'Detached', `detached from LabAccount ${att.spec.labAccountRef.name}`, 'Delete');
      return {};
    }

    async function reconcile({ namespace, name }: Request, log: Logger): Promise<Result> {
      const cached = attachments.get(name, namespace);
      if (!cached) {
        refreshed.forget(namespace, name);
        return {};
      }
      if (cached.metadata.deletionTimestamp) return await finalize(cached, log);
      const att = (await addFinalizer(mgr.client, RESOURCES.GalleryAttachment, cached, GALLERY_ATTACHMENT_FINALIZER)) ?? cached;

      const generation = att.metadata.generation ?? 0;
      const conditions = new Conditions(conditionsOf(att), generation);
      const status: GalleryAttachmentStatus = { observedGeneration: generation };
      let attempt: Attempt;
      try {
        attempt = { result: await attach(att, conditions, status, log) };
      } catch (err) {
        refreshed.forget(namespace, name);
        if (err instanceof StalledError) {
          conditions.stalled(err.reason, err.message);
          attempt = { result: RECHECKED_REASONS.has(err.reason) ? { requeueAfter: ctx.stalledRecheckMs } : {} };
        } else if (err instanceof ArmError && isCredentialRejection(err)) {
          const account = accounts.get(att.spec.labAccountRef.name, namespace);
          if (account) ctx.accounts.forget(account);
          conditions.stalled('CredentialsRejected', `Azure refused the credentials of LabAccount ${att.spec.labAccountRef.name} (${err.code}): ${err.message}`);
          attempt = { result: { requeueAfter: ctx.stalledRecheckMs } };
        } else if (err instanceof ArmError) {
          const failure = armFailure(err, conditions, `gallery ${att.spec.gallery.name}`, ctx.stalledRecheckMs);
          attempt = { result: failure.result, rethrow: failure.rethrow ? err : undefined };
        } else {
          throw err;
        }
      }

      await writeStatus(mgr.client, RESOURCES.GalleryAttachment, recorder, att, { ...status, conditions: conditions.list() }, log);
      if (attempt.rethrow) throw attempt.rethrow;
      return attempt.result;
    }

    const toAttachments = (namespace: string | undefined, account: string | undefined, except?: string) =>
      account ? ofAccount(namespace ?? '', account).filter((a) => a.metadata.name !== except).map((a) => ({ namespace: namespace ?? '', name: a.metadata.name ?? '' })) : [];

    return {
      name: 'galleryattachment',
      for: RESOURCES.GalleryAttachment,
      forPredicate: generationChanged,
      watches: [
        // The account's readiness gates attaching.
        { resource: RESOURCES.LabAccount, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, obj.metadata?.name) },
        // Attachments of one account decide together who holds it: when one comes or goes, the others look again.
        {
          resource: RESOURCES.GalleryAttachment,
          map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, (obj as GalleryAttachment).spec?.labAccountRef?.name, obj.metadata?.name),
        },
        // An export that changes may change the catalogue.
        { resource: RESOURCES.ImageExport, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, (obj as ImageExport).spec?.labAccountRef?.name) },
      ],
      reconcile,
    };
  };
}
