// The gallery port: what the controllers may ask of Azure, split by concern, as plain data in and
// out (no SDK types). `createGalleryPort` (gallery-port.ts) serves it through @azure/arm-compute;
// the unit tests serve it from memory.
import type { GalleryObservation, ImageObservation, ImageVersionObservation, TargetRegionSpec, VirtualMachineObservation } from './observations.ts';
import type { OperationHandle, OperationStatus } from './operations.ts';

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
  /** Absent: the port's own subscription. A VM named by its ARM id keeps the id's subscription. */
  subscriptionId?: string;
  resourceGroup: string;
  name: string;
}

export interface ResourceGroupSpec {
  location: string;
  tags?: Record<string, string>;
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
  /** The ImageExport's UID, written as the EXPORT_UID_TAG tag. */
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

// Each concern in the shape of Crossplane's external client: observe (undefined = it does not
// exist) before create / update / delete. Mutations start an ARM long-running operation and
// return its handle at once; `poll` looks at it later. Failures are thrown as ArmError (retryable
// or terminal, with ARM's code).

/** Resource groups (Microsoft.Resources). ARM makes a group in its first answer: there is no operation to follow. */
export interface ResourceGroups {
  createResourceGroup(name: string, spec: ResourceGroupSpec): Promise<void>;
}

export interface Galleries {
  galleryId(ref: GalleryRef): string;
  observeGallery(ref: GalleryRef): Promise<GalleryObservation | undefined>;
  /** In one resource group, or (absent) the whole subscription. */
  listGalleries(resourceGroup?: string): Promise<GalleryObservation[]>;
  /** Creates the gallery, or updates its description and tags when it exists. */
  createGallery(ref: GalleryRef, spec: GallerySpec): Promise<OperationHandle>;
  deleteGallery(ref: GalleryRef): Promise<OperationHandle>;
}

/** Image definitions. */
export interface GalleryImages {
  imageId(ref: ImageRef): string;
  observeImage(ref: ImageRef): Promise<ImageObservation | undefined>;
  listImages(ref: GalleryRef): Promise<ImageObservation[]>;
  createImage(ref: ImageRef, spec: ImageSpec): Promise<OperationHandle>;
  deleteImage(ref: ImageRef): Promise<OperationHandle>;
}

export interface ImageVersions {
  imageVersionId(ref: ImageVersionRef): string;
  /** The version with its per-region replication status. */
  observeImageVersion(ref: ImageVersionRef): Promise<ImageVersionObservation | undefined>;
  /** Every version of an image, without replication status (which ARM lists do not carry); none when the image does not exist. */
  listImageVersions(ref: ImageRef): Promise<ImageVersionObservation[]>;
  /** The version an export made, found by its tag, whatever its name. */
  findImageVersionByExportUid(ref: ImageRef, exportUid: string): Promise<ImageVersionObservation | undefined>;
  createImageVersion(ref: ImageVersionRef, spec: ImageVersionSpec): Promise<OperationHandle>;
  /** PATCHes what may change on an existing version: where it is replicated, and how it is published. */
  updateImageVersion(ref: ImageVersionRef, publishing: ImageVersionPublishing): Promise<OperationHandle>;
  deleteImageVersion(ref: ImageVersionRef): Promise<OperationHandle>;
}

export interface VirtualMachines {
  virtualMachineId(ref: VirtualMachineRef): string;
  observeVirtualMachine(ref: VirtualMachineRef): Promise<VirtualMachineObservation | undefined>;
  /** In one resource group, or (absent) the whole subscription. */
  listVirtualMachines(resourceGroup?: string): Promise<VirtualMachineObservation[]>;
  createVirtualMachine(ref: VirtualMachineRef, spec: VirtualMachineSpec): Promise<OperationHandle>;
  deleteVirtualMachine(ref: VirtualMachineRef): Promise<OperationHandle>;
}

export interface Operations {
  /** One look at a started operation: never waits (see pollOperation). `now` is for tests with a clock of their own. */
  poll(handle: OperationHandle, now?: number): Promise<OperationStatus>;
}

/** Everything the controllers ask of one subscription. Deleting what is already gone is done, not an error. */
export interface GalleryPort extends ResourceGroups, Galleries, GalleryImages, ImageVersions, VirtualMachines, Operations {}
