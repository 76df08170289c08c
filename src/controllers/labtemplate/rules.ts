// The LabTemplate controller's judgement, without any I/O: where the template goes, what its
// spec.image resolves to, whether that image may be used and whether its replica is there yet.
// Each check answers undefined (go on) or the Outcome that holds the template up: under way
// (progressing) or a change only the user can make (stalled).
import type { GalleryAttachment, GalleryImageStatus, ImageExport, LabAccount, LabTemplate } from '../../api/index.ts';
import { geographyOf, normalizeRegion, type ImageVersionObservation } from '../../azure/index.ts';
import { progressing, stalled } from '../common/outcome.ts';
import { checkScope } from '../common/scope.ts';
import type { TemplateImage, TemplateOutcome } from './status.ts';

/** Lab platforms take a single OS disk (no data disks) under this size. */
export const MAX_OS_DISK_GIB = 128;

/** What spec.image resolved to, with what the rules need to judge it. */
export interface ResolvedImage {
  /** What status.image records. */
  image: TemplateImage;
  /** The image definition in the attached gallery; absent for a marketplace image. */
  name?: string;
  /** Size of the OS disk, when known. */
  sizeGiB?: number;
  /** Data disk images besides the OS disk, when known. */
  dataDisks?: number;
}

/** The template's region: spec.location, else the account's. */
export function templateLocation(template: LabTemplate, account: LabAccount): string {
  return normalizeRegion(template.spec.location ?? account.spec.location);
}

/** The template must stay in the account's data-residency geography, and Azure needs a subnet for the NIC, in the account's scope. */
export function checkPlacement(template: LabTemplate, account: LabAccount, location: string): TemplateOutcome | undefined {
  const geography = account.status?.geography ?? geographyOf(account.spec.location);
  // Without geography data (a sovereign cloud's region), the account's regions are those its spec names.
  const regionsOfAccount = account.status?.regions ?? [normalizeRegion(account.spec.location)];
  if (geography ? geographyOf(location) !== geography : !regionsOfAccount.includes(location)) {
    const name = account.metadata.name;
    const regions = regionsOfAccount.length ? ` (${regionsOfAccount.join(', ')})` : '';
    return stalled(
      'LocationOutsideGeography',
      geography
        ? `spec.location ${location} is not in the geography ${geography} of LabAccount ${name}: choose a region of that geography${regions}`
        : `spec.location ${location} is not a region of LabAccount ${name}, whose location no geography data covers: choose its location or one of its spec.replication.regions${regions}`,
    );
  }
  const subnetId = template.spec.vm?.subnetId;
  if (account.spec.provider === 'Azure' && !subnetId) {
    return stalled('SubnetRequired', `LabAccount ${account.metadata.name} uses Azure: set spec.vm.subnetId to the subnet the template VM joins`);
  }
  return subnetId ? checkScope(account, subnetId, 'spec.vm.subnetId') : undefined;
}

/** A marketplace image is always there; it is generalized, so it takes admin credentials. */
export function resolveMarketplace(template: LabTemplate): ResolvedImage | undefined {
  const marketplace = template.spec.image.marketplace;
  if (!marketplace) return undefined;
  return { image: { version: marketplace.version ?? 'latest', osState: 'Generalized' } };
}

/** The version an ImageExport made, once it has made one. */
export function resolveExport(template: LabTemplate, imageExport: ImageExport): ResolvedImage | TemplateOutcome {
  const exportName = imageExport.metadata.name ?? '';
  if (imageExport.metadata.deletionTimestamp) return stalled('ImageExportDeleting', `ImageExport ${exportName} is being deleted: choose another image`);
  if (imageExport.spec.labAccountRef.name !== template.spec.labAccountRef.name) {
    return stalled(
      'LabAccountMismatch',
      `ImageExport ${exportName} belongs to LabAccount ${imageExport.spec.labAccountRef.name}, not ${template.spec.labAccountRef.name}: refer to an export of the same account`,
    );
  }
  const { version, imageVersionId } = imageExport.status ?? {};
  if (!version || !imageVersionId) {
    return progressing('ImageExportPending', `ImageExport ${exportName} has not made its image version yet (phase ${imageExport.status?.phase ?? 'Pending'})`);
  }
  return {
    image: { versionId: imageVersionId, version, osState: imageExport.spec.image.osState ?? 'Specialized' },
    name: imageExport.spec.image.name,
    ...(imageExport.status?.sizeGiB === undefined ? {} : { sizeGiB: imageExport.status.sizeGiB }),
    ...(imageExport.status?.dataDisks === undefined ? {} : { dataDisks: imageExport.status.dataDisks }),
  };
}

