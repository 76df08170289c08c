import { normalizeRegion, regionDisplayName } from '../azure/regions.ts';
import { asObject, asTags, nameAt, resourceGroupOf, without, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import { CloudError, invalidParameter, propertyChangeNotAllowed, resourceNotFound } from './cloud-error.ts';
import type { GalleryHandlers } from './galleries.ts';
import { aggregateState, retarget, viewReplica } from './replication.ts';
import type { StoredImageVersion, StoredResource } from './state.ts';

const versionNamePattern = /^\d+\.\d+\.\d+$/;
const targetRegionsField = 'galleryImageVersion.properties.publishingProfile.targetRegions';

/** Azure's advice when replication fails, which the operator follows. */
export const replicationFailedMessage =
  'Gallery replication jobs failed in one or more regions. Remove the failed regions from targetRegions, then add them back to retry.';

/** Disks an image version takes from its source. */
interface SourceDisks {
  osDiskSizeGiB: number;
  dataDisks: { lun: number; sizeGiB: number }[];
  osType?: string;
}

/** A size for sources the emulator does not model (managed images, snapshots): accepted as given. */
const opaqueSourceDisks: SourceDisks = { osDiskSizeGiB: 30, dataDisks: [] };

export function parseGalleryImageVersionId(id: string): { resourceGroup: string; gallery: string; image: string; version?: string } | undefined {
  const match = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/galleries\/([^/]+)\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(id);
  const [, resourceGroup, gallery, image, version] = match ?? [];
  if (!resourceGroup || !gallery || !image) return undefined;
  return { resourceGroup, gallery, image, ...(version ? { version } : {}) };
}

/** Gallery image versions: sources, target regions, replication. */
export class ImageVersionHandlers {
  private readonly core: ArmCore;
  private readonly galleries: GalleryHandlers;

  constructor(core: ArmCore, galleries: GalleryHandlers) {
    this.core = core;
    this.galleries = galleries;
  }

  /** The version with its replicas brought up to `now`. */
  settled(key: string, now: number): StoredImageVersion | undefined {
    const version = this.core.live(this.core.state.versions, key, now);
    if (version) version.replicas = this.core.advance(version.replicas, now);
    return version;
  }

  versionKey(subscriptionId: string, resourceGroup: string, gallery: string, image: string, version: string): string {
    return `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/galleries/${gallery}/images/${image}/versions/${version}`.toLowerCase();
  }

  body(version: StoredImageVersion, request: ArmRequest, expandReplication: boolean): Json {
    const [galleryName, imageName] = [nameAt(request, 0), nameAt(request, 1)];
    const views = version.replicas.map((replica) => viewReplica(replica, request.now, this.core.timing.replication));
    const failed = views.some((view) => view.state === 'Failed');
    return {
      id: `/subscriptions/${request.path.subscriptionId}/resourceGroups/${version.resourceGroup}/providers/Microsoft.Compute/galleries/${galleryName}/images/${imageName}/versions/${version.name}`,
      name: version.name,
      type: 'Microsoft.Compute/galleries/images/versions',
      location: version.location,
      tags: version.tags,
      properties: {
        ...version.properties,
        publishingProfile: { ...asObject(version.properties.publishingProfile), publishedDate: new Date(version.publishedAt).toISOString() },
        storageProfile: {
          ...asObject(version.properties.storageProfile),
          osDiskImage: { sizeInGB: version.osDiskSizeGiB, hostCaching: 'ReadWrite' },
          dataDiskImages: version.dataDisks.map((disk) => ({ lun: disk.lun, sizeInGB: disk.sizeGiB, hostCaching: 'None' })),
        },
        safetyProfile: { ...asObject(version.properties.safetyProfile), reportedForPolicyViolation: false, policyViolations: [] },
        provisioningState: version.operation ? this.core.provisioningState(version) : failed ? 'Failed' : 'Succeeded',
        ...(expandReplication
          ? {
              replicationStatus: {
                aggregatedState: aggregateState(views),
                summary: views.map((view) => ({
                  region: regionDisplayName(view.region),
                  state: view.state,
                  details: view.state === 'Failed' ? `${replicationFailedMessage} Region: ${regionDisplayName(view.region)}.` : '',
                  progress: view.progress,
                })),
              },
            }
          : {}),
      },
    };
  }

  list(request: ArmRequest): ArmAnswer {
    this.galleries.parentImage(request);
    const prefix = `${this.core.key(request.path, 2)}/versions/`;
    const versions = this.core.liveUnder(this.core.state.versions, prefix, request.now, 1);
    return this.core.page(
      request,
      versions.map((version) => this.body({ ...version, replicas: this.core.advance(version.replicas, request.now) }, request, false)),
    );
  }

  get(request: ArmRequest): ArmAnswer {
    this.galleries.parentImage(request);
    const version = this.settled(this.core.key(request.path), request.now);
    if (!version) throw this.notFound(request);
    const expand = (request.query.get('$expand') ?? '').toLowerCase() === 'replicationstatus';
    return { status: 200, body: this.body(version, request, expand) };
  }

  async put(request: ArmRequest): Promise<ArmAnswer> {
    const image = this.galleries.parentImage(request);
    const name = nameAt(request, 2);
    if (!versionNamePattern.test(name)) {
      throw invalidParameter(`The gallery image version name '${name}' is invalid. It must be in the format 'Major.Minor.Patch'.`, 'galleryImageVersionName');
    }
    const body = asObject(request.body);
    const location = this.core.location(body, 'Microsoft.Compute/galleries/images/versions', request.path.subscriptionId);
    const properties = asObject(body.properties);
    const source = asObject(asObject(properties.storageProfile).source);
    if (typeof source.virtualMachineId !== 'string' && typeof source.id !== 'string') {
      throw invalidParameter("Required parameter 'storageProfile.source' is missing (null).", 'galleryImageVersion.properties.storageProfile.source');
    }
    const publishingProfile = normalizePublishingProfile(asObject(properties.publishingProfile), location, this.regionCheck(request));
    const key = this.core.key(request.path);
    const existing = this.settled(key, request.now);
    if (existing) {
      const stored = asObject(asObject(existing.properties.storageProfile).source);
      for (const field of ['virtualMachineId', 'id']) {
        if ((stored[field] ?? null) !== (source[field] ?? null)) throw propertyChangeNotAllowed(`galleryImageVersion.properties.storageProfile.source.${field}`);
      }
      this.core.assertIdle(existing, `gallery image version '${name}'`);
      existing.tags = asTags(body.tags);
      existing.properties = { ...existing.properties, publishingProfile, ...(properties.safetyProfile ? { safetyProfile: safetyProfile(properties) } : {}) };
      this.retarget(existing, publishingProfile, request.now);
      const headers = this.core.begin(request, key, existing, 'update');
      return this.core.commit({ status: 200, headers, body: this.body(existing, request, false) });
    }
    const disks = this.sourceDisks(request, source);
    if (disks.osType && disks.osType !== image.properties.osType) {
      throw invalidParameter(
        `The OS type '${disks.osType}' of the source does not match the OS type '${String(image.properties.osType)}' of the gallery image.`,
        'galleryImageVersion.properties.storageProfile.source',
      );
    }
    const version: StoredImageVersion = {
      id: key,
      name,
      resourceGroup: resourceGroupOf(request),
      location,
      tags: asTags(body.tags),
      properties: {
        publishingProfile,
        storageProfile: { source },
        safetyProfile: safetyProfile(properties),
      },
      publishedAt: request.now,
      osDiskSizeGiB: disks.osDiskSizeGiB,
      dataDisks: disks.dataDisks,
      replicas: [],
    };
    this.core.state.versions[key] = version;
    const headers = this.core.begin(request, key, version, 'create');
    // Replication starts once the source has been captured, when the create operation ends.
    this.retarget(version, publishingProfile, version.operation?.endsAt ?? request.now);
    return this.core.commit({ status: 201, headers, body: this.body(version, request, false) });
  }

  async patch(request: ArmRequest): Promise<ArmAnswer> {
    this.galleries.parentImage(request);
    const key = this.core.key(request.path);
    const version = this.settled(key, request.now);
    if (!version) throw this.notFound(request);
    this.core.assertIdle(version, `gallery image version '${version.name}'`);
    const body = asObject(request.body);
    const properties = asObject(body.properties);
    const source = asObject(asObject(properties.storageProfile).source);
    const stored = asObject(asObject(version.properties.storageProfile).source);
    for (const field of ['virtualMachineId', 'id']) {
      if (source[field] !== undefined && source[field] !== stored[field]) throw propertyChangeNotAllowed(`galleryImageVersion.properties.storageProfile.source.${field}`);
    }
    if (body.tags !== undefined) version.tags = asTags(body.tags);
    if (properties.publishingProfile !== undefined) {
      const publishingProfile = normalizePublishingProfile(
        { ...asObject(version.properties.publishingProfile), ...asObject(properties.publishingProfile) },
        version.location,
        this.regionCheck(request),
      );
      version.properties = { ...version.properties, publishingProfile };
      this.retarget(version, publishingProfile, request.now);
    }
    const headers = this.core.begin(request, key, version, 'update');
    return this.core.commit({ status: 200, headers, body: this.body(version, request, false) });
  }

  async delete(request: ArmRequest): Promise<ArmAnswer> {
    this.galleries.parentImage(request);
    const key = this.core.key(request.path);
    const version = this.settled(key, request.now);
    if (!version) return { status: 204 };
    this.core.assertIdle(version, `gallery image version '${version.name}'`);
    const headers = this.core.begin(request, key, version, 'delete');
    return this.core.commit({ status: 202, headers });
  }

  /** Whether `versionId` (or, for an image id, its latest version) has a completed replica in `region`. */
  resolveForVirtualMachine(subscriptionId: string, imageId: string, region: string, now: number): { version: StoredImageVersion; image: StoredResource } | undefined {
    const parsed = parseGalleryImageVersionId(imageId);
    if (!parsed) return undefined;
    const imageKey = `/subscriptions/${subscriptionId}/resourcegroups/${parsed.resourceGroup}/galleries/${parsed.gallery}/images/${parsed.image}`.toLowerCase();
    const image = this.core.live(this.core.state.images, imageKey, now);
    if (!image) return undefined;
    const replicatedHere = (version: StoredImageVersion) =>
      version.operation?.kind !== 'delete' &&
      version.replicas.some((replica) => replica.region === normalizeRegion(region) && replica.outcome === 'Completed');
    if (parsed.version) {
      const version = this.settled(`${imageKey}/versions/${parsed.version}`.toLowerCase(), now);
      return version && replicatedHere(version) ? { version, image } : undefined;
    }
    const candidates = this.core
      .liveUnder(this.core.state.versions, `${imageKey}/versions/`, now, 1)
      .map((version) => ({ ...version, replicas: this.core.advance(version.replicas, now) }))
      .filter((version) => asObject(version.properties.publishingProfile).excludeFromLatest !== true && replicatedHere(version))
      .sort((a, b) => compareVersions(b.name, a.name));
    return candidates[0] ? { version: candidates[0], image } : undefined;
  }

  /** Target regions are refused as a resource's location is: unknown, or not enabled for the subscription. */
  private regionCheck(request: ArmRequest): (region: string, target: string) => void {
    return (region, target) => this.core.assertRegion(region, request.path.subscriptionId, 'Microsoft.Compute/galleries/images/versions', target);
  }

  private retarget(version: StoredImageVersion, publishingProfile: Json, queuedAt: number): void {
    const regions = (publishingProfile.targetRegions as Json[]).map((region) => normalizeRegion(String(region.name)));
    version.replicas = retarget(version.replicas, regions, queuedAt, (region) => this.core.doom(region));
  }

  private sourceDisks(request: ArmRequest, source: Json): SourceDisks {
    if (typeof source.virtualMachineId === 'string') {
      const [, subscription, resourceGroup, name] =
        /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(source.virtualMachineId) ?? [];
      const key = `/subscriptions/${subscription}/resourcegroups/${resourceGroup}/virtualmachines/${name}`.toLowerCase();
      const vm = subscription && resourceGroup && name ? this.core.live(this.core.state.virtualMachines, key, request.now) : undefined;
      if (!vm || vm.operation) {
        throw new CloudError(404, 'NotFound', `The source virtual machine '${source.virtualMachineId}' was not found or is not ready.`, {
          target: 'galleryImageVersion.properties.storageProfile.source.virtualMachineId',
        });
      }
      return { osDiskSizeGiB: vm.osDiskSizeGiB, dataDisks: vm.dataDisks, osType: vm.osType };
    }
    const id = String(source.id);
    const parsed = parseGalleryImageVersionId(id);
    if (parsed?.version) {
      const key = this.versionKey(request.path.subscriptionId, parsed.resourceGroup, parsed.gallery, parsed.image, parsed.version);
      const version = this.settled(key, request.now);
      if (!version) throw new CloudError(404, 'NotFound', `The source gallery image version '${id}' was not found.`, { target: 'galleryImageVersion.properties.storageProfile.source.id' });
      return { osDiskSizeGiB: version.osDiskSizeGiB, dataDisks: version.dataDisks };
    }
    return opaqueSourceDisks;
  }

  private notFound(request: ArmRequest): CloudError {
    return resourceNotFound(
      `Microsoft.Compute/galleries/${request.path.names[0]}/images/${request.path.names[1]}/versions`,
      nameAt(request, 2),
      resourceGroupOf(request),
    );
  }
}

function safetyProfile(properties: Json): Json {
  const given = asObject(properties.safetyProfile);
  return {
    allowDeletionOfReplicatedLocations: given.allowDeletionOfReplicatedLocations ?? false,
    blockDeletionBeforeEndOfLife: given.blockDeletionBeforeEndOfLife ?? false,
  };
}

/** Fills ARM's defaults, answers with display names, refuses duplicates and regions `checkRegion` refuses. */
export function normalizePublishingProfile(given: Json, location: string, checkRegion: (region: string, target: string) => void): Json {
  const replicaCount = typeof given.replicaCount === 'number' ? given.replicaCount : 1;
  const storageAccountType = typeof given.storageAccountType === 'string' ? given.storageAccountType : 'Standard_LRS';
  const excludeFromLatest = given.excludeFromLatest === true;
  const requested = Array.isArray(given.targetRegions) && given.targetRegions.length > 0 ? (given.targetRegions as unknown[]) : [{ name: location }];
  const seen = new Set<string>();
  const targetRegions = requested.map((entry, index) => {
    const region = asObject(entry);
    if (typeof region.name !== 'string' || region.name === '') {
      throw invalidParameter(`The region '${String(region.name)}' in target regions is not a valid region.`, `${targetRegionsField}[${index}].name`);
    }
    checkRegion(region.name, `${targetRegionsField}[${index}].name`);
    const normalized = normalizeRegion(region.name);
    if (seen.has(normalized)) throw invalidParameter('Duplicate regions are not allowed in target publishing regions.', targetRegionsField);
    seen.add(normalized);
    return {
      name: regionDisplayName(normalized),
      regionalReplicaCount: typeof region.regionalReplicaCount === 'number' ? region.regionalReplicaCount : replicaCount,
      storageAccountType: typeof region.storageAccountType === 'string' ? region.storageAccountType : storageAccountType,
      ...(region.encryption === undefined ? {} : { encryption: region.encryption }),
      excludeFromLatest: typeof region.excludeFromLatest === 'boolean' ? region.excludeFromLatest : excludeFromLatest,
    };
  });
  return { ...without(given, ['publishedDate']), targetRegions, replicaCount, storageAccountType, excludeFromLatest };
}

/** Orders `x.y.z` numerically. */
export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let index = 0; index < 3; index += 1) {
    const difference = (pa[index] ?? 0) - (pb[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
