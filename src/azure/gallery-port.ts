// The gallery port served through @azure/arm-compute: one view per caller, every SDK call of a
// view carrying its AbortSignal, so cancelling a reconcile cancels its ARM requests in flight.
import { armGalleries } from './arm/galleries.ts';
import { armGalleryImages } from './arm/images.ts';
import { armImageVersions } from './arm/image-versions.ts';
import { armResourceGroups } from './arm/resource-groups.ts';
import { armVirtualMachines } from './arm/virtual-machines.ts';
import { createArmClient, type ArmClient, type ArmClientConfig } from './client.ts';
import { pollOperation } from './operations.ts';
import type { GalleryPort } from './port.ts';

/** The port over an ARM client (which holds the connections and credential), its calls cancelled by `signal`. */
export function armGalleryPort(client: ArmClient, signal?: AbortSignal): GalleryPort {
  return {
    ...armResourceGroups(client, signal),
    ...armGalleries(client, signal),
    ...armGalleryImages(client, signal),
    ...armImageVersions(client, signal),
    ...armVirtualMachines(client, signal),
    poll: (handle, now = Date.now()) => pollOperation(client, handle, now, signal),
  };
}

/** A client and a port over it, for callers that need no cancellation (tools, tests). */
export function createGalleryPort(config: ArmClientConfig): GalleryPort {
  return armGalleryPort(createArmClient(config));
}