/** Whether the export's replica in `location` is Completed; how far it is otherwise. Read from the export's status, not from Azure. */
export function exportAvailability(imageExport: ImageExport, location: string): TemplateOutcome | undefined {
  const exportName = imageExport.metadata.name ?? '';
  const status = imageExport.status ?? {};
  const region = status.regions?.find((r) => normalizeRegion(r.name) === location);
  if (region?.state === 'Completed') return undefined;
  const settled = status.phase === 'Succeeded' || status.phase === 'PartiallySucceeded' || status.phase === 'Failed';
  if (!region) {
    if (settled) {
      return stalled('NotReplicatedToLocation', `ImageExport ${exportName} does not replicate to ${location}: add ${location} to its spec.replication.regions`);
    }
    return progressing('ReplicationInProgress', `version ${status.version} is not replicating to ${location} yet: 0%`);
  }
  if (region.state === 'Failed' && settled) {
    return stalled('ReplicationFailed', `replication of version ${status.version} to ${location} failed: ${region.message ?? 'no details'}`);
  }
  return progressing('ReplicationInProgress', `version ${status.version} is replicating to ${location}: ${region.progress ?? 0}% (${region.state})`);
}

/** The attached gallery's catalogue entry of an image. */
export function catalogueEntry(attachment: GalleryAttachment | undefined, name: string): GalleryImageStatus | undefined {
  return attachment?.status?.images?.find((image) => image.name === name);
}

/** An image of the attached gallery, by name: `latest` from the catalogue (so it moves only for new templates), x.y.z as given. */
export function galleryImageVersion(template: LabTemplate, entry: GalleryImageStatus | undefined, attachmentName: string): string | TemplateOutcome {
  const wanted = template.spec.image.galleryImage;
  const name = wanted?.name ?? '';
  if (!entry) return progressing('ImageNotFound', `image ${name} is not in the catalogue of GalleryAttachment ${attachmentName} (status.images)`);
  const version = wanted?.version ?? 'latest';
  if (version !== 'latest') return version;
  return entry.latestVersion ?? progressing('ImageNotFound', `image ${name} has no version that latest can resolve to`);
}

/** An image version as observed in the gallery; `osState` comes from its image definition. */
export function resolveObservedVersion(name: string, version: string, osState: TemplateImage['osState'], observed: ImageVersionObservation): ResolvedImage {
  return {
    image: { versionId: observed.id, version, ...(osState ? { osState } : {}) },
    name,
    ...(observed.osDiskSizeGiB === undefined ? {} : { sizeGiB: observed.osDiskSizeGiB }),
    dataDisks: observed.dataDisks,
  };
}

/** Whether an observed version's replica in `location` is Completed (ARM's replicationStatus). */
export function observedAvailability(observed: ImageVersionObservation, location: string): TemplateOutcome | undefined {
  const region = observed.replication?.regions.find((r) => r.region === location);
  if (region?.state === 'Completed') return undefined;
  if (region?.state === 'Failed') return stalled('ReplicationFailed', `replication of version ${observed.name} to ${location} failed: ${region.details || 'no details'}`);
  if (!region && !observed.targetRegions.some((r) => r.name === location)) {
    return stalled('NotReplicatedToLocation', `version ${observed.name} does not replicate to ${location}: add ${location} to its target regions`);
  }
  return progressing('ReplicationInProgress', `version ${observed.name} is replicating to ${location}: ${region?.progress ?? 0}%`);
}

/** The lab platform's rules, judged before any VM is made. `enabled` is the catalogue's verdict (absent: enabled). */
export function checkRules(template: LabTemplate, resolved: ResolvedImage, enabled: boolean | undefined): TemplateOutcome | undefined {
  if (resolved.name !== undefined && enabled === false) {
    return stalled('ImageDisabled', `image ${resolved.name} is disabled for lab creators (GalleryAttachment spec.images): enable it or choose another image`);
  }
  if (resolved.sizeGiB !== undefined && resolved.sizeGiB >= MAX_OS_DISK_GIB) {
    return stalled('ImageTooLarge', `the image's OS disk is ${resolved.sizeGiB} GB; lab templates take a single OS disk under ${MAX_OS_DISK_GIB} GB`);
  }
  if (resolved.dataDisks !== undefined && resolved.dataDisks > 0) {
    return stalled(
      'DataDisksNotSupported',
      `the image has ${resolved.dataDisks} data disk(s) besides its OS disk; lab templates take a single OS disk: choose an image made from a VM without data disks`,
    );
  }
  const vm = template.spec.vm ?? {};
  const credentials = vm.adminUsername !== undefined || vm.adminPasswordSecretRef !== undefined;
  if (resolved.image.osState === 'Specialized' && credentials) {
    return stalled('CredentialsNotAllowed', 'the image is specialized and keeps the accounts of its source VM: remove spec.vm.adminUsername and spec.vm.adminPasswordSecretRef');
  }
  if (resolved.image.osState === 'Generalized' && !credentials) {
    return stalled('CredentialsRequired', 'the image is generalized: set spec.vm.adminUsername and spec.vm.adminPasswordSecretRef for the VM\'s administrator');
  }
  return undefined;
}

/**
 * The template VM's ARM name: derived from the template so that a restarted operator finds the VM
 * it made (observe before create), unique per template object by the uid prefix. ARM allows 64 characters.
 */
export function vmName(template: LabTemplate): string {
  const name = (template.metadata.name ?? '').slice(0, 40).replace(/[.-]+$/, '');
  return `labtmpl-${name}-${(template.metadata.uid ?? '').slice(0, 8)}`;
}
