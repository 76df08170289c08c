// The LabAccount controller's wiring: its caches and indexes, and the attachments whose changes
// wake an account. The logic is in reconciler.ts.
import { RESOURCES, type GalleryAttachment, type LabAccount } from '../../api/index.ts';
import type { ControllerSetup } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { ATTACHMENT_INDEXES, addIndexes } from '../common/indexes.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { LabAccountReconciler } from './reconciler.ts';

export function labAccountController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    addIndexes(attachments, ATTACHMENT_INDEXES);
    const reconciler = new LabAccountReconciler({
      accounts: mgr.informer<LabAccount>(RESOURCES.LabAccount),
      attachments,
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
        {
          resource: RESOURCES.GalleryAttachment,
          map: (obj) => {
            const ref = (obj as GalleryAttachment).spec?.labAccountRef?.name;
            return ref ? [{ namespace: obj.metadata?.namespace ?? '', name: ref }] : [];
          },
        },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
