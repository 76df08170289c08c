import { randomUUID } from 'node:crypto';
import { asObject, asTags, nameAt, resourceGroupOf, without, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import { findMarketplaceImage } from './catalogue.ts';
import { CloudError, invalidParameter, resourceNotFound } from './cloud-error.ts';
import type { ImageVersionHandlers } from './image-versions.ts';
import type { StoredVirtualMachine } from './state.ts';

/** Virtual machines: enough to be a lab's template VM and an image version's source. */
export class VirtualMachineHandlers {
  private readonly core: ArmCore;
  private readonly versions: ImageVersionHandlers;

  constructor(core: ArmCore, versions: ImageVersionHandlers) {
    this.core = core;
    this.versions = versions;
  }

  body(vm: StoredVirtualMachine, request: ArmRequest, withInstanceView: boolean): Json {
    const provisioningState = this.core.provisioningState(vm);
    return {
      id: `/subscriptions/${request.path.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`,
      name: vm.name,
      type: 'Microsoft.Compute/virtualMachines',
      location: vm.location,
      tags: vm.tags,
      properties: {
        ...vm.properties,
        vmId: vm.vmId,
        provisioningState,
        ...(withInstanceView
          ? {
              instanceView: {
                statuses: [
                  { code: `ProvisioningState/${provisioningState.toLowerCase()}`, level: 'Info', displayStatus: `Provisioning ${provisioningState.toLowerCase()}` },
                  ...(provisioningState === 'Succeeded' ? [{ code: 'PowerState/running', level: 'Info', displayStatus: 'VM running' }] : []),
                ],
              },
            }
          : {}),
      },
    };
  }

  list(request: ArmRequest): ArmAnswer {
    const vms = this.core.liveUnder(this.core.state.virtualMachines, this.core.key(request.path, 0), request.now, 2);
    return this.core.page(
      request,
      vms.map((vm) => this.body(vm, request, false)),
    );
  }

  get(request: ArmRequest): ArmAnswer {
    const vm = this.core.live(this.core.state.virtualMachines, this.core.key(request.path), request.now);
    if (!vm) throw resourceNotFound('Microsoft.Compute/virtualMachines', nameAt(request, 0), resourceGroupOf(request));
    return { status: 200, body: this.body(vm, request, (request.query.get('$expand') ?? '').toLowerCase() === 'instanceview') };
  }

  async put(request: ArmRequest): Promise<ArmAnswer> {
    const name = nameAt(request, 0);
    const body = asObject(request.body);
    const location = this.core.location(body, 'Microsoft.Compute/virtualMachines');
    const properties = asObject(body.properties);
    const size = asObject(properties.hardwareProfile).vmSize;
    if (typeof size !== 'string' || size === '') throw invalidParameter("Required parameter 'hardwareProfile.vmSize' is missing (null).", 'vmSize');
    const key = this.core.key(request.path);
    const existing = this.core.live(this.core.state.virtualMachines, key, request.now);
    if (existing) {
      this.core.assertIdle(existing, `virtual machine '${name}'`);
      existing.tags = asTags(body.tags);
      existing.properties = { ...existing.properties, hardwareProfile: { vmSize: size } };
      const headers = this.core.begin(request, key, existing, 'update');
      return this.core.commit({ status: 200, headers, body: this.body(existing, request, false) });
    }

    const storageProfile = asObject(properties.storageProfile);
    const reference = asObject(storageProfile.imageReference);
    const osDisk = asObject(storageProfile.osDisk);
    const osProfile = asObject(properties.osProfile);
    let osType: 'Windows' | 'Linux';
    let imageSizeGiB: number;
    let dataDisks: { lun: number; sizeGiB: number }[];
    let specialized = false;
    if (typeof reference.id === 'string') {
      const resolved = this.versions.resolveForVirtualMachine(request.path.subscriptionId, reference.id, location, request.now);
      if (!resolved) {
        throw new CloudError(
          404,
          'GalleryImageNotFound',
          `The gallery image ${reference.id} is not available in ${location} region. Please contact image owner to replicate to this region, or change your requested region.`,
          { target: 'imageReference' },
        );
      }
      osType = resolved.image.properties.osType === 'Linux' ? 'Linux' : 'Windows';
      specialized = resolved.image.properties.osState === 'Specialized';
      imageSizeGiB = resolved.version.osDiskSizeGiB;
      dataDisks = resolved.version.dataDisks;
    } else {
      const image = findMarketplaceImage(reference);
      if (!image) {
        throw new CloudError(
          404,
          'PlatformImageNotFound',
          `The platform image '${String(reference.publisher)}:${String(reference.offer)}:${String(reference.sku)}:${String(reference.version ?? 'latest')}' is not available.`,
          { target: 'imageReference' },
        );
      }
      osType = image.osType;
      imageSizeGiB = image.osDiskSizeGiB;
      dataDisks = asArray(storageProfile.dataDisks).map((disk) => ({ lun: Number(asObject(disk).lun), sizeGiB: Number(asObject(disk).diskSizeGB ?? 32) }));
    }
    if (specialized && properties.osProfile !== undefined) throw invalidParameter("Parameter 'osProfile' is not allowed.", 'osProfile');
    if (!specialized && typeof osProfile.adminUsername !== 'string') throw invalidParameter("Required parameter 'osProfile' is missing (null).", 'osProfile');
    const requestedSize = osDisk.diskSizeGB;
    if (requestedSize !== undefined && (typeof requestedSize !== 'number' || requestedSize < imageSizeGiB)) {
      throw new CloudError(400, 'ResizeDiskError', `Disk size ${String(requestedSize)} GB is smaller than the image's ${imageSizeGiB} GB.`, { target: 'osDisk.diskSizeGB' });
    }
    const osDiskSizeGiB = typeof requestedSize === 'number' ? requestedSize : imageSizeGiB;
    const vm: StoredVirtualMachine = {
      id: key,
      name,
      resourceGroup: resourceGroupOf(request),
      location,
      tags: asTags(body.tags),
      vmId: randomUUID(),
      osType,
      osDiskSizeGiB,
      dataDisks,
      properties: {
        hardwareProfile: { vmSize: size },
        storageProfile: {
          imageReference: reference,
          osDisk: { osType, name: `${name}_OsDisk_1`, createOption: 'FromImage', caching: 'ReadWrite', managedDisk: { storageAccountType: 'Premium_LRS' }, diskSizeGB: osDiskSizeGiB },
          dataDisks: dataDisks.map((disk) => ({ lun: disk.lun, createOption: 'FromImage', diskSizeGB: disk.sizeGiB })),
        },
        ...(properties.osProfile === undefined ? {} : { osProfile: without(osProfile, ['adminPassword']) }),
        ...(properties.networkProfile === undefined ? {} : { networkProfile: properties.networkProfile }),
      },
    };
    this.core.state.virtualMachines[key] = vm;
    const headers = this.core.begin(request, key, vm, 'create');
    return this.core.commit({ status: 201, headers, body: this.body(vm, request, false) });
  }

  async delete(request: ArmRequest): Promise<ArmAnswer> {
    const key = this.core.key(request.path);
    const vm = this.core.live(this.core.state.virtualMachines, key, request.now);
    if (!vm) return { status: 204 };
    this.core.assertIdle(vm, `virtual machine '${vm.name}'`);
    const headers = this.core.begin(request, key, vm, 'delete');
    return this.core.commit({ status: 202, headers });
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
