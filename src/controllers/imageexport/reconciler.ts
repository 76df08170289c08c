// The ImageExport reconciler: makes one image version in the account's gallery from a VM and
// replicates it, observing Azure before every action so that a restart at any line is safe.
import { DEFAULT_EXPORT_DELETION_POLICY, RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import {
  ARM_BUDGET_EXHAUSTED,
  ArmError,
  CREATED_BY_TAG,
  MIN_REQUEUE_MS,
  parseImageVersionId,
  parseVirtualMachineId,
  requeueAfter,
  virtualMachineId,
  retryAfter,
  type GalleryPort,
  type ImageObservation,
  type ImageRef,
  type ImageVersionObservation,
  type ImageVersionRef,
  type OperationHandle,
  type VirtualMachineObservation,
} from '../../azure/index.ts';
import type { Logger } from '../../log.ts';
import { READY, findCondition, isConditionTrue, keyOf, type ObjectReader, type ReconcileContext, type Request, type Result } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import type { AccountsForDeletion } from '../common/departed-accounts.ts';
import type { AccountConnection, ApiClient, Connector, Recorder } from '../common/deps.ts';
import { BY_ACCOUNT } from '../common/indexes.ts';
import { ObjectWriter, conditionsOf, isBeingDeleted } from '../common/object-writer.ts';
import { RELEASED, isOutcome, progressing, stalled, type Released } from '../common/outcome.ts';
import { checkScope } from '../common/scope.ts';
import { SyncMemo } from '../common/sync-memo.ts';
import { PollSpread } from './poll-spread.ts';
import { RecentReads } from './recent-reads.ts';
import { desiredTargets, planTargets, regionStatuses, sameTargets, type TargetRegion } from './regions.ts';
import { computeStatus, deletingVersion, deletionBlocked, replicationPollMs, summarize, versionOutcome, type ExportFound, type ExportOutcome } from './status.ts';
import { describeTemplate, templatesUsing, virtualMachinesUsing } from './users.ts';
import { VersionChoice, imageKey } from './version-choice.ts';
import { publishingChanges } from './version.ts';

export const IMAGE_EXPORT_FINALIZER = 'labimages.io/image-export';
/** How long a settled image definition or source VM, once read, stands for a fresh read. */
const RECENT_READ_MS = 5000;
/** How often Azure is looked at while it makes a version or a source VM, when no operation of ours says when. */
const PROVISIONING_POLL_MS = 2000;
/** How often a definition being made, or a version being deleted, is looked at. */
const SHORT_POLL_MS = 1000;
const IN_PROGRESS = new Set(['Creating', 'Updating', 'Deleting', 'Migrating']);

export interface ImageExportDeps {
  exports: ObjectReader<ImageExport>;
  accounts: ObjectReader<LabAccount>;
  /** For deletion passes: also an account deleted just before its exports. */
  accountsForDeletion: AccountsForDeletion;
  attachments: ObjectReader<GalleryAttachment>;
  templates: ObjectReader<LabTemplate>;
  client: ApiClient;
  events: Recorder;
  connector: Connector;
  settings: Pick<OperatorContext, 'prices' | 'regionRetries' | 'stalledRecheckMs' | 'statusHoldBack' | 'syncPeriodMs'>;
}

/** The account's gallery as an export uses it. */
interface Gallery {
  account: LabAccount;
  port: GalleryPort;
  image: ImageRef;
  /** Where the account's template VMs are. */
  resourceGroup: string;
  subscriptionId: string;
}

/** The export's image in an attachment's gallery. */
function galleryImage(exp: ImageExport, account: LabAccount, attachment: GalleryAttachment, connection: AccountConnection): Gallery {
  const image = { resourceGroup: attachment.spec.gallery.resourceGroup ?? connection.resourceGroup, gallery: attachment.spec.gallery.name, image: exp.spec.image.name };
  return { account, port: connection.port, image, resourceGroup: connection.resourceGroup, subscriptionId: connection.subscriptionId };
}

const settled = (resource: { provisioningState?: string } | undefined) => resource?.provisioningState === 'Succeeded';

/**
 * A recent read is shared only by exports of one account: another account acts with another
 * credential (which may not read what this one did) and may name the same resource group and
 * gallery in another subscription.
 */
function sharedReadKey(g: Gallery, resource: string): string {
  return `${g.account.metadata.uid ?? ''}/${resource}`.toLowerCase();
}

export class ImageExportReconciler {
  readonly #deps: ImageExportDeps;
  readonly #writer: ObjectWriter<ImageExport, ExportFound>;
  readonly #versions: VersionChoice;
  // Optimisations only, rebuilt from Azure after a restart: the ARM operation each export started
  // (for its Retry-After and its error), and recent reads a burst of exports of one image from one
  // VM share. A definition or VM deleted meanwhile makes the version's PUT fail, which Stalls the
  // export until a recheck.
  readonly #operations = new Map<string, { handle: OperationHandle; error?: string }>();
  readonly #recentImages = new RecentReads<ImageObservation | undefined>(RECENT_READ_MS);
  readonly #recentVms = new RecentReads<VirtualMachineObservation | undefined>(RECENT_READ_MS);
  /** Replication polls, spaced per subscription so their cost stays flat as exports grow. */
  readonly #polls = new PollSpread();
  /** Exports this process saw Succeeded in ARM, and when (see `#settledFor`). */
  readonly #settled: SyncMemo;

  constructor(deps: ImageExportDeps) {
    this.#deps = deps;
    this.#versions = new VersionChoice(deps.exports);
    this.#settled = new SyncMemo(deps.settings.syncPeriodMs);
    this.#writer = new ObjectWriter({
      resource: RESOURCES.ImageExport,
      finalizer: IMAGE_EXPORT_FINALIZER,
      computeStatus: (exp, outcome, now) => computeStatus(exp.status, exp.metadata.generation ?? 0, outcome, deps.settings.prices, now),
      client: deps.client,
      events: deps.events,
      stalledRecheckMs: deps.settings.stalledRecheckMs,
      ...(deps.settings.statusHoldBack ? { holdBack: deps.settings.statusHoldBack } : {}),
    });
  }

  async reconcile({ namespace, name }: Request, context: ReconcileContext): Promise<Result> {
    const cached = this.#deps.exports.get(name, namespace);
    if (!cached || isBeingDeleted(cached)) {
      this.#settled.forget(namespace, name);
      return cached ? await this.#writer.finishDeletion(cached, () => this.#delete(cached, context), context) : {};
    }
    const recheckIn = this.#settledFor(cached);
    if (recheckIn > 0) return { requeueAfter: recheckIn };
    const exp = await this.#writer.ensureFinalizer(cached);
    return await this.#writer.finish(exp, () => this.#sync(exp, context), context);
  }

  /**
   * How long a Succeeded export, which this process saw so in ARM within the sync period with its
   * account as it is now, has nothing to do: 0 when it is due. Without it a resync (every object at
   * once) read every settled version in ARM together: at 10,000 exports in one subscription, four
   * minutes of the subscription's reads, with every new export waiting behind them.
   */
  #settledFor(exp: ImageExport): number {
    if (exp.status?.phase !== 'Succeeded' || exp.status.observedGeneration !== exp.metadata.generation) return 0;
    return this.#settled.dueIn(exp, () => this.#accountFacts(exp));
  }

  /** What of its account a settled export depends on: the replication it asks for, the regions it may use, and the gallery. */
  #accountFacts(exp: ImageExport): string {
    const account = this.#deps.accounts.get(exp.spec.labAccountRef.name, exp.metadata.namespace);
    if (!account) return '';
    const { gallery, regions, availableRegions } = account.status ?? {};
    return JSON.stringify([account.metadata.uid, account.metadata.generation, isConditionTrue(conditionsOf(account), READY), gallery, regions, availableRegions]);
  }

  /** One pass over a live export: its gallery, its version (made when missing), then where that version replicates. */
  async #sync(exp: ImageExport, { log, signal }: ReconcileContext): Promise<ExportOutcome> {
    const outside = this.#sourceOutOfScope(exp);
    if (outside) return outside;
    const gallery = await this.#galleryOf(exp, signal);
    if (isOutcome(gallery)) return gallery;
    const targets = desiredTargets(exp, gallery.account);
    const { version, observed } = await this.#versions.choose(exp, gallery.port, gallery.image);
    const ref = { ...gallery.image, version };
    if (!observed) {
      if (exp.status?.imageVersionId) log.info({ version }, 'image version missing from the gallery: recreating it from the source');
      return await this.#createVersion(exp, gallery, ref, targets);
    }
    if (IN_PROGRESS.has(observed.provisioningState)) return await this.#followOperation(exp, gallery, ref, targets, observed);
    const failedRegions = observed.replication?.regions.some((r) => r.state === 'Failed') ?? false;
    if (observed.provisioningState === 'Failed' && !failedRegions) {
      const error = this.#operations.get(exp.metadata.uid ?? '')?.error;
      return stalled('ExportFailed', `creating image version ${version} failed${error ? `: ${error}` : ''}: delete the export and create it again`);
    }
    return await this.#replicate(exp, gallery, ref, targets, observed, log);
  }

  /** The account's attached gallery, or why there is none to use yet. */
  async #galleryOf(exp: ImageExport, signal: AbortSignal): Promise<Gallery | ExportOutcome> {
    const namespace = exp.metadata.namespace;
    const accountName = exp.spec.labAccountRef.name;
    const account = this.#deps.accounts.get(accountName, namespace);
    if (!account || !isConditionTrue(conditionsOf(account), READY)) {
      return progressing('AccountNotReady', `LabAccount ${accountName} ${account ? 'is not Ready' : 'does not exist'}`);
    }
    const attachmentName = account.status?.gallery?.attachment;
    const attachment = attachmentName ? this.#deps.attachments.get(attachmentName, namespace) : undefined;
    if (!attachment) return progressing('NoGalleryAttached', `No gallery is attached to LabAccount ${accountName}: create a GalleryAttachment for it`);
    if (!attachment.status?.galleryId || !isConditionTrue(conditionsOf(attachment), READY)) {
      return progressing('NoGalleryAttached', `GalleryAttachment ${attachmentName} of LabAccount ${accountName} is not Ready yet`);
    }
    return galleryImage(exp, account, attachment, await this.#deps.connector.connect(account, signal));
  }

  /** A source VM named by its ARM id must lie in the account's scope: judged before any ARM call. */
  #sourceOutOfScope(exp: ImageExport): ExportOutcome | undefined {
    const id = exp.spec.source.virtualMachineId;
    const account = this.#deps.accounts.get(exp.spec.labAccountRef.name, exp.metadata.namespace);
    return id && account ? checkScope(account, id, 'spec.source.virtualMachineId') : undefined;
  }

  /** The VM to export: given, or the LabTemplate's template VM once it has one. */
  #sourceOf(exp: ImageExport): string | ExportOutcome {
    const { source } = exp.spec;
    if (source.virtualMachineId) return source.virtualMachineId;
    const name = source.labTemplateRef?.name ?? '';
    const template = this.#deps.templates.get(name, exp.metadata.namespace);
    const id = template?.status?.vm?.id;
    if (id) return id;
    // Once made, the version outlives its source; only a recreation needs it back.
    if (exp.status?.imageVersionId) return stalled('SourceMissing', `the image version is gone from the gallery and LabTemplate ${name} has no VM to recreate it from: delete the export or restore the template`);
    return progressing('SourceNotReady', template ? `LabTemplate ${name} has no template VM yet` : `LabTemplate ${name} does not exist`);
  }

  /** The image definition, created when missing; one that exists must describe the same kind of image. */
  async #ensureImageDefinition(exp: ImageExport, g: Gallery): Promise<ExportOutcome | undefined> {
    const want = { osType: exp.spec.image.osType, osState: exp.spec.image.osState ?? 'Specialized', hyperVGeneration: exp.spec.image.hyperVGeneration ?? 'V2' };
    const image = await this.#recentImages.read(sharedReadKey(g, imageKey(g.image)), () => g.port.observeImage(g.image), settled);
    if (!image) {
      const identifier = { publisher: 'labimages', offer: g.account.metadata.name ?? '', sku: exp.spec.image.name };
      // Tagged as the operator's, so the attachment that deletes the gallery deletes it too once it holds no version.
      const handle = await g.port.createImage(g.image, { location: g.account.spec.location, ...want, identifier, tags: { [CREATED_BY_TAG]: exp.metadata.uid ?? '' } });
      return progressing('CreatingImageDefinition', `Creating image definition ${g.image.image}`, { requeueAfter: requeueAfter(handle) });
    }
    const mismatched = (Object.keys(want) as (keyof typeof want)[]).filter((field) => (image[field] ?? 'V1') !== want[field]);
    if (mismatched.length > 0) {
      const detail = mismatched.map((field) => `${field} is ${image[field] ?? 'V1'} in the gallery, ${want[field]} in spec.image`).join('; ');
      return stalled('ImageDefinitionMismatch', `image definition ${g.image.image} exists with other properties (${detail}): use another spec.image.name or fix spec.image`);
    }
    if (image.provisioningState !== 'Succeeded') return progressing('CreatingImageDefinition', `Image definition ${g.image.image} is ${image.provisioningState}`, { requeueAfter: SHORT_POLL_MS });
    return undefined;
  }

  /** Creates the version (or recreates one deleted behind our back) from the source, once its definition and VM are there. */
  async #createVersion(exp: ImageExport, g: Gallery, ref: ImageVersionRef, targets: TargetRegion[]): Promise<ExportOutcome> {
    const source = this.#sourceOf(exp);
    // Nothing to make a version from: say so before making a definition for it.
    if (isOutcome(source) && source.state === 'stalled') return source;
    const vmAt = typeof source === 'string' ? parseVirtualMachineId(source) : undefined;
    // Two independent reads, sent together: a new export waits on one round trip, not two.
    const [pending, vm] = await Promise.all([
      this.#ensureImageDefinition(exp, g),
      vmAt ? this.#recentVms.read(sharedReadKey(g, virtualMachineId('', vmAt)), () => g.port.observeVirtualMachine(vmAt), settled) : undefined,
    ]);
    if (pending) return pending;
    if (typeof source !== 'string') return source;
    if (!vm) return stalled('SourceMissing', `source VM ${source} does not exist${exp.status?.imageVersionId ? ', so the image version that disappeared from the gallery cannot be recreated' : ''}`);
    if (vm.provisioningState !== 'Succeeded') return progressing('SourceNotReady', `source VM ${vm.name} is ${vm.provisioningState}`, { requeueAfter: PROVISIONING_POLL_MS });
    let handle;
    try {
      handle = await g.port.createImageVersion(ref, {
        location: g.account.spec.location,
        source: { virtualMachineId: source },
        targetRegions: targets,
        ...(exp.spec.excludeFromLatest === undefined ? {} : { excludeFromLatest: exp.spec.excludeFromLatest }),
        ...(exp.spec.endOfLifeDate ? { endOfLifeDate: new Date(exp.spec.endOfLifeDate) } : {}),
        exportUid: exp.metadata.uid ?? '',
      });
    } catch (err) {
      // Handed back by the pacing, the PUT never left: the next pass need not ask ARM whether it was made.
      if (!(err instanceof ArmError && err.code === ARM_BUDGET_EXHAUSTED)) this.#versions.sent(exp.metadata.uid);
      // The number exists, made from another source since our list: choose again (unless it is the user's).
      if (!(err instanceof ArmError && err.code === 'PropertyChangeNotAllowed') || exp.spec.version) throw err;
      await this.#versions.refused(exp, g.port, g.image, ref.version);
      return progressing('VersionTaken', `version ${ref.version} of image ${g.image.image} was made by someone else meanwhile: choosing another`, { requeueAfter: MIN_REQUEUE_MS });
    }
    this.#versions.sent(exp.metadata.uid);
    this.#operations.set(exp.metadata.uid ?? '', { handle });
    const regions = regionStatuses(targets, undefined, new Map(), this.#deps.settings.regionRetries);
    const facts = { version: ref.version, imageVersionId: g.port.imageVersionId(ref), targets, regions, exported: false };
    return versionOutcome({ ...facts, ...(vm.osDiskSizeGiB === undefined ? {} : { sizeGiB: vm.osDiskSizeGiB }) }, requeueAfter(handle));
  }

  /** A version ARM is still working on: the operation we started (when this process did) says when to look again. */
  async #followOperation(exp: ImageExport, g: Gallery, ref: ImageVersionRef, targets: TargetRegion[], observed: ImageVersionObservation): Promise<ExportOutcome> {
    let wait = PROVISIONING_POLL_MS;
    const operation = this.#operations.get(exp.metadata.uid ?? '');
    if (operation) {
      const polled = await g.port.poll(operation.handle);
      if (polled.state === 'InProgress') {
        operation.handle = polled.handle;
        wait = polled.retryAfterMs;
      } else if (polled.state === 'Failed') {
        operation.error = `${polled.error.code}: ${polled.error.message}`;
        wait = 0;
      }
    }
    // No retry decisions while an operation runs (no retries allowed): only the bookkeeping carries over.
    const { retries } = planTargets(targets, observed, exp.status?.regions, 0, Date.now());
    const regions = regionStatuses(targets, observed, retries, this.#deps.settings.regionRetries);
    return versionOutcome({ ...this.#facts(g, ref, targets, observed, regions), exported: observed.provisioningState !== 'Creating' }, retryAfter(wait));
  }

  /** A settled version: its target regions and publishing flags brought to what the spec asks (failed regions retried), and its replication followed. */
  async #replicate(exp: ImageExport, g: Gallery, ref: ImageVersionRef, targets: TargetRegion[], observed: ImageVersionObservation, log: Logger): Promise<ExportOutcome> {
    const now = Date.now();
    const plan = planTargets(targets, observed, exp.status?.regions, this.#deps.settings.regionRetries, now);
    let wait: number | undefined;
    const publishing = publishingChanges(exp, observed);
    if (!sameTargets(observed, plan.targets) || publishing) {
      log.info({ version: ref.version, targets: plan.targets.map((t) => t.name), ...publishing }, 'updating the image version');
      const handle = await g.port.updateImageVersion(ref, { targetRegions: plan.targets, ...publishing });
      this.#operations.set(exp.metadata.uid ?? '', { handle });
      wait = requeueAfter(handle, now);
    }
    const regions = regionStatuses(targets, observed, plan.retries, this.#deps.settings.regionRetries);
    const uid = exp.metadata.uid ?? '';
    const summary = summarize(regions);
    if (summary.done) {
      this.#polls.done(uid);
      if (summary.failed.length === 0 && wait === undefined) this.#settled.remember(exp, this.#accountFacts(exp));
    } else if (wait === undefined) {
      const replicated = findCondition(conditionsOf(exp), 'Replicated');
      const since = Math.max(Date.parse(exp.status?.startTime ?? '') || now, replicated?.status === 'False' ? Date.parse(replicated.lastTransitionTime) : 0);
      wait = this.#polls.intervalMs(g.subscriptionId, uid, replicationPollMs(now - since), now);
    }
    if (plan.wakeAt !== undefined) wait = Math.min(wait ?? Infinity, retryAfter(plan.wakeAt - now));
    return versionOutcome({ ...this.#facts(g, ref, targets, observed, regions), exported: true }, wait);
  }

  #facts(g: Gallery, ref: ImageVersionRef, targets: TargetRegion[], observed: ImageVersionObservation, regions: ReturnType<typeof regionStatuses>) {
    const sizeGiB = observed.osDiskSizeGiB === undefined ? {} : { sizeGiB: observed.osDiskSizeGiB };
    return { version: ref.version, imageVersionId: g.port.imageVersionId(ref), targets, regions, ...sizeGiB, dataDisks: observed.dataDisks };
  }

  /**
   * One pass over an export being deleted. Its version is deleted (deletionPolicy Delete) only once
   * nothing uses it (users.ts). Users in the export's namespace are waited for, and so are users
   * elsewhere, unless the export's account is going too (its namespace is being deleted, or a prune):
   * then nothing there may wait on another tenant, so the version is kept for them, with a Warning
   * Event, and the export goes. The version is found by tag, so also one made just before a crash,
   * and never another export's.
   */
  async #delete(exp: ImageExport, { log, signal }: ReconcileContext): Promise<ExportOutcome | Released> {
    const namespace = exp.metadata.namespace;
    const account = this.#deps.accountsForDeletion.get(exp.spec.labAccountRef.name, namespace);
    const accountGoing = !account || isBeingDeleted(account);
    const templates = templatesUsing(exp, this.#deps.templates, this.#deps.accounts);
    const elsewhere = templates.filter((t) => t.metadata.namespace !== namespace);
    if (templates.length > elsewhere.length || (elsewhere.length > 0 && !accountGoing)) return deletionBlocked(templates.map((t) => describeTemplate(t, namespace)));
    const uid = exp.metadata.uid ?? '';
    if (elsewhere.length > 0) return this.#keep(exp, uid, elsewhere.map((t) => describeTemplate(t, namespace)));
    if ((exp.spec.deletionPolicy ?? DEFAULT_EXPORT_DELETION_POLICY) === 'Retain') return this.#forget(uid);
    const g = account ? await this.#galleryToDelete(exp, account, signal) : progressing('AccountNotFound', `LabAccount ${exp.spec.labAccountRef.name} is gone`);
    if (isOutcome(g)) {
      // Without the account's gallery nothing can be deleted; keeping the finalizer would block the namespace for ever.
      if (exp.status?.version) this.#deps.events.event(exp, 'Warning', 'ImageVersionLeft', `Could not delete image version ${exp.status.version}: ${g.message}`, 'Delete');
      return this.#forget(uid);
    }
    // The recorded version is looked at first, so that deleting many exports does not list the image for each.
    const recorded = exp.status?.version ? await g.port.observeImageVersion({ ...g.image, version: exp.status.version }) : undefined;
    const mine = recorded?.exportUid === uid ? recorded : await g.port.findImageVersionByExportUid(g.image, uid);
    if (!mine) return this.#forget(uid);
    if (mine.provisioningState === 'Deleting') return deletingVersion(exp.status?.version, SHORT_POLL_MS);
    const vms = await virtualMachinesUsing(g.port, mine.id, [g.resourceGroup]);
    if (vms.length > 0) return accountGoing ? this.#keep(exp, uid, vms) : deletionBlocked(vms, this.#deps.settings.stalledRecheckMs);
    log.info({ version: mine.name }, 'deleting image version');
    return deletingVersion(exp.status?.version, requeueAfter(await g.port.deleteImageVersion({ ...g.image, version: mine.name })));
  }

  /**
   * Where the export's version is, to delete it: the id status recorded (in the account's
   * subscription), else the account's gallery. Neither needs the account or its attachment Ready:
   * both may be going away with the export (the account may even be gone just before: a prune
   * deletes all at once, see DepartedAccounts).
   */
  async #galleryToDelete(exp: ImageExport, account: LabAccount, signal: AbortSignal): Promise<Gallery | ExportOutcome> {
    const connection = await this.#deps.connector.connect(account, signal);
    const recorded = parseImageVersionId(exp.status?.imageVersionId);
    if (recorded && recorded.subscriptionId.toLowerCase() === connection.subscriptionId.toLowerCase()) {
      const image = { resourceGroup: recorded.resourceGroup, gallery: recorded.gallery, image: recorded.image };
      return { account, port: connection.port, image, resourceGroup: connection.resourceGroup, subscriptionId: connection.subscriptionId };
    }
    const attachments = this.#deps.attachments.byIndex(BY_ACCOUNT, keyOf(account)).filter((a) => a.status?.galleryId);
    const attachment = attachments.find((a) => a.metadata.name === account.status?.gallery?.attachment) ?? attachments[0];
    if (!attachment) return progressing('NoGalleryAttached', `no gallery is attached to LabAccount ${account.metadata.name}`);
    return galleryImage(exp, account, attachment, connection);
  }

  /** The export goes and its version stays, for those still using it. */
  #keep(exp: ImageExport, uid: string, users: string[]): Released {
    const version = exp.status?.version ?? 'of this export';
    this.#deps.events.event(exp, 'Warning', 'ImageVersionKept', `Image version ${version} stays in the gallery: used by ${users.join(', ')}; delete it in Azure once nothing uses it`, 'Delete');
    return this.#forget(uid);
  }

  /** What this process remembered of an export that is going. */
  #forget(uid: string): Released {
    this.#operations.delete(uid);
    this.#versions.forget(uid);
    this.#polls.done(uid);
    return RELEASED;
  }
}
