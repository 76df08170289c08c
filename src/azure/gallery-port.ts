import type { GalleryImageVersion, VirtualMachine } from '@azure/arm-compute';
import { createArmClient, type ArmClient, type ArmClientConfig } from './client.ts';
import { classifyArmError, isNotFound } from './errors.ts';
import {
  exportUidTag,
  observeGalleryModel,
  observeImageModel,
  observeImageVersionModel,
  observeVirtualMachineModel,
  type GalleryObservation,
  type ImageObservation,
  type ImageVersionObservation,
  type TargetRegionSpec,
  type VirtualMachineObservation,
} from './observations.ts';
import { completedHandle, pollOperation, startOperation, type OperationHandle, type OperationStatus } from './operations.ts';

export interface GalleryRef {
  resourceGroup: string;
  gallery: string;
}
export interface ImageRef extends GalleryRef {
  image: string;
}
export interface ImageVersionRef extends ImageRef {
  version: string;
}
export interface VirtualMachineRef {
  resourceGroup: string;
  name: string;
}

export interface GallerySpec {
  location: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface ImageSpec {
  location: string;
  osType: 'Windows' | 'Linux';
  osState: 'Generalized' | 'Specialized';
  hyperVGeneration?: 'V1' | 'V2';
  identifier: { publisher: string; offer: string; sku: string };
  description?: string;
  tags?: Record<string, string>;
}

export interface ImageVersionSpec {
  location: string;
  /** Exactly one source: a VM (a lab's template VM) or another image version's id. */
  source: { virtualMachineId: string } | { id: string };
  targetRegions: TargetRegionSpec[];
  excludeFromLatest?: boolean;
  endOfLifeDate?: Date;
  /** The ImageExport's UID, written as the `labimages.io/export-uid` tag. */
  exportUid?: string;
  tags?: Record<string, string>;
}

/** What an existing image version's PATCH may change; absent flags are left as they are. */
export interface ImageVersionPublishing {
  targetRegions: TargetRegionSpec[];
  excludeFromLatest?: boolean;
  endOfLifeDate?: Date;
}

export interface VirtualMachineSpec {
  location: string;
  size: string;
  image: { marketplace: { publisher: string; offer: string; sku: string; version: string } } | { imageVersionId: string };
  /** The NIC is configured inline on this subnet. */
  subnetId?: string;
  /** Generalized images only: a specialized image keeps the source's accounts. */
  admin?: { username: string; password: string };
  osDiskSizeGiB?: number;
  tags?: Record<string, string>;
}

/**
 * The gallery side of every controller, in the shape of Crossplane's external client: observe
 * (undefined = it does not exist) before create / update / delete. Mutations start an ARM
 * long-running operation and return its handle at once; `poll` looks at it later. Failures
 * are thrown as ArmError (retryable or terminal, with ARM's code).
 */
export class GalleryPort {
  readonly client: ArmClient;

  constructor(client: ArmClient) {
    this.client = client;
  }

  private get compute() {
    return this.client.compute;
  }

  private resourceId(resourceGroup: string, path: string): string {
    return `/subscriptions/${this.client.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/${path}`;
  }

  galleryId(ref: GalleryRef): string {
    return this.resourceId(ref.resourceGroup, `galleries/${ref.gallery}`);
  }

  imageId(ref: ImageRef): string {
    return `${this.galleryId(ref)}/images/${ref.image}`;
  }

  imageVersionId(ref: ImageVersionRef): string {
    return `${this.imageId(ref)}/versions/${ref.version}`;
  }

  virtualMachineId(ref: VirtualMachineRef): string {
    return this.resourceId(ref.resourceGroup, `virtualMachines/${ref.name}`);
  }

  /** One look at a started operation; see pollOperation. */
  poll(handle: OperationHandle, now = Date.now()): Promise<OperationStatus> {
    return pollOperation(this.client, handle, now);
  }

  // Galleries

  observeGallery(ref: GalleryRef): Promise<GalleryObservation | undefined> {
    return observe(async () => observeGalleryModel(await this.compute.galleries.get(ref.resourceGroup, ref.gallery)));
  }

