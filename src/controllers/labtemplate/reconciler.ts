// The LabTemplate reconciler: a lab's template VM, made from a marketplace image or an image of
// the attached gallery once that image's replica in the template's region has finished.
import type { V1Secret } from '@kubernetes/client-node';
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import { TEMPLATE_UID_TAG, parseGalleryId, requeueAfter, type GalleryPort, type OperationHandle, type VirtualMachineObservation, type VirtualMachineRef } from '../../azure/index.ts';
import type { Logger } from '../../log.ts';
import { READY, SECRETS, STALLED, findCondition, isConditionTrue, keyOf, type ObjectReader, type ReconcileContext, type Request, type Result } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import type { AccountsForDeletion } from '../common/departed-accounts.ts';
import type { AccountConnection, ApiClient, Connector, Recorder } from '../common/deps.ts';
import { BY_SOURCE_TEMPLATE } from '../common/indexes.ts';
import { ObjectWriter, conditionsOf, isBeingDeleted } from '../common/object-writer.ts';
import { RELEASED, isOutcome, progressing, ready, stalled, type Released } from '../common/outcome.ts';
import { StalledError } from '../common/stalled.ts';
import { SyncMemo } from '../common/sync-memo.ts';
import {
  catalogueEntry,
  checkPlacement,
  checkRules,
  exportAvailability,
  galleryImageVersion,
  observedAvailability,
  resolveExport,
  resolveMarketplace,
  resolveObservedVersion,
  templateLocation,
  vmName,
  type ResolvedImage,
} from './rules.ts';
import { computeStatus, type ConditionValue, type TemplateFound, type TemplateImage, type TemplateOutcome, type VmStatus } from './status.ts';

export const LAB_TEMPLATE_FINALIZER = 'labimages.io/template-vm';

/** How often Azure is looked at again while it works (a VM being made or deleted, a gallery image replicating). */
const POLL_MS = 5_000;

export interface LabTemplateDeps {
  templates: ObjectReader<LabTemplate>;
  accounts: ObjectReader<LabAccount>;
  /** For deletion passes: also an account deleted just before its templates. */
  accountsForDeletion: AccountsForDeletion;
  attachments: ObjectReader<GalleryAttachment>;
  exports: ObjectReader<ImageExport>;
  client: ApiClient;
  events: Recorder;
  connector: Connector;
  settings: Pick<OperatorContext, 'syncPeriodMs' | 'stalledRecheckMs'>;
}

/** spec.image resolved: the image, the catalogue's verdict on it, and whether its replica in the template's location is there (undefined: it is). */
interface Resolution {
  resolved: ResolvedImage;
  enabled: boolean | undefined;
  availability: TemplateOutcome | undefined;
  /** Availability was read from Azure (not from an export's status, which the watch brings): look again on a timer. */
  polled: boolean;
}

export class LabTemplateReconciler {
  readonly #deps: LabTemplateDeps;
  readonly #writer: ObjectWriter<LabTemplate, TemplateFound>;
  /** When each Ready template's VM was last read: once per sync period, so that its exports' progress, which wakes it, costs no ARM read. */
  readonly #checked: SyncMemo;

