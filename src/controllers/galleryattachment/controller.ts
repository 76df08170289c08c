// The GalleryAttachment controller's wiring: its caches and indexes, and the kinds whose changes
// wake an attachment. The logic is in reconciler.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount } from '../../api/index.ts';
import { objectKey, type ControllerSetup, type Request } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { DepartedAccounts } from '../common/departed-accounts.ts';
import { ATTACHMENT_INDEXES, BY_ACCOUNT, EXPORT_INDEXES, addIndexes } from '../common/indexes.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { GalleryAttachmentReconciler } from './reconciler.ts';

export function galleryAttachmentController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    const exports = mgr.informer<ImageExport>(RESOURCES.ImageExport);
    addIndexes(attachments, ATTACHMENT_INDEXES);
    addIndexes(exports, EXPORT_INDEXES);
    const reconciler = new GalleryAttachmentReconciler({
      attachments,
      accounts: mgr.informer<LabAccount>(RESOURCES.LabAccount),
      accountsForDeletion: new DepartedAccounts(mgr.informer<LabAccount>(RESOURCES.LabAccount)),
      exports,
      client: mgr.client,
      events: mgr.eventRecorder('galleryattachment-controller'),
      connector: ctx.accounts,
      settings: ctx,
    });

    const toAttachments = (namespace: string | undefined, account: string | undefined, except?: string): Request[] =>
      account
        ? attachments
            .byIndex(BY_ACCOUNT, objectKey(namespace, account))
            .filter((a) => a.metadata.name !== except)
            .map((a) => ({ namespace: namespace ?? '', name: a.metadata.name ?? '' }))
        : [];

    return {
      name: 'galleryattachment',
      for: RESOURCES.GalleryAttachment,
      forPredicate: generationChangedOrRequested,
      watches: [
        // The account's readiness gates attaching.
        { resource: RESOURCES.LabAccount, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, obj.metadata?.name) },
        // Attachments of one account decide together who holds it: when one comes or goes, the others look again.
        { resource: RESOURCES.GalleryAttachment, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, (obj as GalleryAttachment).spec?.labAccountRef?.name, obj.metadata?.name) },
        // An export that changes may change the catalogue.
        { resource: RESOURCES.ImageExport, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, (obj as ImageExport).spec?.labAccountRef?.name) },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
