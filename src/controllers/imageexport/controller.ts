// The ImageExport controller's wiring: the caches and indexes it reads, the kinds whose changes
// wake an export, and the phase gauge. The logic is in reconciler.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import { EXPORT_PHASES, RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import { READY, findCondition, keyOf, objectKey, splitKey, type ControllerSetup, type Informer, type Request, type UpdatePredicate } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import { DepartedAccounts } from '../common/departed-accounts.ts';
import { BEING_DELETED, BY_ACCOUNT, BY_SOURCE_TEMPLATE, DELETING, EXPORT_INDEXES, addIndexes } from '../common/indexes.ts';
import { conditionsOf } from '../common/object-writer.ts';
import { generationChangedOrRequested } from '../common/reconcile-request.ts';
import { ImageExportReconciler } from './reconciler.ts';

/**
 * What exports read of their account and its attachment: spec, deletion, Ready and the gallery. A
 * catalogue refresh changes none of it, and would otherwise wake every export of the account.
 */
const exportFactsChanged: UpdatePredicate = (oldObj, newObj) => JSON.stringify(exportFacts(oldObj)) !== JSON.stringify(exportFacts(newObj));

function exportFacts(obj: KubernetesObject): unknown[] {
  const status = (obj as { status?: { galleryId?: string; gallery?: { attachment?: string }; conditions?: readonly object[] } }).status;
  return [obj.metadata?.generation, obj.metadata?.deletionTimestamp, findCondition(conditionsOf({ status }), READY)?.status, status?.galleryId, status?.gallery?.attachment];
}

function phaseGauge(exports: Informer<ImageExport>, ctx: OperatorContext): void {
  if (!ctx.registry) return;
  new Gauge({
    name: 'labimages_image_exports',
    help: 'ImageExports in the cache, by status.phase.',
    labelNames: ['phase'],
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const phase of EXPORT_PHASES) this.set({ phase }, 0);
      for (const e of exports.list()) if (e.status?.phase) this.inc({ phase: e.status.phase });
    },
  });
}

export function imageExportController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const exports = mgr.informer<ImageExport>(RESOURCES.ImageExport);
    addIndexes(exports, EXPORT_INDEXES);
    phaseGauge(exports, ctx);
    const reconciler = new ImageExportReconciler({
      exports,
      accounts: mgr.informer<LabAccount>(RESOURCES.LabAccount),
      accountsForDeletion: new DepartedAccounts(mgr.informer<LabAccount>(RESOURCES.LabAccount)),
      attachments: mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment),
      templates: mgr.informer<LabTemplate>(RESOURCES.LabTemplate),
      client: mgr.client,
      events: mgr.eventRecorder('imageexport-controller'),
      connector: ctx.accounts,
      settings: ctx,
    });

    const exportsOfAccount = (namespace: string | undefined, account: string | undefined): Request[] =>
      account ? exports.byIndex(BY_ACCOUNT, objectKey(namespace, account)).map((e) => ({ namespace: namespace ?? '', name: e.metadata.name ?? '' })) : [];
    const exportsOfTemplate = (obj: KubernetesObject): Request[] => {
      const t = obj as LabTemplate;
      const namespace = t.metadata.namespace ?? '';
      const keys = new Set(exports.byIndex(BY_SOURCE_TEMPLATE, objectKey(namespace, t.metadata.name ?? '')).map(keyOf));
      if (t.spec?.image?.imageExportRef) keys.add(objectKey(namespace, t.spec.image.imageExportRef.name));
      // A template going away may unblock the deletion of any export it used, in any namespace.
      for (const e of exports.byIndex(DELETING, BEING_DELETED)) keys.add(keyOf(e));
      return [...keys].map(splitKey);
    };

    return {
      name: 'imageexport',
      for: RESOURCES.ImageExport,
      forPredicate: generationChangedOrRequested,
      watches: [
        { resource: RESOURCES.LabAccount, map: (a) => exportsOfAccount(a.metadata?.namespace, a.metadata?.name), predicate: exportFactsChanged },
        { resource: RESOURCES.GalleryAttachment, map: (a) => exportsOfAccount(a.metadata?.namespace, (a as GalleryAttachment).spec?.labAccountRef?.name), predicate: exportFactsChanged },
        { resource: RESOURCES.LabTemplate, map: exportsOfTemplate },
      ],
      reconcile: (request, context) => reconciler.reconcile(request, context),
    };
  };
}
