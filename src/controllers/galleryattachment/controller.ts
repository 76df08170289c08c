// The GalleryAttachment controller's wiring: its caches and indexes, and the kinds whose changes
// wake an attachment. The logic is in reconciler.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount } from '../../api/index.ts';
import { objectKey, type ControllerSetup, type Request, type UpdatePredicate } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { DepartedAccounts } from '../common/departed-accounts.ts';
import { ATTACHMENT_INDEXES, BY_ACCOUNT, EXPORT_INDEXES, addIndexes } from '../common/indexes.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { catalogueFacts } from './catalogue.ts';
import { GalleryAttachmentReconciler } from './reconciler.ts';

/**
 * An export's update wakes its account's attachments only when the catalogue may change with it:
 * not for its finalizer or its progress, which are most of the updates while exports are at work.
 */
const catalogueFactsChanged: UpdatePredicate = (oldObj, newObj) => {
  const [o, n] = [oldObj as ImageExport, newObj as ImageExport];
  return o.spec?.labAccountRef?.name !== n.spec?.labAccountRef?.name || JSON.stringify(catalogueFacts(o)) !== JSON.stringify(catalogueFacts(n));
};

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
        { resource: RESOURCES.ImageExport, map: (obj: KubernetesObject) => toAttachments(obj.metadata?.namespace, (obj as ImageExport).spec?.labAccountRef?.name), predicate: catalogueFactsChanged },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