  constructor(deps: LabTemplateDeps) {
    this.#deps = deps;
    this.#checked = new SyncMemo(deps.settings.syncPeriodMs);
    this.#writer = new ObjectWriter({
      resource: RESOURCES.LabTemplate,
      finalizer: LAB_TEMPLATE_FINALIZER,
      // The exports made from the template are read from the cache whatever the pass found, so its status always lists them.
      computeStatus: (template, outcome, now) => computeStatus(template, outcome, now, deps.exports.byIndex(BY_SOURCE_TEMPLATE, keyOf(template))),
      client: deps.client,
      events: deps.events,
      stalledRecheckMs: deps.settings.stalledRecheckMs,
    });
  }

  async reconcile({ namespace, name }: Request, context: ReconcileContext): Promise<Result> {
    const cached = this.#deps.templates.get(name, namespace);
    if (!cached) {
      this.#checked.forget(namespace, name);
      return {};
    }
    if (isBeingDeleted(cached)) return await this.#writer.finishDeletion(cached, () => this.#delete(cached, context), context);
    // The finalizer goes on before anything exists in Azure, so no VM can outlive its template.
    const template = await this.#writer.ensureFinalizer(cached);
    return await this.#writer.finish(template, () => this.#sync(template, context), context);
  }

  /** One pass over a live template: its account and place, the VM it has, else its image, the rules, then a new VM. */
  async #sync(template: LabTemplate, { log, signal }: ReconcileContext): Promise<TemplateOutcome> {
    const accountName = template.spec.labAccountRef.name;
    const account = this.#deps.accounts.get(accountName, template.metadata.namespace);
    if (!account) return pending(progressing('LabAccountNotFound', `LabAccount ${accountName} does not exist yet`));
    // Judged from the account's spec, so the user hears of it even while the account is not Ready.
    const location = templateLocation(template, account);
    const placement = checkPlacement(template, account, location);
    if (placement) return pending(placement);
    if (!isConditionTrue(conditionsOf(account), READY)) {
      const message = `LabAccount ${accountName} is not Ready yet`;
      return pending(isConditionTrue(conditionsOf(account), STALLED) ? stalled('LabAccountNotReady', message) : progressing('LabAccountNotReady', message));
    }
    const unchanged = this.#unchanged(template);
    if (unchanged) return unchanged;
    const connection = await this.#deps.connector.connect(account, signal);
    const vmRef = { resourceGroup: connection.resourceGroup, name: vmName(template) };
    // A VM already made: report it. One deleted behind our back is made again below.
    if (template.status?.vm?.id) {
      const vm = await connection.port.observeVirtualMachine(vmRef);
      if (vm) return this.#remembered(template, reportVm(template, vm));
    }
    const resolution = await this.#resolve(template, account, connection.port, location);
    if (isOutcome(resolution)) return pending(resolution, { imageResolved: conditionOf(resolution) });
    return await this.#provision(template, connection, vmRef, location, resolution, log);
  }

  /** Ready at this generation, its VM read within the sync period: what status says stands until the read is due. */
  #unchanged(template: LabTemplate): TemplateOutcome | undefined {
    const readyNow = findCondition(conditionsOf(template), READY);
    if (readyNow?.status !== 'True' || readyNow.observedGeneration !== (template.metadata.generation ?? 0)) return undefined;
    const dueIn = this.#checked.dueIn(template, () => generationOf(template));
    return dueIn > 0 ? ready(readyNow.reason, readyNow.message, { requeueAfter: dueIn }) : undefined;
  }

  /** A pass that found the template's VM Ready: the next read is due a sync period from now. */
  #remembered(template: LabTemplate, outcome: TemplateOutcome): TemplateOutcome {
    if (outcome.state !== 'ready') return outcome;
    this.#checked.remember(template, generationOf(template));
    return { ...outcome, requeueAfter: this.#checked.periodMs };
  }

  /** spec.image → the image version, whether the rules let it be used, and whether its replica in `location` is there. */
  async #resolve(template: LabTemplate, account: LabAccount, port: GalleryPort, location: string): Promise<Resolution | TemplateOutcome> {
    const marketplace = resolveMarketplace(template);
    if (marketplace) return { resolved: marketplace, enabled: undefined, availability: undefined, polled: false };

    const namespace = template.metadata.namespace ?? '';
    const attachmentName = account.status?.gallery?.attachment;
    const attachment = attachmentName ? this.#deps.attachments.get(attachmentName, namespace) : undefined;
    const exportRef = template.spec.image.imageExportRef;
    if (exportRef) {
      const imageExport = this.#deps.exports.get(exportRef.name, namespace);
      if (!imageExport) return progressing('ImageExportNotFound', `ImageExport ${exportRef.name} (spec.image.imageExportRef) does not exist yet`);
      const resolved = resolveExport(template, imageExport);
      if (isOutcome(resolved)) return resolved;
      const enabled = resolved.name === undefined ? undefined : catalogueEntry(attachment, resolved.name)?.enabled;
      return { resolved, enabled, availability: exportAvailability(imageExport, location), polled: false };
    }

    const gallery = parseGalleryId(attachment?.status?.galleryId);
    if (!attachment || !gallery) return progressing('NoGalleryAttached', `LabAccount ${account.metadata.name} has no gallery attached yet`);
    const name = template.spec.image.galleryImage?.name ?? '';
    const entry = catalogueEntry(attachment, name);
    // `latest` is resolved once: an existing template keeps the version it was made from.
    const kept = template.status?.image?.versionId ? template.status.image.version : undefined;
    const version = kept ?? galleryImageVersion(template, entry, attachment.metadata.name ?? '');
    if (isOutcome(version)) return version;
    const observed = await port.observeImageVersion({ ...gallery, image: name, version });
    if (!observed) return progressing('VersionNotFound', `version ${version} of image ${name} does not exist in the attached gallery`, { requeueAfter: POLL_MS });
    const resolved = resolveObservedVersion(name, version, entry?.osState, observed);
    return { resolved, enabled: entry?.enabled, availability: observedAvailability(observed, location), polled: true };
  }

  /** A resolved image: the rules, its replica in the location, then the VM (found, or made). */
  async #provision(template: LabTemplate, connection: AccountConnection, vmRef: VirtualMachineRef, location: string, resolution: Resolution, log: Logger): Promise<TemplateOutcome> {
    const { resolved, enabled, availability, polled } = resolution;
    const image = resolved.image;
    const imageResolved: ConditionValue = { status: 'True', reason: 'Resolved', message: describeImage(template, image) };
    const rule = checkRules(template, resolved, enabled);
    if (rule) return { ...rule, found: { image, imageResolved } };
    if (availability) {
      const waiting = availability.state !== 'stalled';
      // Exports report progress through the watch; an image observed in Azure is looked at again.
      const found: TemplateFound = { ...(waiting ? { phase: 'WaitingForImage' } : {}), image, imageResolved, imageAvailable: conditionOf(availability) };
      return { ...availability, found, ...(waiting && polled ? { requeueAfter: POLL_MS } : {}) };
    }
    const imageAvailable: ConditionValue = { status: 'True', reason: 'ReplicaCompleted', message: `the image is available in ${location}` };
    const existing = await connection.port.observeVirtualMachine(vmRef);
    if (existing) {
      const report = this.#remembered(template, reportVm(template, existing));
      return { ...report, found: { ...report.found, image, imageResolved, imageAvailable } };
    }
    const handle = await this.#createVm(template, connection.port, vmRef, location, resolved, log);
    this.#deps.events.event(template, 'Normal', 'CreatingVirtualMachine', `creating template VM ${vmRef.name} in ${location}`);
    const vm: VmStatus = { id: connection.port.virtualMachineId(vmRef), provisioningState: 'Creating' };
    return progressing('Provisioning', `creating template VM ${vmRef.name}`, { found: { phase: 'Provisioning', image, imageResolved, imageAvailable, vm }, requeueAfter: requeueAfter(handle) });
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
      tags: { [TEMPLATE_UID_TAG]: template.metadata.uid ?? '' },
    });
  }

  /** The administrator's password, read from its Secret only now, handed to ARM and kept nowhere. */
  async #adminCredentials(template: LabTemplate): Promise<{ username: string; password: string } | undefined> {
    const { adminUsername, adminPasswordSecretRef: ref } = template.spec.vm ?? {};
    if (!adminUsername || !ref) return undefined;
    const namespace = template.metadata.namespace ?? '';
    const secret = await this.#deps.client.get<V1Secret>(SECRETS, namespace, ref.name);
    if (!secret) throw new StalledError('AdminPasswordSecretNotFound', `Secret ${namespace}/${ref.name} (spec.vm.adminPasswordSecretRef) does not exist: create it with the key ${ref.key}`);
    const encoded = secret.data?.[ref.key];
    if (!encoded) throw new StalledError('AdminPasswordKeyNotFound', `Secret ${namespace}/${ref.name} has no key ${ref.key} (spec.vm.adminPasswordSecretRef.key): add it`);
    return { username: adminUsername, password: Buffer.from(encoded, 'base64').toString('utf8') };
  }

  /** Deletion: the VM goes first (started, then observed until gone), then the finalizer. */
  async #delete(template: LabTemplate, { log, signal }: ReconcileContext): Promise<TemplateOutcome | Released> {
    this.#checked.forget(template.metadata.namespace ?? '', template.metadata.name ?? '');
    const account = this.#deps.accountsForDeletion.get(template.spec.labAccountRef.name, template.metadata.namespace);
    if (!account) {
      // Nothing left to reach Azure through; keeping the template would only block its namespace.
      this.#deps.events.event(template, 'Warning', 'VirtualMachineLeftBehind', `LabAccount ${template.spec.labAccountRef.name} is gone: template VM ${vmName(template)} was not deleted`);
      return RELEASED;
    }
    const connection = await this.#deps.connector.connect(account, signal).catch((err: unknown) => {
      throw err instanceof StalledError ? new StalledError(err.reason, `cannot delete the template VM: ${err.message}`) : err;
    });
    const ref = { resourceGroup: connection.resourceGroup, name: vmName(template) };
    const vm = await connection.port.observeVirtualMachine(ref);
    if (!vm || vm.tags[TEMPLATE_UID_TAG] !== template.metadata.uid) {
      log.info({ vm: ref.name }, 'template VM gone, finalizer removed');
      return RELEASED;
    }
    let wait = POLL_MS;
    if (vm.provisioningState !== 'Deleting') {
      log.info({ vm: ref.name }, 'deleting template VM');
      wait = requeueAfter(await connection.port.deleteVirtualMachine(ref));
    }
    return progressing('Deleting', `deleting template VM ${ref.name}`, { found: { vm: { id: vm.id, provisioningState: 'Deleting' } }, requeueAfter: wait });
  }
}

