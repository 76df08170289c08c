// An in-memory GalleryPort: what a table test sets up is what the reconciler observes, every
// mutation is recorded, and an ARM error can be queued for any call. It keeps ARM's contract:
// undefined for what does not exist, mutations start operations that a later observe shows as
// under way, deleting what is gone is done.
import {
  ArmError,
  EXPORT_UID_TAG,
  galleryId,
  imageId,
  imageVersionId,
  virtualMachineId,
  type GalleryObservation,
  type GalleryPort,
  type GalleryRef,
  type ImageObservation,
  type ImageRef,
  type ImageVersionObservation,
  type ImageVersionRef,
  type OperationHandle,
  type OperationStatus,
  type VirtualMachineObservation,
  type VirtualMachineRef,
  simulatedSubscriptionId,
} from '../../../src/azure/index.ts';

/** The subscription of a Simulated account without spec.azure, as the tests' accounts are: its ids lie in their scope. */
export const SUBSCRIPTION = simulatedSubscriptionId;

export interface Call {
  method: string;
  /** The resource's name: gallery, image, version or VM. */
  name: string;
  spec?: unknown;
}

const key = (id: string) => id.toLowerCase();

export class FakeGallery implements GalleryPort {
  readonly calls: Call[] = [];
  readonly resourceGroups = new Set<string>();
  readonly galleries = new Map<string, GalleryObservation>();
  readonly images = new Map<string, ImageObservation>();
  readonly versions = new Map<string, ImageVersionObservation>();
  readonly vms = new Map<string, VirtualMachineObservation>();
  /** Retry-After of every operation a mutation starts. */
  retryAfterMs = 1000;
  /** What polling any operation answers. */
  pollAnswer: OperationStatus = { state: 'Succeeded' };
  readonly #failures = new Map<string, ArmError[]>();
  #operations = 0;

