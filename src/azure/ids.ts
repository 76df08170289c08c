// ARM resource ids of what the operator makes, built and parsed in one place.
import type { GalleryRef, ImageRef, ImageVersionRef, VirtualMachineRef } from './port.ts';

const PROVIDER = 'providers/Microsoft.Compute';

function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function galleryId(subscriptionId: string, ref: GalleryRef): string {
  return `${resourceGroupId(subscriptionId, ref.resourceGroup)}/${PROVIDER}/galleries/${ref.gallery}`;
}

export function imageId(subscriptionId: string, ref: ImageRef): string {
  return `${galleryId(subscriptionId, ref)}/images/${ref.image}`;
}

export function imageVersionId(subscriptionId: string, ref: ImageVersionRef): string {
  return `${imageId(subscriptionId, ref)}/versions/${ref.version}`;
}

export function virtualMachineId(subscriptionId: string, ref: VirtualMachineRef): string {
  return `${resourceGroupId(subscriptionId, ref.resourceGroup)}/${PROVIDER}/virtualMachines/${ref.name}`;
}

// ARM compares ids without regard to case.
const GALLERY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/galleries\/([^/]+)$/i;
const IMAGE_VERSION_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/galleries\/([^/]+)\/images\/([^/]+)\/versions\/([^/]+)$/i;
const VIRTUAL_MACHINE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;

/** `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g` → {resourceGroup, gallery}; undefined for anything else. */
export function parseGalleryId(id: string | undefined): GalleryRef | undefined {
  const [, , resourceGroup, gallery] = GALLERY_ID.exec(id ?? '') ?? [];
  return resourceGroup && gallery ? { resourceGroup, gallery } : undefined;
}

/** An image version's id → its subscription and where it is in it; undefined for anything else. */
export function parseImageVersionId(id: string | undefined): (ImageVersionRef & { subscriptionId: string }) | undefined {
  const [, subscriptionId, resourceGroup, gallery, image, version] = IMAGE_VERSION_ID.exec(id ?? '') ?? [];
  return subscriptionId && resourceGroup && gallery && image && version ? { subscriptionId, resourceGroup, gallery, image, version } : undefined;
}

/** A virtual machine's id → {resourceGroup, name}; undefined for anything else. */
export function parseVirtualMachineId(id: string | undefined): VirtualMachineRef | undefined {
  const [, , resourceGroup, name] = VIRTUAL_MACHINE_ID.exec(id ?? '') ?? [];
  return resourceGroup && name ? { resourceGroup, name } : undefined;
}
