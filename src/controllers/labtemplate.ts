// LabTemplate: a lab's template VM, made from a marketplace image or an image of the attached
// gallery once that image's replica in the template's region has finished.
import type { V1Secret } from '@kubernetes/client-node';
import {
  RESOURCES,
  type GalleryAttachment,
  type ImageExport,
  type LabAccount,
  type LabTemplate,
  type LabTemplateStatus,
} from '../api/index.ts';
import { ArmError, type GalleryPort, type OperationHandle, type VirtualMachineObservation, type VirtualMachineRef } from '../azure/index.ts';
import type { Logger } from '../log.ts';
import {
  READY,
  STALLED,
  addFinalizer,
  generationChanged,
  hasFinalizer,
  isConditionTrue,
  SECRETS,
  keyOf,
  objectKey,
  removeFinalizer,
  type ControllerSetup,
  type EventRecorder,
  type Informer,
  type Manager,
  type Request,
  type Result,
} from '../runtime/index.ts';
import type { AccountConnection } from './account-connector.ts';
import type { OperatorContext } from './context.ts';
import {
  armReason,
  conditionsOf,
  isCredentialRejection,
  writeStatus,
} from './shared.ts';
import {
  catalogueEntry,
  checkPlacement,
  checkRules,
  exportAvailability,
  galleryImageVersion,
  isBlock,
  observedAvailability,
  parseGalleryId,
  resolveExport,
  resolveMarketplace,
  resolveObservedVersion,
  stalledBy,
  templateLocation,
  templateUidTag,
  vmName,
  waiting,
  type Block,
  type ResolvedImage,
  type TemplateImage,
} from './labtemplate-rules.ts';
import { computeStatus, type Outcome, type VmStatus } from './labtemplate-status.ts';
import { StalledError } from './stalled.ts';

const ACCOUNTS = RESOURCES.LabAccount;
const ATTACHMENTS = RESOURCES.GalleryAttachment;
const EXPORTS = RESOURCES.ImageExport;

export const LAB_TEMPLATE_FINALIZER = 'labimages.io/template-vm';
const BY_EXPORT = 'labtemplate.imageExportRef';
const BY_ACCOUNT = 'labtemplate.labAccountRef';

/** How often Azure is looked at again while it works (a VM being made or deleted, a gallery image replicating). */
const POLL_MS = 5_000;

/** What one pass over a template found, and when to look again. */
interface Evaluation {
  outcome: Outcome;
  requeueAfter?: number;
}

export function labTemplateController(ctx: OperatorContext): ControllerSetup {
  return (mgr: Manager) => {
    const templates = mgr.informer<LabTemplate>(RESOURCES.LabTemplate);
    templates.addIndex(BY_EXPORT, (t) => (t.spec.image.imageExportRef ? [objectKey(t.metadata.namespace, t.spec.image.imageExportRef.name)] : []));
    templates.addIndex(BY_ACCOUNT, (t) => [objectKey(t.metadata.namespace, t.spec.labAccountRef.name)]);
    const reconciler = new LabTemplateReconciler(ctx, mgr, templates);
    const templatesBy = (index: string, key: string) => templates.byIndex(index, key).map((t) => ({ namespace: t.metadata.namespace ?? '', name: t.metadata.name ?? '' }));
    return {
      name: 'labtemplate',
      for: RESOURCES.LabTemplate,
      forPredicate: generationChanged,
      watches: [
        // An export's progress (status.regions) is what a waiting template reacts to: no polling of Azure for it.
        { resource: EXPORTS, map: (e) => templatesBy(BY_EXPORT, keyOf(e)) },
        { resource: ACCOUNTS, map: (a) => templatesBy(BY_ACCOUNT, keyOf(a)) },
        { resource: ATTACHMENTS, map: (g) => templatesBy(BY_ACCOUNT, objectKey(g.metadata?.namespace, (g as GalleryAttachment).spec.labAccountRef.name)) },
      ],
      reconcile: (request, log) => reconciler.reconcile(request, log),
    };
  };
}