  listGalleries(resourceGroup?: string): Promise<GalleryObservation[]> {
    const pages = resourceGroup ? this.compute.galleries.listByResourceGroup(resourceGroup) : this.compute.galleries.list();
    return collect(pages, observeGalleryModel);
  }

  /** Creates the gallery, or updates its description and tags when it exists. */
  createGallery(ref: GalleryRef, spec: GallerySpec): Promise<OperationHandle> {
    return startOperation('galleries.createOrUpdate', this.galleryId(ref), (options) =>
      this.compute.galleries.createOrUpdate(
        ref.resourceGroup,
        ref.gallery,
        { location: spec.location, ...optional('description', spec.description), ...optional('tags', spec.tags) },
        options,
      ),
    );
  }

  deleteGallery(ref: GalleryRef): Promise<OperationHandle> {
    return startDelete('galleries.delete', this.galleryId(ref), (options) => this.compute.galleries.delete(ref.resourceGroup, ref.gallery, options));
  }

  // Image definitions

  observeImage(ref: ImageRef): Promise<ImageObservation | undefined> {
    return observe(async () => observeImageModel(await this.compute.galleryImages.get(ref.resourceGroup, ref.gallery, ref.image)));
  }

  listImages(ref: GalleryRef): Promise<ImageObservation[]> {
    return collect(this.compute.galleryImages.listByGallery(ref.resourceGroup, ref.gallery), observeImageModel);
  }

  createImage(ref: ImageRef, spec: ImageSpec): Promise<OperationHandle> {
    return startOperation('galleryImages.createOrUpdate', this.imageId(ref), (options) =>
      this.compute.galleryImages.createOrUpdate(
        ref.resourceGroup,
        ref.gallery,
        ref.image,
        {
          location: spec.location,
          osType: spec.osType,
          osState: spec.osState,
          hyperVGeneration: spec.hyperVGeneration ?? 'V2',
          identifier: spec.identifier,
          ...optional('description', spec.description),
          ...optional('tags', spec.tags),
        },
        options,
      ),
    );
  }

  deleteImage(ref: ImageRef): Promise<OperationHandle> {
    return startDelete('galleryImages.delete', this.imageId(ref), (options) =>
      this.compute.galleryImages.delete(ref.resourceGroup, ref.gallery, ref.image, options),
    );
  }

  // Image versions

  /** The version with its per-region replication status. */
  observeImageVersion(ref: ImageVersionRef): Promise<ImageVersionObservation | undefined> {
    return observe(async () =>
      observeImageVersionModel(
        await this.compute.galleryImageVersions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version, { expand: 'ReplicationStatus' }),
      ),
    );
  }

