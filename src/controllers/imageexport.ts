// The ImageExport controller: makes one image version in the account's gallery from a VM and
// replicates it, observing Azure before every action so that a restart at any line is safe.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import {
  EXPORT_PHASES,
  RESOURCES,
  type GalleryAttachment,
  type ImageExport,
  type ImageExportStatus,
  type LabAccount,
  type LabTemplate,
} from '../api/index.ts';
import {
  ArmError,
  type GalleryPort,
  type ImageObservation,
  type ImageRef,
  type ImageVersionObservation,
  type ImageVersionRef,
  type OperationHandle,
  type VirtualMachineObservation,
} from '../azure/index.ts';
import type { Logger } from '../log.ts';
import {
  READY,
  addFinalizer,
  findCondition,
  generationChanged,
  isConditionTrue,
  objectKey,
  removeFinalizer,
  type Condition,
  type ControllerSetup,
  type Request,
  type Result,
  type UpdatePredicate,
} from '../runtime/index.ts';
import type { OperatorContext } from './context.ts';
import {
  BY_ACCOUNT_INDEX,
  armReason,
  conditionsOf,
  indexByAccount,
  isCredentialRejection,
  writeStatus,
} from './shared.ts';
import { desiredTargets, planTargets, regionStatuses, sameTargets, type TargetRegion } from './imageexport-regions.ts';
import { computeStatus, replicationPollMs, summarize, type ExportView } from './imageexport-status.ts';
import { nextVersion } from './imageexport-version.ts';
import { StalledError } from './stalled.ts';
import { RecentReads } from './recent-reads.ts';
import { VersionLedger } from './version-ledger.ts';

export const IMAGE_EXPORT_FINALIZER = 'labimages.io/image-export';
/** Exports by `namespace/source.labTemplateRef.name`. */
const BY_SOURCE_TEMPLATE = 'labimages.io/source-template';
/** Exports by image definition name, to see the versions other exports of an image claim. */
const BY_IMAGE = 'labimages.io/image-name';
/** Stalls whose cause lies only in objects we watch need no timed recheck. */
const SPEC_STALLS = new Set(['RegionOutsideGeography', 'VersionInUse']);
/** How long a settled image definition or source VM, once read, stands for a fresh read. */
const RECENT_READ_MS = 5000;

/** What a reconcile decided: the status to write and when to look again. */
interface Step {
  view: ExportView;
  result: Result;
}

const waitFor = (reason: string, message: string, requeueAfter?: number): Step => ({
  view: { waiting: { reason, message } },
  result: requeueAfter === undefined ? {} : { requeueAfter },
});

function vmRef(id: string): { resourceGroup: string; name: string } | undefined {
  const [, resourceGroup, name] = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id) ?? [];
  return resourceGroup && name ? { resourceGroup, name } : undefined;
}

/**
 * spec.excludeFromLatest and spec.endOfLifeDate where they differ from the version in Azure, or
 * undefined when both match. A removed endOfLifeDate is left in Azure: ARM's PATCH cannot unset it.
 */
export function publishingChanges(exp: ImageExport, observed: ImageVersionObservation): { excludeFromLatest?: boolean; endOfLifeDate?: Date } | undefined {
  const changes: { excludeFromLatest?: boolean; endOfLifeDate?: Date } = {};
  const excludeFromLatest = exp.spec.excludeFromLatest ?? false;
  if (excludeFromLatest !== observed.excludeFromLatest) changes.excludeFromLatest = excludeFromLatest;
  const endOfLife = exp.spec.endOfLifeDate ? new Date(exp.spec.endOfLifeDate) : undefined;
  if (endOfLife && endOfLife.getTime() !== observed.endOfLifeDate?.getTime()) changes.endOfLifeDate = endOfLife;
  return Object.keys(changes).length > 0 ? changes : undefined;
}

function imageKey(ref: ImageRef): string {
  return `${ref.resourceGroup}/${ref.gallery}/${ref.image}`.toLowerCase();
}

/**
 * What exports read of their account and its attachment: spec, deletion, Ready and the gallery. A
 * catalogue refresh changes none of it, and would otherwise wake every export of the account.
 */
