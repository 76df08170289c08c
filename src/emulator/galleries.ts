import { asObject, asTags, nameAt, resourceGroupOf, without, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import { CloudError, invalidParameter, parentNotFound, propertyChangeNotAllowed, resourceNotFound } from './cloud-error.ts';
import type { StoredResource } from './state.ts';

const galleryNamePattern = /^[A-Za-z0-9]([A-Za-z0-9._]{0,78}[A-Za-z0-9])?$/;
const imageNamePattern = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$/;

export function galleryId(resource: StoredResource, subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resource.resourceGroup}/providers/Microsoft.Compute/galleries/${resource.name}`;
}

function subscriptionOf(request: ArmRequest): string {
  return request.path.subscriptionId;
}

/** Galleries and image definitions. */
export class GalleryHandlers {
  private readonly core: ArmCore;

  constructor(core: ArmCore) {
    this.core = core;
  }

  galleryBody(gallery: StoredResource, subscriptionId: string): Json {
    return {
      id: galleryId(gallery, subscriptionId),
      name: gallery.name,
      type: 'Microsoft.Compute/galleries',
      location: gallery.location,
      tags: gallery.tags,
      properties: {
        ...gallery.properties,
        identifier: { uniqueName: `${subscriptionId}-${gallery.name.toUpperCase()}` },
        provisioningState: this.core.provisioningState(gallery),
      },
    };
  }

  imageBody(image: StoredResource, galleryName: string, subscriptionId: string): Json {
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${image.resourceGroup}/providers/Microsoft.Compute/galleries/${galleryName}/images/${image.name}`,
      name: image.name,
      type: 'Microsoft.Compute/galleries/images',
      location: image.location,
      tags: image.tags,
      properties: { ...image.properties, provisioningState: this.core.provisioningState(image) },
    };
  }

  /** The gallery a nested request names, if it exists; 404 ParentResourceNotFound otherwise. */
  parentGallery(request: ArmRequest): StoredResource {
    const gallery = this.core.live(this.core.state.galleries, this.core.key(request.path, 1), request.now);
    if (!gallery || gallery.operation?.kind === 'delete') throw parentNotFound(`galleries/${request.path.names[0]}`);
    return gallery;
  }

  parentImage(request: ArmRequest): StoredResource {
    this.parentGallery(request);
    const image = this.core.live(this.core.state.images, this.core.key(request.path, 2), request.now);
    if (!image || image.operation?.kind === 'delete') throw parentNotFound(`galleries/${request.path.names[0]}/images/${request.path.names[1]}`);
    return image;
  }

  listGalleries(request: ArmRequest): ArmAnswer {
    const subscriptionId = subscriptionOf(request);
    const prefix = request.path.resourceGroup === undefined ? `/subscriptions/${subscriptionId}/resourcegroups/`.toLowerCase() : `${this.core.key(request.path, 0)}`;
    const depth = request.path.resourceGroup === undefined ? 3 : 2;
    const galleries = this.core.liveUnder(this.core.state.galleries, prefix, request.now, depth);
    return this.core.page(
      request,
      galleries.map((gallery) => this.galleryBody(gallery, subscriptionId)),
    );
  }

  getGallery(request: ArmRequest): ArmAnswer {
    const gallery = this.core.live(this.core.state.galleries, this.core.key(request.path), request.now);
    if (!gallery) throw resourceNotFound('Microsoft.Compute/galleries', nameAt(request, 0), resourceGroupOf(request));
    return { status: 200, body: this.galleryBody(gallery, subscriptionOf(request)) };
  }

  async putGallery(request: ArmRequest): Promise<ArmAnswer> {
    const name = nameAt(request, 0);
    if (!galleryNamePattern.test(name)) throw invalidParameter(`The gallery name '${name}' is not valid.`, 'galleryName');
    const body = asObject(request.body);
    const location = this.core.location(body, 'Microsoft.Compute/galleries', subscriptionOf(request));
    const key = this.core.key(request.path);
    const properties = without(asObject(body.properties), ['provisioningState', 'identifier', 'sharingStatus']);
    const existing = this.core.live(this.core.state.galleries, key, request.now);
    if (existing) {
      this.core.assertIdle(existing, `gallery '${name}'`);
      existing.properties = properties;
      existing.tags = asTags(body.tags);
      const headers = this.core.begin(request, key, existing, 'update');
      return this.core.commit({ status: 200, headers, body: this.galleryBody(existing, subscriptionOf(request)) });
    }
    const gallery: StoredResource = { id: key, name, resourceGroup: resourceGroupOf(request), location, tags: asTags(body.tags), properties };
    this.core.state.galleries[key] = gallery;
    const headers = this.core.begin(request, key, gallery, 'create');
    return this.core.commit({ status: 201, headers, body: this.galleryBody(gallery, subscriptionOf(request)) });
  }

  async patchGallery(request: ArmRequest): Promise<ArmAnswer> {
    const key = this.core.key(request.path);
    const gallery = this.core.live(this.core.state.galleries, key, request.now);
    if (!gallery) throw resourceNotFound('Microsoft.Compute/galleries', nameAt(request, 0), resourceGroupOf(request));
    this.core.assertIdle(gallery, `gallery '${gallery.name}'`);
    const body = asObject(request.body);
    gallery.properties = { ...gallery.properties, ...without(asObject(body.properties), ['provisioningState', 'identifier', 'sharingStatus']) };
    if (body.tags !== undefined) gallery.tags = asTags(body.tags);
    const headers = this.core.begin(request, key, gallery, 'update');
    return this.core.commit({ status: 200, headers, body: this.galleryBody(gallery, subscriptionOf(request)) });
  }

  async deleteGallery(request: ArmRequest): Promise<ArmAnswer> {
    const key = this.core.key(request.path);
    const gallery = this.core.live(this.core.state.galleries, key, request.now);
    if (!gallery) return { status: 204 };
    if (this.core.liveUnder(this.core.state.images, `${key}/images/`, request.now, 1).length > 0) {
      throw new CloudError(409, 'CannotDeleteResource', 'Can not delete resource before nested resources are deleted.');
    }
    this.core.assertIdle(gallery, `gallery '${gallery.name}'`);
    const headers = this.core.begin(request, key, gallery, 'delete');
    return this.core.commit({ status: 202, headers });
  }

  listImages(request: ArmRequest): ArmAnswer {
    const gallery = this.parentGallery(request);
    const images = this.core.liveUnder(this.core.state.images, `${this.core.key(request.path, 1)}/images/`, request.now, 1);
    return this.core.page(
      request,
      images.map((image) => this.imageBody(image, gallery.name, subscriptionOf(request))),
    );
  }

  getImage(request: ArmRequest): ArmAnswer {
    const gallery = this.parentGallery(request);
    const image = this.core.live(this.core.state.images, this.core.key(request.path), request.now);
    if (!image) throw resourceNotFound(`Microsoft.Compute/galleries/${gallery.name}/images`, nameAt(request, 1), resourceGroupOf(request));
    return { status: 200, body: this.imageBody(image, gallery.name, subscriptionOf(request)) };
  }

  async putImage(request: ArmRequest): Promise<ArmAnswer> {
    const gallery = this.parentGallery(request);
    const name = nameAt(request, 1);
    if (!imageNamePattern.test(name)) throw invalidParameter(`The gallery image name '${name}' is not valid.`, 'galleryImageName');
    const body = asObject(request.body);
    const location = this.core.location(body, 'Microsoft.Compute/galleries/images', subscriptionOf(request));
    const properties = without(asObject(body.properties), ['provisioningState']);
    validateImageProperties(properties);
    const key = this.core.key(request.path);
    const existing = this.core.live(this.core.state.images, key, request.now);
    if (existing) {
      for (const field of ['osType', 'osState', 'hyperVGeneration', 'identifier']) {
        if (JSON.stringify(existing.properties[field]) !== JSON.stringify(properties[field] ?? existing.properties[field])) {
          throw propertyChangeNotAllowed(`galleryImage.properties.${field}`);
        }
      }
      this.core.assertIdle(existing, `gallery image '${name}'`);
      existing.properties = { ...existing.properties, ...properties };
      existing.tags = asTags(body.tags);
      const headers = this.core.begin(request, key, existing, 'update');
      return this.core.commit({ status: 200, headers, body: this.imageBody(existing, gallery.name, subscriptionOf(request)) });
    }
    const image: StoredResource = {
      id: key,
      name,
      resourceGroup: resourceGroupOf(request),
      location,
      tags: asTags(body.tags),
      properties: { hyperVGeneration: 'V1', ...properties },
    };
    this.core.state.images[key] = image;
    const headers = this.core.begin(request, key, image, 'create');
    return this.core.commit({ status: 201, headers, body: this.imageBody(image, gallery.name, subscriptionOf(request)) });
  }

  async deleteImage(request: ArmRequest): Promise<ArmAnswer> {
    this.parentGallery(request);
    const key = this.core.key(request.path);
    const image = this.core.live(this.core.state.images, key, request.now);
    if (!image) return { status: 204 };
    if (this.core.liveUnder(this.core.state.versions, `${key}/versions/`, request.now, 1).length > 0) {
      throw new CloudError(409, 'CannotDeleteResource', 'Can not delete resource before nested resources are deleted.');
    }
    this.core.assertIdle(image, `gallery image '${image.name}'`);
    const headers = this.core.begin(request, key, image, 'delete');
    return this.core.commit({ status: 202, headers });
  }
}

function validateImageProperties(properties: Json): void {
  if (properties.osType !== 'Windows' && properties.osType !== 'Linux') {
    throw invalidParameter("Required parameter 'osType' is missing or not one of 'Windows', 'Linux'.", 'galleryImage.properties.osType');
  }
  if (properties.osState !== 'Generalized' && properties.osState !== 'Specialized') {
    throw invalidParameter("Required parameter 'osState' is missing or not one of 'Generalized', 'Specialized'.", 'galleryImage.properties.osState');
  }
  if (properties.hyperVGeneration !== undefined && properties.hyperVGeneration !== 'V1' && properties.hyperVGeneration !== 'V2') {
    throw invalidParameter("'hyperVGeneration' must be 'V1' or 'V2'.", 'galleryImage.properties.hyperVGeneration');
  }
  const identifier = asObject(properties.identifier);
  for (const field of ['publisher', 'offer', 'sku']) {
    if (typeof identifier[field] !== 'string' || identifier[field] === '') {
      throw invalidParameter(`Required parameter 'identifier.${field}' is missing (null).`, `galleryImage.properties.identifier.${field}`);
    }
  }
}
