import type { GalleryImageVersion } from '@azure/arm-compute';
import type { ArmClient } from '../client.ts';
import { classifyArmError, isNotFound } from '../errors.ts';
import { imageVersionId } from '../ids.ts';
import { observeImageVersionModel, type TargetRegionSpec } from '../observations.ts';
import { startOperation } from '../operations.ts';
import type { ImageVersions } from '../port.ts';
import { EXPORT_UID_TAG } from '../tags.ts';
import { callOptions, collect, observe, optional, startDelete } from './calls.ts';

function targetRegion(region: TargetRegionSpec) {
  return {
    name: region.name,
    ...optional('regionalReplicaCount', region.replicaCount),
    ...optional('storageAccountType', region.storageAccountType),
    ...optional('excludeFromLatest', region.excludeFromLatest),
  };
}

export function armImageVersions(client: ArmClient, signal?: AbortSignal): ImageVersions {
  const { compute, subscriptionId } = client;
  const options = callOptions(signal);
  const versions = compute.galleryImageVersions;
  const id: ImageVersions['imageVersionId'] = (ref) => imageVersionId(subscriptionId, ref);
  const list: ImageVersions['listImageVersions'] = async (ref) => {
    try {
      return await collect(versions.listByGalleryImage(ref.resourceGroup, ref.gallery, ref.image, options), observeImageVersionModel);
    } catch (error) {
      const armError = classifyArmError(error);
      if (isNotFound(armError)) return [];
      throw armError;
    }
  };
  return {
    imageVersionId: id,
    observeImageVersion: (ref) =>
      observe(async () => observeImageVersionModel(await versions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version, { ...options, expand: 'ReplicationStatus' }))),
    listImageVersions: list,
    findImageVersionByExportUid: async (ref, exportUid) => (await list(ref)).find((version) => version.exportUid === exportUid),
    createImageVersion: (ref, spec) => {
      const body: GalleryImageVersion = {
        location: spec.location,
        tags: { ...spec.tags, ...(spec.exportUid === undefined ? {} : { [EXPORT_UID_TAG]: spec.exportUid }) },
        publishingProfile: {
          targetRegions: spec.targetRegions.map(targetRegion),
          ...optional('excludeFromLatest', spec.excludeFromLatest),
          ...optional('endOfLifeDate', spec.endOfLifeDate),
        },
        storageProfile: { source: spec.source },
      };
      return startOperation('galleryImageVersions.createOrUpdate', id(ref), (lro) => versions.createOrUpdate(ref.resourceGroup, ref.gallery, ref.image, ref.version, body, lro), signal);
    },
    updateImageVersion: (ref, { targetRegions, excludeFromLatest, endOfLifeDate }) => {
      const body = { publishingProfile: { targetRegions: targetRegions.map(targetRegion), ...optional('excludeFromLatest', excludeFromLatest), ...optional('endOfLifeDate', endOfLifeDate) } };
      return startOperation('galleryImageVersions.update', id(ref), (lro) => versions.update(ref.resourceGroup, ref.gallery, ref.image, ref.version, body, lro), signal);
    },
    deleteImageVersion: (ref) =>
      startDelete('galleryImageVersions.delete', id(ref), (lro) => versions.delete(ref.resourceGroup, ref.gallery, ref.image, ref.version, lro), signal),
  };
}