  /** The next call of `method` throws `error` (queued: one per call). */
  failNext(method: keyof GalleryPort, error: ArmError): this {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), error]);
    return this;
  }

  /** Mutations and polls, as `method name`. */
  mutations(): string[] {
    return this.calls.filter((c) => !c.method.startsWith('observe') && !c.method.startsWith('list') && !c.method.startsWith('find')).map((c) => `${c.method} ${c.name}`);
  }

  // Setting up what Azure has.

  putGallery(ref: GalleryRef, extra: Partial<GalleryObservation> = {}): GalleryObservation {
    const gallery = { id: this.galleryId(ref), name: ref.gallery, location: 'eastus', provisioningState: 'Succeeded', tags: {}, ...extra };
    this.galleries.set(key(gallery.id), gallery);
    return gallery;
  }

  putImage(ref: ImageRef, extra: Partial<ImageObservation> = {}): ImageObservation {
    const image: ImageObservation = {
      id: this.imageId(ref),
      name: ref.image,
      location: 'eastus',
      provisioningState: 'Succeeded',
      osType: 'Linux',
      osState: 'Specialized',
      hyperVGeneration: 'V2',
      identifier: { publisher: 'p', offer: 'o', sku: ref.image },
      tags: {},
      ...extra,
    };
    this.images.set(key(image.id), image);
    return image;
  }

  /** A version replicated (Completed) to `regions`, unless `extra` says otherwise. */
  putVersion(ref: ImageVersionRef, regions: string[], extra: Partial<ImageVersionObservation> = {}): ImageVersionObservation {
    const version: ImageVersionObservation = {
      id: this.imageVersionId(ref),
      name: ref.version,
      location: 'eastus',
      provisioningState: 'Succeeded',
      tags: extra.exportUid ? { [EXPORT_UID_TAG]: extra.exportUid } : {},
      source: {},
      dataDisks: 0,
      excludeFromLatest: false,
      targetRegions: regions.map((name) => ({ name, replicaCount: 1, storageAccountType: 'Standard_LRS', excludeFromLatest: false })),
      replication: { aggregatedState: 'Completed', regions: regions.map((region) => ({ region, state: 'Completed', progress: 100, details: '' })) },
      ...extra,
    };
    this.versions.set(key(version.id), version);
    return version;
  }

  putVm(ref: VirtualMachineRef, extra: Partial<VirtualMachineObservation> = {}): VirtualMachineObservation {
    const vm = { id: this.virtualMachineId(ref), name: ref.name, location: 'eastus', provisioningState: 'Succeeded', image: {}, tags: {}, ...extra };
    this.vms.set(key(vm.id), vm);
    return vm;
  }

  // The port.

  galleryId = (ref: GalleryRef) => galleryId(SUBSCRIPTION, ref);
  imageId = (ref: ImageRef) => imageId(SUBSCRIPTION, ref);
  imageVersionId = (ref: ImageVersionRef) => imageVersionId(SUBSCRIPTION, ref);
  virtualMachineId = (ref: VirtualMachineRef) => virtualMachineId(SUBSCRIPTION, ref);

  createResourceGroup = async (name: string, spec: { location: string }) => {
    this.#record('createResourceGroup', name, spec);
    this.resourceGroups.add(key(name));
  };

  observeGallery = (ref: GalleryRef) => this.#read('observeGallery', ref.gallery, () => this.galleries.get(key(this.galleryId(ref))));
  listGalleries = (resourceGroup?: string) =>
    this.#read('listGalleries', resourceGroup ?? '', () => [...this.galleries.values()].filter((g) => !resourceGroup || key(g.id).includes(`/resourcegroups/${key(resourceGroup)}/`)));
  createGallery = (ref: GalleryRef, spec: { location: string; tags?: Record<string, string> }) =>
    this.#mutate('createGallery', ref.gallery, spec, () => this.putGallery(ref, { location: spec.location, provisioningState: 'Creating', tags: spec.tags ?? {} }).id);
  deleteGallery = (ref: GalleryRef) => this.#delete('deleteGallery', ref.gallery, this.galleries, this.galleryId(ref));

  observeImage = (ref: ImageRef) => this.#read('observeImage', ref.image, () => this.images.get(key(this.imageId(ref))));
  listImages = (ref: GalleryRef) => this.#read('listImages', ref.gallery, () => [...this.images.values()].filter((i) => key(i.id).startsWith(`${key(this.galleryId(ref))}/`)));
  createImage = (ref: ImageRef, spec: Partial<ImageObservation> & { location: string }) =>
    this.#mutate('createImage', ref.image, spec, () => this.putImage(ref, { osType: spec.osType, osState: spec.osState, hyperVGeneration: spec.hyperVGeneration, ...(spec.tags ? { tags: spec.tags } : {}), provisioningState: 'Creating' }).id);
  deleteImage = (ref: ImageRef) => this.#delete('deleteImage', ref.image, this.images, this.imageId(ref));

  observeImageVersion = (ref: ImageVersionRef) => this.#read('observeImageVersion', ref.version, () => this.versions.get(key(this.imageVersionId(ref))));
  listImageVersions = (ref: ImageRef) =>
    this.#read('listImageVersions', ref.image, () => [...this.versions.values()].filter((v) => key(v.id).startsWith(`${key(this.imageId(ref))}/`)).map(({ replication: _, ...listed }) => listed));
  findImageVersionByExportUid = async (ref: ImageRef, exportUid: string) => (await this.listImageVersions(ref)).find((v) => v.exportUid === exportUid);
  createImageVersion = (ref: ImageVersionRef, spec: { targetRegions: { name: string }[]; exportUid?: string; source?: { virtualMachineId?: string; id?: string } }) =>
    this.#mutate('createImageVersion', ref.version, spec, () => {
      // As ARM: a PUT on an existing version is an update, and an update cannot change its source.
      const existing = this.versions.get(key(this.imageVersionId(ref)));
      if (existing && (existing.source.virtualMachineId !== spec.source?.virtualMachineId || existing.source.id !== spec.source?.id)) {
        throw new ArmError({ code: 'PropertyChangeNotAllowed', message: "Changing property 'galleryImageVersion.properties.storageProfile.source.virtualMachineId' is not allowed.", statusCode: 400, retryable: false });
      }
      const regions = spec.targetRegions.map((t) => t.name);
      const creating = { provisioningState: 'Creating', source: spec.source ?? {}, ...(spec.exportUid ? { exportUid: spec.exportUid } : {}) };
      return this.putVersion(ref, regions, { ...creating, replication: { aggregatedState: 'InProgress', regions: regions.map((region) => ({ region, state: 'Replicating', progress: 0, details: '' })) } }).id;
    });
  updateImageVersion = (ref: ImageVersionRef, publishing: { targetRegions: { name: string; replicaCount?: number; storageAccountType?: string }[] }) =>
    this.#mutate('updateImageVersion', ref.version, publishing, () => {
      const version = this.versions.get(key(this.imageVersionId(ref)));
      if (!version) throw new ArmError({ code: 'ResourceNotFound', message: 'no such version', statusCode: 404, retryable: false });
      const targetRegions = publishing.targetRegions.map((t) => ({ name: t.name, replicaCount: t.replicaCount ?? 1, storageAccountType: t.storageAccountType ?? 'Standard_LRS', excludeFromLatest: false }));
      this.versions.set(key(version.id), { ...version, provisioningState: 'Updating', targetRegions });
      return version.id;
    });
  deleteImageVersion = (ref: ImageVersionRef) => this.#delete('deleteImageVersion', ref.version, this.versions, this.imageVersionId(ref));

  observeVirtualMachine = (ref: VirtualMachineRef) => this.#read('observeVirtualMachine', ref.name, () => this.vms.get(key(this.virtualMachineId(ref))));
  listVirtualMachines = (resourceGroup?: string) =>
    this.#read('listVirtualMachines', resourceGroup ?? '', () => [...this.vms.values()].filter((vm) => !resourceGroup || key(vm.id).includes(`/resourcegroups/${key(resourceGroup)}/`)));
  createVirtualMachine = (ref: VirtualMachineRef, spec: { location: string; tags?: Record<string, string> }) =>
    this.#mutate('createVirtualMachine', ref.name, spec, () => this.putVm(ref, { location: spec.location, provisioningState: 'Creating', tags: spec.tags ?? {} }).id);
  deleteVirtualMachine = (ref: VirtualMachineRef) => this.#delete('deleteVirtualMachine', ref.name, this.vms, this.virtualMachineId(ref));

  poll = async (handle: OperationHandle): Promise<OperationStatus> => {
    this.#record('poll', handle.operation);
    return this.pollAnswer;
  };

  #record(method: string, name: string, spec?: unknown): void {
    this.calls.push({ method, name, ...(spec === undefined ? {} : { spec }) });
    const failure = this.#failures.get(method)?.shift();
    if (failure) throw failure;
  }

  async #read<T>(method: string, name: string, read: () => T): Promise<T> {
    this.#record(method, name);
    return structuredClone(read());
  }

  async #mutate(method: string, name: string, spec: unknown, apply: () => string): Promise<OperationHandle> {
    this.#record(method, name, spec);
    const resourceId = apply();
    const now = Date.now();
    return { operation: method, resourceId, pollUrl: `https://arm.invalid/operations/${++this.#operations}`, pollVia: 'Azure-AsyncOperation', startedAt: new Date(now).toISOString(), notBefore: new Date(now + this.retryAfterMs).toISOString() };
  }

  /** Deleting what is gone is done at once: ARM's 204, a handle with nothing to poll. */
  async #delete<T extends { provisioningState: string }>(method: string, name: string, resources: Map<string, T>, id: string): Promise<OperationHandle> {
    const resource = resources.get(key(id));
    if (!resource) {
      this.#record(method, name);
      const now = new Date().toISOString();
      return { operation: method, resourceId: id, startedAt: now, notBefore: now };
    }
    return await this.#mutate(method, name, undefined, () => {
      resources.set(key(id), { ...resource, provisioningState: 'Deleting' });
      return id;
    });
  }
}