class LabTemplateReconciler {
  readonly #ctx: OperatorContext;
  readonly #mgr: Manager;
  readonly #templates: Informer<LabTemplate>;
  readonly #accounts: Informer<LabAccount>;
  readonly #attachments: Informer<GalleryAttachment>;
  readonly #exports: Informer<ImageExport>;
  readonly #events: EventRecorder;

  constructor(ctx: OperatorContext, mgr: Manager, templates: Informer<LabTemplate>) {
    this.#ctx = ctx;
    this.#mgr = mgr;
    this.#templates = templates;
    this.#accounts = mgr.informer<LabAccount>(ACCOUNTS);
    this.#attachments = mgr.informer<GalleryAttachment>(ATTACHMENTS);
    this.#exports = mgr.informer<ImageExport>(EXPORTS);
    this.#events = mgr.eventRecorder('labtemplate');
  }

  async reconcile({ namespace, name }: Request, log: Logger): Promise<Result> {
    const cached = this.#templates.get(name, namespace);
    if (!cached) return {};
    if (cached.metadata.deletionTimestamp) return await this.#finalize(cached, log);
    // The finalizer goes on before anything exists in Azure, so no VM can outlive its template.
    const template = (await addFinalizer(this.#mgr.client, RESOURCES.LabTemplate, cached, LAB_TEMPLATE_FINALIZER)) ?? cached;

    let evaluation: Evaluation;
    let retry: unknown;
    try {
      evaluation = await this.#evaluate(template, log);
    } catch (err) {
      if (err instanceof StalledError) {
        // Its cause (a Secret, the account's credentials) is outside our watches: look again later.
        evaluation = { outcome: this.#failure(template, 'stalled', err.reason, err.message), requeueAfter: this.#ctx.stalledRecheckMs };
      } else if (err instanceof ArmError && err.retryable) {
        evaluation = { outcome: this.#failure(template, 'retrying', 'AzureUnavailable', `${err.code}: ${err.message}`), ...(err.retryAfterMs ? { requeueAfter: err.retryAfterMs } : {}) };
        if (!err.retryAfterMs) retry = err;
      } else if (err instanceof ArmError && isCredentialRejection(err)) {
        // Rejected credentials: build the connection afresh (a rotated Secret) when looking again.
        const account = this.#accounts.get(template.spec.labAccountRef.name, namespace);
        if (account) this.#ctx.accounts.forget(account);
        evaluation = { outcome: this.#failure(template, 'stalled', armReason(err), err.message), requeueAfter: this.#ctx.stalledRecheckMs };
      } else if (err instanceof ArmError) {
        evaluation = { outcome: this.#failure(template, 'stalled', armReason(err), err.message) };
      } else {
        throw err;
      }
    }
    await this.#writeStatus(template, evaluation.outcome, log);
    // A transient Azure failure without Retry-After: back off through the queue.
    if (retry) throw retry;
    return evaluation.requeueAfter ? { requeueAfter: evaluation.requeueAfter } : {};
  }

  async #evaluate(template: LabTemplate, log: Logger): Promise<Evaluation> {
    const namespace = template.metadata.namespace ?? '';
    const accountName = template.spec.labAccountRef.name;
    const account = this.#accounts.get(accountName, namespace);
    if (!account) return { outcome: pending(waiting('LabAccountNotFound', `LabAccount ${accountName} does not exist yet`)) };
    // Judged from the account's spec, so the user hears of it even while the account is not Ready.
    const location = templateLocation(template, account);
    const placement = checkPlacement(template, account, location);
    if (placement) return { outcome: pending(placement) };
    if (!isConditionTrue(conditionsOf(account), READY)) {
      const accountStalled = isConditionTrue(conditionsOf(account), STALLED);
      return { outcome: pending({ stalled: accountStalled, reason: 'LabAccountNotReady', message: `LabAccount ${accountName} is not Ready yet` }) };
    }
    const connection = await this.#ctx.accounts.connect(account);
    const vmRef = { resourceGroup: connection.resourceGroup, name: vmName(template) };

    // A VM already made: report it. One deleted behind our back is made again below.
    if (template.status?.vm?.id) {
      const vm = await connection.port.observeVirtualMachine(vmRef);
      if (vm) return this.#reportVm(template, vm);
    }

    const resolution = await this.#resolve(template, account, connection, location);
    if (isBlock(resolution)) return { outcome: pending(resolution, { imageResolved: conditionOf(resolution) }), ...(resolution.stalled ? {} : pollIf(resolution.reason === 'VersionNotFound')) };
    const { resolved, enabled, availability, polled } = resolution;
    const imageResolved = { status: 'True' as const, reason: 'Resolved', message: describeImage(template, resolved.image) };
    const rule = checkRules(template, resolved, enabled);
    if (rule) return { outcome: { ...failed(rule), image: resolved.image, imageResolved } };
    if (availability) {
      return {
        outcome: {
          phase: availability.stalled ? 'Failed' : 'WaitingForImage',
          state: availability.stalled ? 'stalled' : 'reconciling',
          reason: availability.reason,
          message: availability.message,
          image: resolved.image,
          imageResolved,
          imageAvailable: conditionOf(availability),
        },
        // Exports report progress through the watch; an image observed in Azure is looked at again.
        ...(availability.stalled ? {} : pollIf(polled)),
      };
    }
    const imageAvailable = { status: 'True' as const, reason: 'ReplicaCompleted', message: `the image is available in ${location}` };

    const existing = await connection.port.observeVirtualMachine(vmRef);
    if (existing) {
      const report = this.#reportVm(template, existing);
      return { ...report, outcome: { ...report.outcome, image: resolved.image, imageResolved, imageAvailable } };
    }
    const handle = await this.#createVm(template, connection.port, vmRef, location, resolved, log);
    this.#events.event(template, 'Normal', 'CreatingVirtualMachine', `creating template VM ${vmRef.name} in ${location}`);
    return {
      outcome: {
        phase: 'Provisioning',
        state: 'reconciling',
        reason: 'Provisioning',
        message: `creating template VM ${vmRef.name}`,
        image: resolved.image,
        imageResolved,
        imageAvailable,
        vm: { id: connection.port.virtualMachineId(vmRef), provisioningState: 'Creating' },
      },
      requeueAfter: delayOf(handle),
    };
  }

  /** spec.image → the image version, whether the rules let it be used, and whether its replica in `location` is there. */
  async #resolve(
    template: LabTemplate,
    account: LabAccount,
    connection: AccountConnection,
    location: string,
  ): Promise<Block | { resolved: ResolvedImage; enabled: boolean | undefined; availability: Block | undefined; polled: boolean }> {
    const marketplace = resolveMarketplace(template);
    if (marketplace) return { resolved: marketplace, enabled: undefined, availability: undefined, polled: false };

    const namespace = template.metadata.namespace ?? '';
    const attachmentName = account.status?.gallery?.attachment;
    const attachment = attachmentName ? this.#attachments.get(attachmentName, namespace) : undefined;
    const exportRef = template.spec.image.imageExportRef;
    if (exportRef) {
      const imageExport = this.#exports.get(exportRef.name, namespace);
      if (!imageExport) return waiting('ImageExportNotFound', `ImageExport ${exportRef.name} (spec.image.imageExportRef) does not exist yet`);
      const resolved = resolveExport(template, imageExport);
      if (isBlock(resolved)) return resolved;
      const enabled = resolved.name === undefined ? undefined : catalogueEntry(attachment, resolved.name)?.enabled;
      return { resolved, enabled, availability: exportAvailability(imageExport, location), polled: false };
    }

    const gallery = parseGalleryId(attachment?.status?.galleryId);
    if (!attachment || !gallery) return waiting('NoGalleryAttached', `LabAccount ${account.metadata.name} has no gallery attached yet`);
    const name = template.spec.image.galleryImage?.name ?? '';
    const entry = catalogueEntry(attachment, name);
    // `latest` is resolved once: an existing template keeps the version it was made from.
    const kept = template.status?.image?.versionId ? template.status.image.version : undefined;
    const version = kept ?? galleryImageVersion(template, entry, attachment.metadata.name ?? '');
    if (isBlock(version)) return version;
    const observed = await connection.port.observeImageVersion({ ...gallery, image: name, version });
    if (!observed) return waiting('VersionNotFound', `version ${version} of image ${name} does not exist in the attached gallery`);
    const resolved = resolveObservedVersion(name, version, entry?.osState, observed);
    return { resolved, enabled: entry?.enabled, availability: observedAvailability(observed, location), polled: true };
  }

  async #createVm(template: LabTemplate, port: GalleryPort, ref: VirtualMachineRef, location: string, resolved: ResolvedImage, log: Logger): Promise<OperationHandle> {
    const { spec } = template;
    const marketplace = spec.image.marketplace;
    const admin = resolved.image.osState === 'Generalized' ? await this.#adminCredentials(template) : undefined;
    log.info({ vm: ref.name, location, image: resolved.image.versionId ?? 'marketplace' }, 'creating template VM');
    return await port.createVirtualMachine(ref, {
      location,
      size: spec.vm?.size ?? 'Standard_D2s_v5',
      image: marketplace
        ? { marketplace: { publisher: marketplace.publisher, offer: marketplace.offer, sku: marketplace.sku, version: marketplace.version ?? 'latest' } }
        : { imageVersionId: resolved.image.versionId ?? '' },
      ...(spec.vm?.subnetId ? { subnetId: spec.vm.subnetId } : {}),
      ...(admin ? { admin } : {}),
      tags: { [templateUidTag]: template.metadata.uid ?? '' },
    });
  }

  /** The administrator's password, read from its Secret only now, handed to ARM and kept nowhere. */
  async #adminCredentials(template: LabTemplate): Promise<{ username: string; password: string } | undefined> {
    const { adminUsername, adminPasswordSecretRef: ref } = template.spec.vm ?? {};
    if (!adminUsername || !ref) return undefined;
    const namespace = template.metadata.namespace ?? '';
    const secret = await this.#mgr.client.get<V1Secret>(SECRETS, namespace, ref.name);
    if (!secret) throw new StalledError('AdminPasswordSecretNotFound', `Secret ${namespace}/${ref.name} (spec.vm.adminPasswordSecretRef) does not exist: create it with the key ${ref.key}`);
    const encoded = secret.data?.[ref.key];
    if (!encoded) throw new StalledError('AdminPasswordKeyNotFound', `Secret ${namespace}/${ref.name} has no key ${ref.key} (spec.vm.adminPasswordSecretRef.key): add it`);
    return { username: adminUsername, password: Buffer.from(encoded, 'base64').toString('utf8') };
  }

  #reportVm(template: LabTemplate, vm: VirtualMachineObservation): Evaluation {
    const vmStatus: VmStatus = { id: vm.id, provisioningState: vm.provisioningState, ...(vm.powerState ? { powerState: vm.powerState } : {}) };
    if (vm.tags[templateUidTag] !== template.metadata.uid) {
      return { outcome: { ...failed(stalledBy('VirtualMachineNameTaken', `a VM named ${vm.name} exists that this template did not make: delete or rename it`)), vm: null } };
    }
    switch (vm.provisioningState) {
      case 'Succeeded':
        return { outcome: { phase: 'Ready', state: 'ready', reason: 'VirtualMachineReady', message: `template VM ${vm.name} is ${vm.powerState ?? 'provisioned'}`, vm: vmStatus } };
      case 'Failed':
        return { outcome: { ...failed(stalledBy('VirtualMachineFailed', `Azure failed to provision template VM ${vm.name}: delete the template and create it again`)), vm: vmStatus } };
      default:
        return {
          outcome: { phase: 'Provisioning', state: 'reconciling', reason: 'Provisioning', message: `template VM ${vm.name} is ${vm.provisioningState}`, vm: vmStatus },
          requeueAfter: POLL_MS,
        };
    }
  }

  /** Deletion: the VM goes first (started, then observed until gone), then the finalizer. */
  async #finalize(template: LabTemplate, log: Logger): Promise<Result> {
    if (!hasFinalizer(template, LAB_TEMPLATE_FINALIZER)) return {};
    const account = this.#accounts.get(template.spec.labAccountRef.name, template.metadata.namespace);
    if (!account) {
      // Nothing left to reach Azure through; keeping the template would only block its namespace.
      this.#events.event(template, 'Warning', 'VirtualMachineLeftBehind', `LabAccount ${template.spec.labAccountRef.name} is gone: template VM ${vmName(template)} was not deleted`);
      await removeFinalizer(this.#mgr.client, RESOURCES.LabTemplate, template, LAB_TEMPLATE_FINALIZER);
      return {};
    }
    let connection: AccountConnection;
    try {
      connection = await this.#ctx.accounts.connect(account);
    } catch (err) {
      if (!(err instanceof StalledError)) throw err;
      await this.#writeStatus(template, this.#failure(template, 'stalled', err.reason, `cannot delete the template VM: ${err.message}`), log);
      return { requeueAfter: this.#ctx.stalledRecheckMs };
    }
    const ref = { resourceGroup: connection.resourceGroup, name: vmName(template) };
    const vm = await connection.port.observeVirtualMachine(ref);
    if (!vm || vm.tags[templateUidTag] !== template.metadata.uid) {
      await removeFinalizer(this.#mgr.client, RESOURCES.LabTemplate, template, LAB_TEMPLATE_FINALIZER);
      log.info({ vm: ref.name }, 'template VM gone, finalizer removed');
      return {};
    }
    let requeueAfter = POLL_MS;
    if (vm.provisioningState !== 'Deleting') {
      log.info({ vm: ref.name }, 'deleting template VM');
      requeueAfter = delayOf(await connection.port.deleteVirtualMachine(ref));
    }
    const outcome: Outcome = {
      phase: template.status?.phase ?? 'Pending',
      state: 'reconciling',
      reason: 'Deleting',
      message: `deleting template VM ${ref.name}`,
      vm: { id: vm.id, provisioningState: 'Deleting' },
    };
    await this.#writeStatus(template, outcome, log);
    return { requeueAfter };
  }

  #failure(template: LabTemplate, state: 'stalled' | 'retrying', reason: string, message: string): Outcome {
    return { phase: state === 'stalled' ? 'Failed' : (template.status?.phase ?? 'Pending'), state, reason, message };
  }

  async #writeStatus(template: LabTemplate, outcome: Outcome, log: Logger): Promise<void> {
    const status: LabTemplateStatus = computeStatus(template, outcome, new Date());
    await writeStatus(this.#mgr.client, RESOURCES.LabTemplate, this.#events, template, status, log.child({ phase: status.phase, reason: outcome.reason }));
  }
}

/** Before any image is settled: waiting (Pending) or stalled (Failed). */
function pending(block: Block, extra: Partial<Outcome> = {}): Outcome {
  return { ...(block.stalled ? failed(block) : { phase: 'Pending', state: 'reconciling', reason: block.reason, message: block.message }), ...extra };
}

function failed(block: Block): Outcome {
  return { phase: 'Failed', state: 'stalled', reason: block.reason, message: block.message };
}

function conditionOf(block: Block): { status: 'False'; reason: string; message: string } {
  return { status: 'False', reason: block.reason, message: block.message };
}

function pollIf(poll: boolean): { requeueAfter?: number } {
  return poll ? { requeueAfter: POLL_MS } : {};
}

function describeImage(template: LabTemplate, image: TemplateImage): string {
  const { marketplace, imageExportRef, galleryImage } = template.spec.image;
  if (marketplace) return `marketplace image ${marketplace.publisher}:${marketplace.offer}:${marketplace.sku}:${image.version}`;
  const from = imageExportRef ? `ImageExport ${imageExportRef.name}` : `gallery image ${galleryImage?.name}`;
  return `${from}: version ${image.version} (${image.osState ?? 'unknown OS state'})`;
}

/** Until the operation's Retry-After, at least a second. */
function delayOf(handle: OperationHandle): number {
  return Math.max(1_000, Date.parse(handle.notBefore) - Date.now());
}
