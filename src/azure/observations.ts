import type { Gallery, GalleryImage, GalleryImageVersion, VirtualMachine } from '@azure/arm-compute';
import { normalizeRegion } from './regions.ts';
import { EXPORT_UID_TAG } from './tags.ts';

// What the controllers see of Azure: plain data, region names normalized, no SDK types.

export interface GalleryObservation {
  id: string;
  name: string;
  location: string;
  provisioningState: string;
  description?: string;
  uniqueName?: string;
  tags: Record<string, string>;
}

export interface ImageObservation {
  id: string;
  name: string;
  location: string;
  provisioningState: string;
  osType: string;
  osState: string;
  hyperVGeneration?: string;
  identifier: { publisher: string; offer: string; sku: string };
  tags: Record<string, string>;
}

export interface TargetRegionSpec {
  /** Any spelling ARM accepts; sent as given, compared normalized. */
  name: string;
  replicaCount?: number;
  storageAccountType?: string;
  excludeFromLatest?: boolean;
}

export interface TargetRegionObservation {
  name: string;
  replicaCount: number;
  storageAccountType: string;
  excludeFromLatest: boolean;
}

export interface RegionReplication {
  region: string;
  /** ARM's ReplicationState: Unknown | Replicating | Completed | Failed. */
  state: string;
  progress: number;
  /** ARM's message; for a failed region, what went wrong. */
  details: string;
}

export interface ImageVersionObservation {
  id: string;
  name: string;
  location: string;
  provisioningState: string;
  tags: Record<string, string>;
  /** The EXPORT_UID_TAG tag, when an export made this version. */
  exportUid?: string;
  source: { virtualMachineId?: string; id?: string };
  osDiskSizeGiB?: number;
  /** Data disk images besides the OS disk (a version made from a VM with data disks has them). */
  dataDisks: number;
  publishedDate?: Date;
  excludeFromLatest: boolean;
  endOfLifeDate?: Date;
  targetRegions: TargetRegionObservation[];
  /** Present only when asked for (observe does; list does not, as in ARM). */
  replication?: { aggregatedState: string; regions: RegionReplication[] };
}

export interface VirtualMachineObservation {
  id: string;
  name: string;
  location: string;
  provisioningState: string;
  size?: string;
  osType?: string;
  osDiskSizeGiB?: number;
  image: { publisher?: string; offer?: string; sku?: string; version?: string; id?: string };
  /** From the instance view, e.g. `running`. */
  powerState?: string;
  tags: Record<string, string>;
}

function base(resource: { id?: string; name?: string; location: string; tags?: Record<string, string> }) {
  return { id: resource.id ?? '', name: resource.name ?? '', location: normalizeRegion(resource.location), tags: resource.tags ?? {} };
}

export function observeGalleryModel(gallery: Gallery): GalleryObservation {
  return {
    ...base(gallery),
    provisioningState: gallery.provisioningState ?? 'Unknown',
    ...(gallery.description === undefined ? {} : { description: gallery.description }),
    ...(gallery.identifier?.uniqueName === undefined ? {} : { uniqueName: gallery.identifier.uniqueName }),
  };
}

export function observeImageModel(image: GalleryImage): ImageObservation {
  return {
    ...base(image),
    provisioningState: image.provisioningState ?? 'Unknown',
    osType: image.osType ?? 'Unknown',
    osState: image.osState ?? 'Unknown',
    ...(image.hyperVGeneration === undefined ? {} : { hyperVGeneration: image.hyperVGeneration }),
    identifier: { publisher: image.identifier?.publisher ?? '', offer: image.identifier?.offer ?? '', sku: image.identifier?.sku ?? '' },
  };
}

export function observeImageVersionModel(version: GalleryImageVersion): ImageVersionObservation {
  const profile = version.publishingProfile;
  const defaultReplicas = profile?.replicaCount ?? 1;
  const defaultStorage = profile?.storageAccountType ?? 'Standard_LRS';
  const source = version.storageProfile?.source;
  const tags = version.tags ?? {};
  const replication = version.replicationStatus;
  return {
    ...base(version),
    provisioningState: version.provisioningState ?? 'Unknown',
    ...(tags[EXPORT_UID_TAG] === undefined ? {} : { exportUid: tags[EXPORT_UID_TAG] }),
    source: {
      ...(source?.virtualMachineId ? { virtualMachineId: source.virtualMachineId } : {}),
      ...(source?.id ? { id: source.id } : {}),
    },
    ...(version.storageProfile?.osDiskImage?.sizeInGB === undefined ? {} : { osDiskSizeGiB: version.storageProfile.osDiskImage.sizeInGB }),
    dataDisks: version.storageProfile?.dataDiskImages?.length ?? 0,
    ...(profile?.publishedDate === undefined ? {} : { publishedDate: profile.publishedDate }),
    excludeFromLatest: profile?.excludeFromLatest ?? false,
    ...(profile?.endOfLifeDate === undefined ? {} : { endOfLifeDate: profile.endOfLifeDate }),
    targetRegions: (profile?.targetRegions ?? []).map((region) => ({
      name: normalizeRegion(region.name),
      replicaCount: region.regionalReplicaCount ?? defaultReplicas,
      storageAccountType: region.storageAccountType ?? defaultStorage,
      excludeFromLatest: region.excludeFromLatest ?? profile?.excludeFromLatest ?? false,
    })),
    ...(replication
      ? {
          replication: {
            aggregatedState: replication.aggregatedState ?? 'Unknown',
            regions: (replication.summary ?? []).map((summary) => ({
              region: normalizeRegion(summary.region ?? ''),
              state: summary.state ?? 'Unknown',
              progress: summary.progress ?? 0,
              details: summary.details ?? '',
            })),
          },
        }
      : {}),
  };
}

export function observeVirtualMachineModel(vm: VirtualMachine): VirtualMachineObservation {
  const reference = vm.storageProfile?.imageReference;
  const powerCode = vm.instanceView?.statuses?.find((status) => status.code?.startsWith('PowerState/'))?.code;
  return {
    ...base(vm),
    provisioningState: vm.provisioningState ?? 'Unknown',
    ...(vm.hardwareProfile?.vmSize === undefined ? {} : { size: vm.hardwareProfile.vmSize }),
    ...(vm.storageProfile?.osDisk?.osType === undefined ? {} : { osType: vm.storageProfile.osDisk.osType }),
    ...(vm.storageProfile?.osDisk?.diskSizeGB === undefined ? {} : { osDiskSizeGiB: vm.storageProfile.osDisk.diskSizeGB }),
    image: {
      ...(reference?.publisher ? { publisher: reference.publisher } : {}),
      ...(reference?.offer ? { offer: reference.offer } : {}),
      ...(reference?.sku ? { sku: reference.sku } : {}),
      ...(reference?.version ? { version: reference.version } : {}),
      ...(reference?.id ? { id: reference.id } : {}),
    },
    ...(powerCode ? { powerState: powerCode.slice('PowerState/'.length) } : {}),
  };
}
