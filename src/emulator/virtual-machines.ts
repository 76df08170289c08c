import { randomBytes, randomUUID } from 'node:crypto';
import { asObject, asTags, nameAt, resourceGroupOf, without, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import type { AttachableHandlers } from './attachables.ts';
import { findMarketplaceImage } from './catalogue.ts';
import { CloudError, invalidParameter, resourceNotFound } from './cloud-error.ts';
import type { ImageVersionHandlers } from './image-versions.ts';
import type { StoredAttachable, StoredVirtualMachine } from './state.ts';

/** ARM's default for a VM's OS disk, data disks and inline NICs: they stay when the VM is deleted. */
const defaultDeleteOption = 'Detach';

interface SourceImage {
  osType: 'Windows' | 'Linux';
  osDiskSizeGiB: number;
  dataDisks: { lun: number; sizeGiB: number }[];
  specialized: boolean;
  /** The disk's creationData. */
  creation: Json;
}

/** A disk the VM will use: made with it, or an existing one attached. */
interface PlannedDisk {
  lun?: number;
  name: string;
  createOption: string;
  sizeGiB: number;
  sku: string;
  deleteOption: string;
  /** Set for `Attach`: the key of the existing disk. */
  existingKey?: string;
}

/** A NIC the VM will use: made from an inline configuration, or an existing one referenced. */
interface PlannedNic {
  name: string;
  primary: boolean;
  deleteOption: string;
  ipConfigurations: Json[];
  existingKey?: string;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A model's fields, whether the client sent them flattened or under `properties`, as the REST shape has them. */
function fields(value: unknown): Json {
  const object = asObject(value);
  return { ...object, ...asObject(object.properties) };
}

function deleteOptionOf(value: unknown): string {
  return value === 'Delete' ? 'Delete' : defaultDeleteOption;
}

/** Virtual machines: a lab's template VM and an image version's source, with the disks and NICs a VM has. */
export class VirtualMachineHandlers {
  private readonly core: ArmCore;
  private readonly versions: ImageVersionHandlers;
  private readonly disks: AttachableHandlers;
  private readonly nics: AttachableHandlers;

  constructor(core: ArmCore, versions: ImageVersionHandlers, attachables: { disks: AttachableHandlers; nics: AttachableHandlers }) {
    this.core = core;
    this.versions = versions;
    this.disks = attachables.disks;
    this.nics = attachables.nics;
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

  /** In a resource group, or (without one) in the whole subscription. */
  list(request: ArmRequest): ArmAnswer {
    const { subscriptionId, resourceGroup } = request.path;
    const [prefix, depth] = resourceGroup === undefined ? [`/subscriptions/${subscriptionId}/resourcegroups/`.toLowerCase(), 3] : [this.core.key(request.path, 0), 2];
    const vms = this.core.liveUnder(this.core.state.virtualMachines, prefix, request.now, depth);
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
    const location = this.core.location(body, 'Microsoft.Compute/virtualMachines', request.path.subscriptionId);
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
    const image = this.sourceImage(request, reference, location);
    if (image.specialized && properties.osProfile !== undefined) throw invalidParameter("Parameter 'osProfile' is not allowed.", 'osProfile');
    if (!image.specialized && typeof osProfile.adminUsername !== 'string') throw invalidParameter("Required parameter 'osProfile' is missing (null).", 'osProfile');
    const requestedSize = osDisk.diskSizeGB;
    if (requestedSize !== undefined && (typeof requestedSize !== 'number' || requestedSize < image.osDiskSizeGiB)) {
      throw new CloudError(400, 'ResizeDiskError', `Disk size ${String(requestedSize)} GB is smaller than the image's ${image.osDiskSizeGiB} GB.`, { target: 'osDisk.diskSizeGB' });
    }

    // Everything is checked before anything is made, so a refused VM leaves nothing behind.
    const suffix = randomBytes(16).toString('hex');
    const sku = (disk: Json) => String(asObject(disk.managedDisk).storageAccountType ?? 'Premium_LRS');
    const plannedOs: PlannedDisk = {
      name: typeof osDisk.name === 'string' ? osDisk.name : `${name}_OsDisk_1_${suffix}`,
      createOption: 'FromImage',
      sizeGiB: typeof requestedSize === 'number' ? requestedSize : image.osDiskSizeGiB,
      sku: sku(osDisk),
      deleteOption: deleteOptionOf(osDisk.deleteOption),
    };
    const plannedData = this.planDataDisks(request, name, suffix, image, asArray(storageProfile.dataDisks).map(asObject), sku);
    const networkProfile = asObject(properties.networkProfile);
    const plannedNics = this.planNics(request, networkProfile);
    for (const disk of [plannedOs, ...plannedData].filter((disk) => !disk.existingKey)) this.assertFree(this.disks, request, disk.name);
    for (const nic of plannedNics.filter((nic) => !nic.existingKey)) this.assertFree(this.nics, request, nic.name);

    const resourceGroup = resourceGroupOf(request);
    const vmId = `/subscriptions/${request.path.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
    const usedBy = { key, id: vmId };
    const common = { resourceGroup, location, tags: asTags(body.tags), usedBy };
    const attached: NonNullable<StoredVirtualMachine['attached']> = [];
    const makeDisk = (disk: PlannedDisk, extra: Json): string => {
      const diskKey =
        disk.existingKey ??
        this.disks.create(
          request.path.subscriptionId,
          { ...common, name: disk.name, properties: { skuName: disk.sku, diskSizeGB: disk.sizeGiB, timeCreated: new Date(request.now).toISOString(), uniqueId: randomUUID(), ...extra } },
        );
      const stored = this.core.state.disks[diskKey] as StoredAttachable;
      stored.usedBy = usedBy;
      attached.push({ table: 'disks', key: diskKey, deleteWithVm: disk.deleteOption === 'Delete' });
      return this.disks.idOf(request.path.subscriptionId, stored);
    };
    const osDiskId = makeDisk(plannedOs, { osType: image.osType, hyperVGeneration: 'V2', creationData: image.creation });
    const dataDisks = plannedData.map((disk) => ({
      lun: disk.lun,
      name: disk.name,
      createOption: disk.createOption,
      caching: 'None',
      diskSizeGB: disk.sizeGiB,
      managedDisk: { storageAccountType: disk.sku, id: makeDisk(disk, { creationData: disk.createOption === 'FromImage' ? image.creation : { createOption: 'Empty' } }) },
      deleteOption: disk.deleteOption,
      toBeDetached: false,
    }));
    const networkInterfaces = plannedNics.map((nic) => {
      const nicKey =
        nic.existingKey ??
        this.nics.create(
          request.path.subscriptionId,
          { ...common, name: nic.name, properties: { primary: nic.primary, ipConfigurations: nic.ipConfigurations, enableAcceleratedNetworking: false, nicType: 'Standard' } },
        );
      const stored = this.core.state.networkInterfaces[nicKey] as StoredAttachable;
      stored.usedBy = usedBy;
      attached.push({ table: 'networkInterfaces', key: nicKey, deleteWithVm: nic.deleteOption === 'Delete' });
      return { id: this.nics.idOf(request.path.subscriptionId, stored), properties: { primary: nic.primary, deleteOption: nic.deleteOption } };
    });

    const vm: StoredVirtualMachine = {
      id: key,
      name,
      resourceGroup,
      location,
      tags: asTags(body.tags),
      vmId: randomUUID(),
      osType: image.osType,
      osDiskSizeGiB: plannedOs.sizeGiB,
      dataDisks: plannedData.map((disk) => ({ lun: disk.lun ?? 0, sizeGiB: disk.sizeGiB })),
      attached,
      properties: {
        hardwareProfile: { vmSize: size },
        storageProfile: {
          imageReference: reference,
          osDisk: {
            osType: image.osType,
            name: plannedOs.name,
            createOption: 'FromImage',
            caching: 'ReadWrite',
            managedDisk: { storageAccountType: plannedOs.sku, id: osDiskId },
            diskSizeGB: plannedOs.sizeGiB,
            deleteOption: plannedOs.deleteOption,
          },
          dataDisks,
        },
        ...(properties.osProfile === undefined ? {} : { osProfile: without(osProfile, ['adminPassword']) }),
        ...(properties.networkProfile === undefined ? {} : { networkProfile: { ...networkProfile, networkInterfaces } }),
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
    // What deleteOption says Delete goes with the VM; the rest stays, no longer attached, once the VM is gone.
    for (const { table, key: attachedKey, deleteWithVm } of vm.attached ?? []) {
      if (deleteWithVm) (table === 'disks' ? this.disks : this.nics).deleteWith(request, attachedKey);
    }
    return this.core.commit({ status: 202, headers });
  }

  private sourceImage(request: ArmRequest, reference: Json, location: string): SourceImage {
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
      return {
        osType: resolved.image.properties.osType === 'Linux' ? 'Linux' : 'Windows',
        osDiskSizeGiB: resolved.version.osDiskSizeGiB,
        dataDisks: resolved.version.dataDisks,
        specialized: resolved.image.properties.osState === 'Specialized',
        creation: { createOption: 'FromImage', galleryImageReference: { id: reference.id } },
      };
    }
    const image = findMarketplaceImage(reference);
    if (!image) {
      throw new CloudError(
        404,
        'PlatformImageNotFound',
        `The platform image '${String(reference.publisher)}:${String(reference.offer)}:${String(reference.sku)}:${String(reference.version ?? 'latest')}' is not available.`,
        { target: 'imageReference' },
      );
    }
    const imageId = `/Subscriptions/${request.path.subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${image.publisher}/ArtifactTypes/VMImage/Offers/${image.offer}/Skus/${image.sku}/Versions/${image.version}`;
    return { osType: image.osType, osDiskSizeGiB: image.osDiskSizeGiB, dataDisks: [], specialized: false, creation: { createOption: 'FromImage', imageReference: { id: imageId } } };
  }

  /** The image's data disks (FromImage), with the request's own: Empty ones of a given size, Attach of existing disks. */
  private planDataDisks(request: ArmRequest, vmName: string, suffix: string, image: SourceImage, requested: Json[], sku: (disk: Json) => string): PlannedDisk[] {
    const byLun = new Map(requested.map((disk) => [Number(disk.lun), disk]));
    const planned: PlannedDisk[] = image.dataDisks.map((imageDisk) => {
      const disk = byLun.get(imageDisk.lun) ?? {};
      const size = typeof disk.diskSizeGB === 'number' ? Math.max(disk.diskSizeGB, imageDisk.sizeGiB) : imageDisk.sizeGiB;
      const name = typeof disk.name === 'string' ? disk.name : `${vmName}_lun_${imageDisk.lun}_2_${suffix}`;
      return { lun: imageDisk.lun, name, createOption: 'FromImage', sizeGiB: size, sku: sku(disk), deleteOption: deleteOptionOf(disk.deleteOption) };
    });
    for (const [index, disk] of requested.entries()) {
      const lun = Number(disk.lun);
      const target = `storageProfile.dataDisks[${index}]`;
      if (!Number.isInteger(lun) || lun < 0) throw invalidParameter(`Required parameter 'dataDisk.lun' is missing (null).`, `${target}.lun`);
      if (image.dataDisks.some((imageDisk) => imageDisk.lun === lun)) continue;
      if (disk.createOption === 'Empty') {
        if (typeof disk.diskSizeGB !== 'number' || disk.diskSizeGB < 1) throw invalidParameter(`Required parameter 'dataDisk.diskSizeGB' is missing (null).`, `${target}.diskSizeGB`);
        const name = typeof disk.name === 'string' ? disk.name : `${vmName}_disk${lun + 2}_${suffix}`;
        planned.push({ lun, name, createOption: 'Empty', sizeGiB: disk.diskSizeGB, sku: sku(disk), deleteOption: deleteOptionOf(disk.deleteOption) });
      } else if (disk.createOption === 'Attach') {
        const existing = this.existing(this.disks, request, asObject(disk.managedDisk).id, `${target}.managedDisk.id`);
        planned.push({ lun, name: existing.resource.name, createOption: 'Attach', sizeGiB: Number(existing.resource.properties.diskSizeGB), sku: String(existing.resource.properties.skuName), deleteOption: deleteOptionOf(disk.deleteOption), existingKey: existing.key });
      } else {
        throw invalidParameter(`The data disk at lun ${lun} has createOption '${String(disk.createOption)}', but the image has no data disk at that lun.`, `${target}.createOption`);
      }
    }
    return planned.sort((a, b) => (a.lun ?? 0) - (b.lun ?? 0));
  }

  /** Inline NIC configurations (made with the VM, named as configured) and references to existing NICs. */
  private planNics(request: ArmRequest, networkProfile: Json): PlannedNic[] {
    const configurations = asArray(networkProfile.networkInterfaceConfigurations).map(fields);
    const made = configurations.map((configuration, index) => {
      if (typeof configuration.name !== 'string' || configuration.name === '') {
        throw invalidParameter(`Required parameter 'networkInterfaceConfiguration.name' is missing (null).`, `networkProfile.networkInterfaceConfigurations[${index}].name`);
      }
      const primary = configuration.primary === true || configurations.length === 1;
      return {
        name: configuration.name,
        primary,
        deleteOption: deleteOptionOf(configuration.deleteOption),
        ipConfigurations: asArray(configuration.ipConfigurations).map(fields).map((ip, position) => ({
          name: typeof ip.name === 'string' ? ip.name : `ipconfig${position + 1}`,
          properties: { privateIPAllocationMethod: 'Dynamic', primary: position === 0, ...(ip.subnet === undefined ? {} : { subnet: ip.subnet }) },
        })),
      };
    });
    const referenced = asArray(networkProfile.networkInterfaces)
      .map(fields)
      .map((reference, index) => {
        const existing = this.existing(this.nics, request, reference.id, `networkProfile.networkInterfaces[${index}].id`);
        return {
          name: existing.resource.name,
          primary: reference.primary === true,
          deleteOption: deleteOptionOf(reference.deleteOption),
          ipConfigurations: [],
          existingKey: existing.key,
        };
      });
    return [...made, ...referenced];
  }

  /** An existing, unused disk or NIC a VM refers to by id. */
  private existing(handlers: AttachableHandlers, request: ArmRequest, id: unknown, target: string): { key: string; resource: StoredAttachable } {
    const match = typeof id === 'string' ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)$/i.exec(id) : null;
    const [, subscription = '', resourceGroup = '', name = ''] = match ?? [];
    const key = handlers.keyOf(subscription, resourceGroup, name);
    const resource = match ? handlers.live(key, request.now) : undefined;
    if (!resource) throw new CloudError(404, 'NotFound', `Resource ${String(id)} not found.`, { target });
    const usedBy = handlers.usedBy(resource, request.now);
    if (usedBy) throw new CloudError(409, 'Conflict', `Resource ${String(id)} is already used by ${usedBy}.`, { target });
    return { key, resource };
  }

  private assertFree(handlers: AttachableHandlers, request: ArmRequest, name: string): void {
    if (handlers.live(handlers.keyOf(request.path.subscriptionId, resourceGroupOf(request), name), request.now)) {
      throw new CloudError(409, 'Conflict', `A resource named '${name}' already exists in resource group '${resourceGroupOf(request)}'; refer to it to attach it instead.`);
    }
  }
}
