import type { ArmClient } from '../client.ts';
import { imageId } from '../ids.ts';
import { observeImageModel } from '../observations.ts';
import { startOperation } from '../operations.ts';
import type { GalleryImages } from '../port.ts';
import { callOptions, collect, observe, optional, startDelete } from './calls.ts';

export function armGalleryImages(client: ArmClient, signal?: AbortSignal): GalleryImages {
  const { compute, subscriptionId } = client;
  const options = callOptions(signal);
  const id: GalleryImages['imageId'] = (ref) => imageId(subscriptionId, ref);
  return {
    imageId: id,
    observeImage: (ref) => observe(async () => observeImageModel(await compute.galleryImages.get(ref.resourceGroup, ref.gallery, ref.image, options))),
    listImages: (ref) => collect(compute.galleryImages.listByGallery(ref.resourceGroup, ref.gallery, options), observeImageModel),
    createImage: (ref, spec) => {
      const body = {
        location: spec.location,
        osType: spec.osType,
        osState: spec.osState,
        hyperVGeneration: spec.hyperVGeneration ?? 'V2',
        identifier: spec.identifier,
        ...optional('description', spec.description),
        ...optional('tags', spec.tags),
      };
      return startOperation('galleryImages.createOrUpdate', id(ref), (lro) => compute.galleryImages.createOrUpdate(ref.resourceGroup, ref.gallery, ref.image, body, lro), signal);
    },
    deleteImage: (ref) => startDelete('galleryImages.delete', id(ref), (lro) => compute.galleryImages.delete(ref.resourceGroup, ref.gallery, ref.image, lro), signal),
  };
}
