// The LabTemplate controller's wiring: its caches and indexes, and the kinds whose changes wake a
// template. The logic is in reconciler.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import { keyOf, objectKey, type ControllerSetup, type Request } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { DepartedAccounts } from '../common/departed-accounts.ts';
import { BY_ACCOUNT, BY_EXPORT, TEMPLATE_INDEXES, addIndexes } from '../common/indexes.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { LabTemplateReconciler } from './reconciler.ts';

/** The template an export is made from (spec.source.labTemplateRef). */
function sourceTemplate(obj: KubernetesObject): Request[] {
  const ref = (obj as ImageExport).spec?.source?.labTemplateRef;
  return ref ? [{ namespace: obj.metadata?.namespace ?? '', name: ref.name }] : [];
}

/** What the source template shows of an export: whether it goes, its phase and its progress. */
function runningFacts(obj: KubernetesObject): unknown[] {
  const { status } = obj as ImageExport;
  return [obj.metadata?.deletionTimestamp, status?.phase, status?.progress];
}

export function labTemplateController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const templates = mgr.informer<LabTemplate>(RESOURCES.LabTemplate);
    addIndexes(templates, TEMPLATE_INDEXES);
    const reconciler = new LabTemplateReconciler({
      templates,
      accounts: mgr.informer<LabAccount>(RESOURCES.LabAccount),
      accountsForDeletion: new DepartedAccounts(mgr.informer<LabAccount>(RESOURCES.LabAccount)),
      attachments: mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment),
      exports: mgr.informer<ImageExport>(RESOURCES.ImageExport),
      client: mgr.client,
      events: mgr.eventRecorder('labtemplate'),
      connector: ctx.accounts,
      settings: ctx,
    });
    const templatesBy = (index: string, key: string): Request[] => templates.byIndex(index, key).map((t) => ({ namespace: t.metadata.namespace ?? '', name: t.metadata.name ?? '' }));
    return {
      name: 'labtemplate',
      for: RESOURCES.LabTemplate,
      forPredicate: generationChangedOrRequested,
      watches: [
        // An export's progress (status.regions) is what a waiting template reacts to: no polling of Azure for it.
        { resource: RESOURCES.ImageExport, map: (e) => templatesBy(BY_EXPORT, keyOf(e)) },
        // The template an export is made from lists it while it runs.
        { resource: RESOURCES.ImageExport, map: sourceTemplate, predicate: (o, n) => JSON.stringify(runningFacts(o)) !== JSON.stringify(runningFacts(n)) },
        { resource: RESOURCES.LabAccount, map: (a) => templatesBy(BY_ACCOUNT, keyOf(a)) },
        { resource: RESOURCES.GalleryAttachment, map: (g) => templatesBy(BY_ACCOUNT, objectKey(g.metadata?.namespace, (g as GalleryAttachment).spec.labAccountRef.name)) },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
