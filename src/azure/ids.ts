// ARM resource ids of what the operator makes, built and parsed in one place; and ARM scopes (a
// subscription, a resource group) and whether an id lies in one.
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

/** `subscriptionId` is the port's own, for a ref that names none. */
export function virtualMachineId(subscriptionId: string, ref: VirtualMachineRef): string {
  return `${resourceGroupId(ref.subscriptionId ?? subscriptionId, ref.resourceGroup)}/${PROVIDER}/virtualMachines/${ref.name}`;
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

/** A virtual machine's id → {subscriptionId, resourceGroup, name}, the id's subscription kept; undefined for anything else. */
export function parseVirtualMachineId(id: string | undefined): Required<VirtualMachineRef> | undefined {
  const [, subscriptionId, resourceGroup, name] = VIRTUAL_MACHINE_ID.exec(id ?? '') ?? [];
  return subscriptionId && resourceGroup && name ? { subscriptionId, resourceGroup, name } : undefined;
}

/** Where an ARM id lies: its subscription and, below one, its resource group. */
export interface ArmLocation {
  subscriptionId: string;
  resourceGroup?: string;
}

/**
 * An ARM id's subscription and resource group, or why it is no ARM id the operator will use: ARM
 * ids are absolute, with no empty, `.` or `..` segment (which a URL would resolve to another path
 * than the one checked).
 */
export function locateArmId(id: string): ArmLocation | { problem: string } {
  const segments = id.split('/');
  if (segments[0] !== '' || segments.length < 3) return { problem: 'is not an ARM id (/subscriptions/...)' };
  if (segments.slice(1).some((segment) => segment === '' || segment === '.' || segment === '..')) return { problem: 'has an empty, "." or ".." segment' };
  const [, subscriptions, subscriptionId = '', groups, resourceGroup] = segments;
  if (subscriptions?.toLowerCase() !== 'subscriptions') return { problem: 'is not an ARM id (/subscriptions/...)' };
  return groups?.toLowerCase() === 'resourcegroups' && resourceGroup ? { subscriptionId, resourceGroup } : { subscriptionId };
}

/** An ARM scope: `/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`. */
export function scopeId(location: ArmLocation): string {
  return location.resourceGroup === undefined ? `/subscriptions/${location.subscriptionId}` : resourceGroupId(location.subscriptionId, location.resourceGroup);
}

/** Whether `location` lies in `scope` (ARM compares ids without regard to case). */
export function isWithinScope(location: ArmLocation, scope: ArmLocation): boolean {
  if (location.subscriptionId.toLowerCase() !== scope.subscriptionId.toLowerCase()) return false;
  return scope.resourceGroup === undefined || scope.resourceGroup.toLowerCase() === location.resourceGroup?.toLowerCase();
}