const exportFactsChanged: UpdatePredicate = (oldObj, newObj) => JSON.stringify(exportFacts(oldObj)) !== JSON.stringify(exportFacts(newObj));

function exportFacts(obj: KubernetesObject): unknown[] {
  const status = (obj as { status?: { galleryId?: string; gallery?: { attachment?: string }; conditions?: readonly object[] } }).status;
  return [obj.metadata?.generation, obj.metadata?.deletionTimestamp, findCondition(conditionsOf({ status }), READY)?.status, status?.galleryId, status?.gallery?.attachment];
}

const inProgressStates = new Set(['Creating', 'Updating', 'Deleting', 'Migrating']);

export function imageExportController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const exports = mgr.informer<ImageExport>(RESOURCES.ImageExport);
    const accounts = mgr.informer<LabAccount>(RESOURCES.LabAccount);
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    const templates = mgr.informer<LabTemplate>(RESOURCES.LabTemplate);
    indexByAccount(exports);
    exports.addIndex(BY_SOURCE_TEMPLATE, (e) => (e.spec?.source?.labTemplateRef ? [objectKey(e.metadata?.namespace, e.spec.source.labTemplateRef.name)] : []));
    exports.addIndex(BY_IMAGE, (e) => (e.spec?.image?.name ? [e.spec.image.name.toLowerCase()] : []));
    const recorder = mgr.eventRecorder('imageexport-controller');

    // Optimisations only, rebuilt from Azure after a restart: the ARM operation each export started
    // (for its Retry-After and its error), the version each export chose, so that two workers
    // choosing at once for one image do not pick the same one before the cache shows either, and
    // the versions each image had when this process first looked.
    const operations = new Map<string, { handle: OperationHandle; error?: string }>();
    const claims = new Map<string, { image: string; version: string }>();
    const ledger = new VersionLedger();
    // A burst of exports of one image from one VM reads each once every few seconds, not once per export.
    // A definition or VM deleted meanwhile makes the version's PUT fail, which Stalls the export until a recheck.
    const recentImages = new RecentReads<ImageObservation | undefined>(RECENT_READ_MS);
    const recentVms = new RecentReads<VirtualMachineObservation | undefined>(RECENT_READ_MS);
    const settled = (resource: { provisioningState?: string } | undefined) => resource?.provisioningState === 'Succeeded';

    if (ctx.registry) {
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

    function forget(uid: string | undefined): void {
      if (!uid) return;
      operations.delete(uid);
      claims.delete(uid);
    }

    /** Versions of the image that other exports hold in status, or have just chosen in this process. */
    function claimedByOthers(exp: ImageExport, ref: ImageRef): string[] {
      const uid = exp.metadata.uid;
      const key = imageKey(ref);
      const fromCache = exports
        .byIndex(BY_IMAGE, exp.spec.image.name.toLowerCase())
        .filter((e) => e.metadata.uid !== uid)
        .flatMap((e) => (e.status?.version ? [e.status.version] : []));
      const inFlight = [...claims].filter(([other, claim]) => other !== uid && claim.image === key).map(([, claim]) => claim.version);
      return [...fromCache, ...inFlight];
    }

    /** LabTemplates that use the export: by reference, or by the gallery image version it made. */
    function templatesUsing(exp: ImageExport): string[] {
      const { version, imageVersionId } = exp.status ?? {};
      return templates
        .list(exp.metadata.namespace)
        .filter((t) => {
          const image = t.spec?.image ?? {};
          if (image.imageExportRef?.name === exp.metadata.name) return true;
          if (!version || image.galleryImage?.name !== exp.spec.image.name || t.spec.labAccountRef.name !== exp.spec.labAccountRef.name) return false;
          return image.galleryImage.version === version || (!!imageVersionId && t.status?.image?.versionId?.toLowerCase() === imageVersionId.toLowerCase());
        })
        .map((t) => t.metadata.name ?? '')
        .sort();
    }

    interface Gallery {
      account: LabAccount;
      port: GalleryPort;
      image: ImageRef;
    }

    /** The account's attached gallery, or why there is none to use yet. */
    async function galleryOf(exp: ImageExport): Promise<Gallery | Step> {
      const namespace = exp.metadata.namespace;
      const accountName = exp.spec.labAccountRef.name;
      const account = accounts.get(accountName, namespace);
      if (!account || !isConditionTrue(account.status?.conditions as Condition[] | undefined, READY)) {
        return waitFor('AccountNotReady', `LabAccount ${accountName} ${account ? 'is not Ready' : 'does not exist'}`);
      }
      const attachmentName = account.status?.gallery?.attachment;
      const attachment = attachmentName ? attachments.get(attachmentName, namespace) : undefined;
      if (!attachment) return waitFor('NoGalleryAttached', `No gallery is attached to LabAccount ${accountName}: create a GalleryAttachment for it`);
      if (!attachment.status?.galleryId || !isConditionTrue(attachment.status.conditions as Condition[] | undefined, READY)) {
        return waitFor('NoGalleryAttached', `GalleryAttachment ${attachmentName} of LabAccount ${accountName} is not Ready yet`);
      }
      const connection = await ctx.accounts.connect(account);
      const image = { resourceGroup: attachment.spec.gallery.resourceGroup ?? connection.resourceGroup, gallery: attachment.spec.gallery.name, image: exp.spec.image.name };
      return { account, port: connection.port, image };
    }

    /** The VM to export: given, or the LabTemplate's template VM once it has one. */
    function sourceOf(exp: ImageExport): string | Step {
      const { source } = exp.spec;
      if (source.virtualMachineId) return source.virtualMachineId;
      const name = source.labTemplateRef?.name ?? '';
      const template = templates.get(name, exp.metadata.namespace);
      const id = template?.status?.vm?.id;
      if (id) return id;
      // Once made, the version outlives its source; only a recreation needs it back.
      if (exp.status?.imageVersionId) throw new StalledError('SourceMissing', `the image version is gone from the gallery and LabTemplate ${name} has no VM to recreate it from: delete the export or restore the template`);
      return waitFor('SourceNotReady', template ? `LabTemplate ${name} has no template VM yet` : `LabTemplate ${name} does not exist`);
    }

    /** The image definition, created when missing; one that exists must describe the same kind of image. */
    async function ensureImageDefinition(exp: ImageExport, g: Gallery): Promise<Step | undefined> {
      const want = { osType: exp.spec.image.osType, osState: exp.spec.image.osState ?? 'Specialized', hyperVGeneration: exp.spec.image.hyperVGeneration ?? 'V2' };
      const image = await recentImages.read(imageKey(g.image), () => g.port.observeImage(g.image), settled);
      if (!image) {
        const handle = await g.port.createImage(g.image, {
          location: g.account.spec.location,
          ...want,
          identifier: { publisher: 'labimages', offer: g.account.metadata.name ?? '', sku: exp.spec.image.name },
        });
        return waitFor('CreatingImageDefinition', `Creating image definition ${g.image.image}`, Math.max(500, Date.parse(handle.notBefore) - Date.now()));
      }
      const mismatched = (Object.keys(want) as (keyof typeof want)[]).filter((field) => (image[field] ?? 'V1') !== want[field]);
      if (mismatched.length > 0) {
        const detail = mismatched.map((field) => `${field} is ${image[field] ?? 'V1'} in the gallery, ${want[field]} in spec.image`).join('; ');
        throw new StalledError('ImageDefinitionMismatch', `image definition ${g.image.image} exists with other properties (${detail}): use another spec.image.name or fix spec.image`);
      }
      if (image.provisioningState !== 'Succeeded') return waitFor('CreatingImageDefinition', `Image definition ${g.image.image} is ${image.provisioningState}`, 1000);
      return undefined;
    }

    /** Creates the version (or recreates one deleted behind our back) from the source. */
    async function createVersion(exp: ImageExport, g: Gallery, ref: ImageVersionRef, targets: TargetRegion[]): Promise<Step> {
      const source = sourceOf(exp);
      const vmAt = typeof source === 'string' ? vmRef(source) : undefined;
      // Two independent reads, sent together: a new export waits on one round trip, not two.
      const [pending, vm] = await Promise.all([ensureImageDefinition(exp, g), vmAt ? recentVms.read(`${vmAt.resourceGroup}/${vmAt.name}`.toLowerCase(), () => g.port.observeVirtualMachine(vmAt), settled) : undefined]);
      if (pending) return pending;
      if (typeof source !== 'string') return source;
      if (!vm) throw new StalledError('SourceMissing', `source VM ${source} does not exist${exp.status?.imageVersionId ? ', so the image version that disappeared from the gallery cannot be recreated' : ''}`);
      if (vm.provisioningState !== 'Succeeded') return waitFor('SourceNotReady', `source VM ${vm.name} is ${vm.provisioningState}`, 2000);
      const handle = await g.port.createImageVersion(ref, {
        location: g.account.spec.location,
        source: { virtualMachineId: source },
        targetRegions: targets,
        ...(exp.spec.excludeFromLatest === undefined ? {} : { excludeFromLatest: exp.spec.excludeFromLatest }),
        ...(exp.spec.endOfLifeDate ? { endOfLifeDate: new Date(exp.spec.endOfLifeDate) } : {}),
        exportUid: exp.metadata.uid ?? '',
      });
      operations.set(exp.metadata.uid ?? '', { handle });
      return {
        view: {
          version: ref.version,
          imageVersionId: g.port.imageVersionId(ref),
          exported: false,
          targets,
          regions: regionStatuses(targets, undefined, new Map(), ctx.regionRetries),
          ...(vm.osDiskSizeGiB === undefined ? {} : { sizeGiB: vm.osDiskSizeGiB }),
        },
        result: { requeueAfter: Math.max(500, Date.parse(handle.notBefore) - Date.now()) },
      };
    }

    /**
     * The export's version: the one status records or this process chose (one GET), else one a
     * crashed process made for it (found by its tag in the ledger), else a new one: spec.version, or
     * the next after what the gallery has and other exports claim. A new one is checked free with a
     * GET, since the ledger may miss an upload made after it listed the image.
     */
    async function findVersion(exp: ImageExport, g: Gallery): Promise<{ version: string; observed: ImageVersionObservation | undefined }> {
      const uid = exp.metadata.uid ?? '';
      const key = imageKey(g.image);
      const list = () => g.port.listImageVersions(g.image);
      const observe = (version: string) => g.port.observeImageVersion({ ...g.image, version });
      const own = claims.get(uid);
      const known = exp.status?.version ?? (own?.image === key ? own.version : undefined);
      if (known) {
        const observed = await observe(known);
        if (!observed || observed.exportUid === uid) return { version: known, observed };
        await ledger.record(key, observed, list);
        if (exp.spec.version) throw new StalledError('VersionInUse', `version ${known} of image ${g.image.image} belongs to another export or upload: choose another spec.version`);
      }
      const made = (await ledger.versions(key, list)).find((v) => v.exportUid === uid);
      if (made) return { version: made.name, observed: await observe(made.name) };
      // A few rounds at most: each version found in the way is noted, so the next choice passes it.
      for (let round = 0; round < 5; round++) {
        const existing = (await ledger.versions(key, list)).map((v) => v.name);
        const candidate = exp.spec.version ?? nextVersion(new Set([...existing, ...claimedByOthers(exp, g.image)]));
        const inTheWay = await observe(candidate);
        if (!inTheWay || inTheWay.exportUid === uid) return { version: candidate, observed: inTheWay };
        await ledger.record(key, inTheWay, list);
        if (exp.spec.version) {
          throw new StalledError('VersionInUse', `version ${exp.spec.version} of image ${g.image.image} already exists and was not made by this export: choose another spec.version`);
        }
      }
      throw new Error(`image ${g.image.image}: every version chosen was taken by the time it was checked; trying again`);
    }

    async function sync(exp: ImageExport, log: Logger): Promise<Step> {
      const uid = exp.metadata.uid ?? '';
      const g = await galleryOf(exp);
      if ('view' in g) return g;
      const targets = desiredTargets(exp, g.account);
      const { version, observed } = await findVersion(exp, g);
      claims.set(uid, { image: imageKey(g.image), version });
      const ref = { ...g.image, version };
      if (!observed) {
        if (exp.status?.imageVersionId) log.info({ version }, 'image version missing from the gallery: recreating it from the source');
        return await createVersion(exp, g, ref, targets);
      }

      const base = { version, imageVersionId: g.port.imageVersionId(ref), targets, ...(observed.osDiskSizeGiB === undefined ? {} : { sizeGiB: observed.osDiskSizeGiB }) };
      const operation = operations.get(uid);
      if (inProgressStates.has(observed.provisioningState)) {
        let requeueAfter = 2000;
        if (operation) {
          const polled = await g.port.poll(operation.handle);
          if (polled.state === 'InProgress') {
            operation.handle = polled.handle;
            requeueAfter = Math.max(500, polled.retryAfterMs);
          } else if (polled.state === 'Failed') {
            operation.error = `${polled.error.code}: ${polled.error.message}`;
            requeueAfter = 0;
          }
        }
        // No retry decisions while an operation runs (no retries allowed): only the bookkeeping carries over.
        const regions = regionStatuses(targets, observed, planTargets(targets, observed, exp.status?.regions, 0, Date.now()).retries, ctx.regionRetries);
        return { view: { ...base, exported: observed.provisioningState !== 'Creating', regions }, result: { requeueAfter: Math.max(requeueAfter, 500) } };
      }
      const failedRegions = observed.replication?.regions.some((r) => r.state === 'Failed') ?? false;
      if (observed.provisioningState === 'Failed' && !failedRegions) {
        throw new StalledError('ExportFailed', `creating image version ${version} failed${operation?.error ? `: ${operation.error}` : ''}: delete the export and create it again`);
      }

      const now = Date.now();
      const plan = planTargets(targets, observed, exp.status?.regions, ctx.regionRetries, now);
      let requeueAfter: number | undefined;
      const publishing = publishingChanges(exp, observed);
      if (!sameTargets(observed, plan.targets) || publishing) {
        log.info({ version, targets: plan.targets.map((t) => t.name), ...publishing }, 'updating the image version');
        const handle = await g.port.updateImageVersion(ref, { targetRegions: plan.targets, ...publishing });
        operations.set(uid, { handle });
        requeueAfter = Math.max(500, Date.parse(handle.notBefore) - now);
      }
      const regions = regionStatuses(targets, observed, plan.retries, ctx.regionRetries);
      const summary = summarize(regions);
      if (requeueAfter === undefined && !summary.done) {
        const replicated = findCondition(exp.status?.conditions as Condition[] | undefined, 'Replicated');
        const since = Math.max(Date.parse(exp.status?.startTime ?? '') || now, replicated?.status === 'False' ? Date.parse(replicated.lastTransitionTime) : 0);
        requeueAfter = replicationPollMs(now - since);
      }
      if (plan.wakeAt !== undefined) requeueAfter = Math.min(requeueAfter ?? Infinity, Math.max(500, plan.wakeAt - now));
      return { view: { ...base, exported: true, regions }, result: requeueAfter === undefined ? {} : { requeueAfter } };
    }

    async function finalize(exp: ImageExport, log: Logger): Promise<Step | 'done'> {
      const blockedBy = templatesUsing(exp);
      if (blockedBy.length > 0) return { view: { deleting: { blockedBy } }, result: {} };
      if ((exp.spec.deletionPolicy ?? 'Delete') === 'Retain') return 'done';
      const g = await galleryOf(exp);
      if ('view' in g) {
        // Without the account's gallery nothing can be deleted; keeping the finalizer would block the namespace for ever.
        if (exp.status?.version) recorder.event(exp, 'Warning', 'ImageVersionLeft', `Could not delete image version ${exp.status.version}: ${g.view.waiting?.message ?? ''}`, 'Delete');
        return 'done';
      }
      // By tag, not by status alone: it finds a version made just before a crash, and never another export's.
      // The recorded version is looked at first, so that deleting many exports does not list the image for each.
      const uid = exp.metadata.uid ?? '';
      const recorded = exp.status?.version ? await g.port.observeImageVersion({ ...g.image, version: exp.status.version }) : undefined;
      const mine = recorded?.exportUid === uid ? recorded : await g.port.findImageVersionByExportUid(g.image, uid);
      if (!mine) return 'done';
      if (mine.provisioningState !== 'Deleting') {
        log.info({ version: mine.name }, 'deleting image version');
        const handle = await g.port.deleteImageVersion({ ...g.image, version: mine.name });
        return { view: { deleting: { blockedBy: [] } }, result: { requeueAfter: Math.max(500, Date.parse(handle.notBefore) - Date.now()) } };
      }
      return { view: { deleting: { blockedBy: [] } }, result: { requeueAfter: 1000 } };
    }

    async function writeExportStatus(exp: ImageExport, view: ExportView, log: Logger): Promise<void> {
      const status: ImageExportStatus = computeStatus(exp.status, exp.metadata.generation ?? 0, view, ctx.prices, new Date());
      await writeStatus(mgr.client, RESOURCES.ImageExport, recorder, exp, status, log.child({ phase: status.phase, progress: status.progress }));
    }

    async function reconcile({ namespace, name }: Request, log: Logger): Promise<Result> {
      const cached = exports.get(name, namespace);
      if (!cached) return {};
      let exp = cached;
      let step: Step | 'done';
      try {
        if (exp.metadata.deletionTimestamp) {
          step = await finalize(exp, log);
          if (step === 'done') {
            await removeFinalizer(mgr.client, RESOURCES.ImageExport, exp, IMAGE_EXPORT_FINALIZER);
            forget(exp.metadata.uid);
            return {};
          }
        } else {
          exp = (await addFinalizer(mgr.client, RESOURCES.ImageExport, exp, IMAGE_EXPORT_FINALIZER)) ?? exp;
          step = await sync(exp, log);
        }
      } catch (err) {
        if (err instanceof StalledError) {
          step = { view: { stalled: { reason: err.reason, message: err.message } }, result: SPEC_STALLS.has(err.reason) ? {} : { requeueAfter: ctx.stalledRecheckMs } };
        } else if (err instanceof ArmError && err.retryable) {
          // Throttling and transient failures change nothing a user can act on: no status write, look again when ARM says.
          log.info({ err: { code: err.code, message: err.message } }, 'ARM asked to retry later');
          return { requeueAfter: Math.max(err.retryAfterMs ?? 5000, 500) };
        } else if (err instanceof ArmError) {
          const account = accounts.get(exp.spec.labAccountRef.name, namespace);
          if (account && isCredentialRejection(err)) ctx.accounts.forget(account);
          step = { view: { stalled: { reason: armReason(err), message: `ARM answered ${err.code}${err.statusCode ? ` (HTTP ${err.statusCode})` : ''}: ${err.message}` } }, result: { requeueAfter: ctx.stalledRecheckMs } };
        } else {
          throw err;
        }
      }
      await writeExportStatus(exp, step.view, log);
      return step.result;
    }

    const exportsOfAccount = (namespace: string | undefined, account: string | undefined) =>
      account ? exports.byIndex(BY_ACCOUNT_INDEX, objectKey(namespace, account)).map((e) => ({ namespace: namespace ?? '', name: e.metadata.name ?? '' })) : [];

    return {
      name: 'imageexport',
      for: RESOURCES.ImageExport,
      forPredicate: generationChanged,
      watches: [
        { resource: RESOURCES.LabAccount, map: (a) => exportsOfAccount(a.metadata?.namespace, a.metadata?.name), predicate: exportFactsChanged },
        { resource: RESOURCES.GalleryAttachment, map: (a) => exportsOfAccount(a.metadata?.namespace, (a as GalleryAttachment).spec?.labAccountRef?.name), predicate: exportFactsChanged },
        {
          resource: RESOURCES.LabTemplate,
          map: (obj) => {
            const t = obj as LabTemplate;
            const namespace = t.metadata.namespace ?? '';
            const names = new Set(exports.byIndex(BY_SOURCE_TEMPLATE, objectKey(namespace, t.metadata.name ?? '')).map((e) => e.metadata.name ?? ''));
            if (t.spec?.image?.imageExportRef) names.add(t.spec.image.imageExportRef.name);
            // A template going away may unblock the deletion of any export it used.
            for (const e of exports.list(namespace)) if (e.metadata.deletionTimestamp) names.add(e.metadata.name ?? '');
            return [...names].map((name) => ({ namespace, name }));
          },
        },
      ],
      reconcile,
    };
  };
}
