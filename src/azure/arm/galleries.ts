import type { ArmClient } from '../client.ts';
import { galleryId } from '../ids.ts';
import { observeGalleryModel } from '../observations.ts';
import { startOperation } from '../operations.ts';
import type { Galleries } from '../port.ts';
import { callOptions, collect, observe, optional, startDelete } from './calls.ts';

export function armGalleries(client: ArmClient, signal?: AbortSignal): Galleries {
  const { compute, subscriptionId } = client;
  const options = callOptions(signal);
  const id: Galleries['galleryId'] = (ref) => galleryId(subscriptionId, ref);
  return {
    galleryId: id,
    observeGallery: (ref) => observe(async () => observeGalleryModel(await compute.galleries.get(ref.resourceGroup, ref.gallery, options))),
    listGalleries: (resourceGroup) =>
      collect(resourceGroup ? compute.galleries.listByResourceGroup(resourceGroup, options) : compute.galleries.list(options), observeGalleryModel),
    createGallery: (ref, spec) =>
      startOperation(
        'galleries.createOrUpdate',
        id(ref),
        (lro) =>
          compute.galleries.createOrUpdate(ref.resourceGroup, ref.gallery, { location: spec.location, ...optional('description', spec.description), ...optional('tags', spec.tags) }, lro),
        signal,
      ),
    deleteGallery: (ref) => startDelete('galleries.delete', id(ref), (lro) => compute.galleries.delete(ref.resourceGroup, ref.gallery, lro), signal),
  };
}