/** The template's own VM as Azure has it: Ready, still provisioning, failed, or a VM of that name someone else made. */
export function reportVm(template: LabTemplate, vm: VirtualMachineObservation): TemplateOutcome {
  const vmStatus: VmStatus = { id: vm.id, provisioningState: vm.provisioningState, ...(vm.powerState ? { powerState: vm.powerState } : {}) };
  if (vm.tags[TEMPLATE_UID_TAG] !== template.metadata.uid) {
    return stalled('VirtualMachineNameTaken', `a VM named ${vm.name} exists that this template did not make: delete or rename it`, { vm: null });
  }
  switch (vm.provisioningState) {
    case 'Succeeded':
      return ready('VirtualMachineReady', `template VM ${vm.name} is ${vm.powerState ?? 'provisioned'}`, { found: { phase: 'Ready', vm: vmStatus } });
    case 'Failed':
      return stalled('VirtualMachineFailed', `Azure failed to provision template VM ${vm.name}: delete the template and create it again`, { vm: vmStatus });
    default:
      return progressing('Provisioning', `template VM ${vm.name} is ${vm.provisioningState}`, { found: { phase: 'Provisioning', vm: vmStatus }, requeueAfter: POLL_MS });
  }
}

/** Before any image is settled: waiting (Pending) or stalled (Failed). */
export function pending(outcome: TemplateOutcome, found: TemplateFound = {}): TemplateOutcome {
  return { ...outcome, found: { ...(outcome.state === 'stalled' ? {} : { phase: 'Pending' }), ...outcome.found, ...found } };
}

/** What holds the image up, as its condition. */
export function conditionOf(outcome: TemplateOutcome): ConditionValue {
  return { status: 'False', reason: outcome.reason, message: outcome.message };
}

const generationOf = (template: LabTemplate) => String(template.metadata.generation ?? 0);

function describeImage(template: LabTemplate, image: TemplateImage): string {
  const { marketplace, imageExportRef, galleryImage } = template.spec.image;
  if (marketplace) return `marketplace image ${marketplace.publisher}:${marketplace.offer}:${marketplace.sku}:${image.version}`;
  const from = imageExportRef ? `ImageExport ${imageExportRef.name}` : `gallery image ${galleryImage?.name}`;
  return `${from}: version ${image.version} (${image.osState ?? 'unknown OS state'})`;
}
