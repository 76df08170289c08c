// The LabAccount controller's wiring: its caches and indexes, the attachments whose changes wake
// an account, and the exports and templates whose going wakes an account being deleted. The logic
// is in reconciler.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import type { ControllerSetup, Request } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { ATTACHMENT_INDEXES, EXPORT_INDEXES, TEMPLATE_INDEXES, addIndexes } from '../common/indexes.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { LabAccountReconciler } from './reconciler.ts';

/** The account an object refers to (`spec.labAccountRef`). */
function accountOf(obj: KubernetesObject): Request[] {
  const ref = (obj as { spec?: { labAccountRef?: { name?: string } } }).spec?.labAccountRef?.name;
  return ref ? [{ namespace: obj.metadata?.namespace ?? '', name: ref }] : [];
}

export function labAccountController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const accounts = mgr.informer<LabAccount>(RESOURCES.LabAccount);
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    const exports = mgr.informer<ImageExport>(RESOURCES.ImageExport);
    const templates = mgr.informer<LabTemplate>(RESOURCES.LabTemplate);
    addIndexes(attachments, ATTACHMENT_INDEXES);
    addIndexes(exports, EXPORT_INDEXES);
    addIndexes(templates, TEMPLATE_INDEXES);
    // Only an account being deleted cares about its exports and templates: their going may release it.
    const accountBeingDeleted = (obj: KubernetesObject): Request[] =>
      accountOf(obj).filter((r) => accounts.get(r.name, r.namespace)?.metadata.deletionTimestamp !== undefined);
    const reconciler = new LabAccountReconciler({
      accounts,
      attachments,
      exports,
      templates,
      client: mgr.client,
      events: mgr.eventRecorder('labaccount-controller'),
      connector: ctx.accounts,
      settings: ctx,
    });
    return {
      name: 'labaccount',
      for: RESOURCES.LabAccount,
      forPredicate: generationChangedOrRequested,
      watches: [
        { resource: RESOURCES.GalleryAttachment, map: accountOf },
        { resource: RESOURCES.ImageExport, map: accountBeingDeleted },
        { resource: RESOURCES.LabTemplate, map: accountBeingDeleted },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