  /** Every version of an image (without replication status, which ARM lists do not carry). */
  async listImageVersions(ref: ImageRef): Promise<ImageVersionObservation[]> {
    try {
      return await collect(this.compute.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.gallery, ref.image), observeImageVersionModel);
    } catch (error) {
      const armError = classifyArmError(error);
      if (isNotFound(armError)) return [];
      throw armError;
    }
  }

  /** The version an export made, found by its tag, whatever its name. */
  async findImageVersionByExportUid(ref: ImageRef, exportUid: string): Promise<ImageVersionObservation | undefined> {
    return (await this.listImageVersions(ref)).find((version) => version.exportUid === exportUid);
  }

  createImageVersion(ref: ImageVersionRef, spec: ImageVersionSpec): Promise<OperationHandle> {
    const body: GalleryImageVersion = {
      location: spec.location,
      tags: { ...spec.tags, ...(spec.exportUid === undefined ? {} : { [exportUidTag]: spec.exportUid }) },
      publishingProfile: {
        targetRegions: spec.targetRegions.map(targetRegion),
        ...optional('excludeFromLatest', spec.excludeFromLatest),
        ...optional('endOfLifeDate', spec.endOfLifeDate),
      },
      storageProfile: { source: spec.source },
    };
    return startOperation('galleryImageVersions.createOrUpdate', this.imageVersionId(ref), (options) =>
      this.compute.galleryImageVersions.createOrUpdate(ref.resourceGroup, ref.gallery, ref.image, ref.version, body, options),
    );
  }

  /** PATCHes what may change on an existing version: where it is replicated, and how it is published. */
  updateImageVersion(ref: ImageVersionRef, publishing: ImageVersionPublishing): Promise<OperationHandle> {
    const { targetRegions, excludeFromLatest, endOfLifeDate } = publishing;
    return startOperation('galleryImageVersions.update', this.imageVersionId(ref), (options) =>
      this.compute.galleryImageVersions.update(
        ref.resourceGroup,
        ref.gallery,
        ref.image,
        ref.version,
        {
          publishingProfile: {
            targetRegions: targetRegions.map(targetRegion),
            ...(excludeFromLatest === undefined ? {} : { excludeFromLatest }),
            ...(endOfLifeDate === undefined ? {} : { endOfLifeDate }),
          },
        },
        options,
      ),
    );
  }

  deleteImageVersion(ref: ImageVersionRef): Promise<OperationHandle> {
    return startDelete('galleryImageVersions.delete', this.imageVersionId(ref), (options) =>
      this.compute.galleryImageVersions.delete(ref.resourceGroup, ref.gallery, ref.image, ref.version, options),
    );
  }

  // Virtual machines

  observeVirtualMachine(ref: VirtualMachineRef): Promise<VirtualMachineObservation | undefined> {
    return observe(async () =>
      observeVirtualMachineModel(await this.compute.virtualMachines.get(ref.resourceGroup, ref.name, { expand: 'instanceView' })),
    );
  }

  createVirtualMachine(ref: VirtualMachineRef, spec: VirtualMachineSpec): Promise<OperationHandle> {
    const body: VirtualMachine = {
      location: spec.location,
      ...optional('tags', spec.tags),
      hardwareProfile: { vmSize: spec.size },
      storageProfile: {
        imageReference: 'imageVersionId' in spec.image ? { id: spec.image.imageVersionId } : spec.image.marketplace,
        osDisk: { createOption: 'FromImage', ...optional('diskSizeGB', spec.osDiskSizeGiB) },
      },
      ...(spec.admin ? { osProfile: { computerName: ref.name.slice(0, 15), adminUsername: spec.admin.username, adminPassword: spec.admin.password } } : {}),
      ...(spec.subnetId
        ? {
            networkProfile: {
              networkApiVersion: '2020-11-01',
              networkInterfaceConfigurations: [
                { name: `${ref.name}-nic`, primary: true, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: spec.subnetId } }] },
              ],
            },
          }
        : {}),
    };
    return startOperation('virtualMachines.createOrUpdate', this.virtualMachineId(ref), (options) =>
      this.compute.virtualMachines.createOrUpdate(ref.resourceGroup, ref.name, body, options),
    );
  }

  deleteVirtualMachine(ref: VirtualMachineRef): Promise<OperationHandle> {
    return startDelete('virtualMachines.delete', this.virtualMachineId(ref), (options) =>
      this.compute.virtualMachines.delete(ref.resourceGroup, ref.name, options),
    );
  }
}

export function createGalleryPort(config: ArmClientConfig): GalleryPort {
  return new GalleryPort(createArmClient(config));
}

function targetRegion(region: TargetRegionSpec) {
  return {
    name: region.name,
    ...optional('regionalReplicaCount', region.replicaCount),
    ...optional('storageAccountType', region.storageAccountType),
    ...optional('excludeFromLatest', region.excludeFromLatest),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function observe<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const armError = classifyArmError(error);
    if (isNotFound(armError)) return undefined;
    throw armError;
  }
}

async function collect<M, T>(items: AsyncIterable<M>, map: (model: M) => T): Promise<T[]> {
  const result: T[] = [];
  try {
    for await (const item of items) result.push(map(item));
  } catch (error) {
    throw classifyArmError(error);
  }
  return result;
}

/** Deleting what is already gone is done, not an error. */
async function startDelete(...args: Parameters<typeof startOperation<void>>): Promise<OperationHandle> {
  try {
    return await startOperation(...args);
  } catch (error) {
    const armError = classifyArmError(error);
    if (isNotFound(armError)) return completedHandle(args[0], args[1]);
    throw armError;
  }
}
