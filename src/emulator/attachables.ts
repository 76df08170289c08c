import { randomUUID } from 'node:crypto';
import { nameAt, resourceGroupOf, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import { CloudError, resourceNotFound } from './cloud-error.ts';
import type { EmulatorState, StoredAttachable } from './state.ts';

/**
 * Managed disks and network interfaces: made with a VM (or before it, and attached), used by it
 * while it exists, and afterwards deleted with it or left behind as its `deleteOption` said.
 */
export interface AttachableKind {
  table: 'disks' | 'networkInterfaces';
  /** `Microsoft.Compute/disks` or `Microsoft.Network/networkInterfaces`. */
  type: string;
  /** The lower-case type segment of keys. */
  segment: 'disks' | 'networkinterfaces';
  render(resource: StoredAttachable, id: string, usedBy: string | undefined, provisioningState: string): Json;
}

export const diskKind: AttachableKind = {
  table: 'disks',
  type: 'Microsoft.Compute/disks',
  segment: 'disks',
  render(disk, id, usedBy, provisioningState) {
    const { skuName, ...properties } = disk.properties;
    return {
      id,
      name: disk.name,
      type: 'Microsoft.Compute/disks',
      location: disk.location,
      tags: disk.tags,
      ...(usedBy ? { managedBy: usedBy } : {}),
      sku: { name: skuName, tier: String(skuName).startsWith('Premium') ? 'Premium' : 'Standard' },
      properties: { ...properties, diskState: usedBy ? 'Attached' : 'Unattached', provisioningState },
    };
  },
};

export const networkInterfaceKind: AttachableKind = {
  table: 'networkInterfaces',
  type: 'Microsoft.Network/networkInterfaces',
  segment: 'networkinterfaces',
  render(nic, id, usedBy, provisioningState) {
    const ipConfigurations = Array.isArray(nic.properties.ipConfigurations) ? (nic.properties.ipConfigurations as Json[]) : [];
    return {
      id,
      name: nic.name,
      type: 'Microsoft.Network/networkInterfaces',
      location: nic.location,
      tags: nic.tags,
      properties: {
        ...nic.properties,
        provisioningState,
        ipConfigurations: ipConfigurations.map((configuration) => ({
          ...configuration,
          id: `${id}/ipConfigurations/${String(configuration.name)}`,
          properties: { ...(configuration.properties as Json), provisioningState },
        })),
        ...(usedBy ? { virtualMachine: { id: usedBy } } : {}),
      },
    };
  },
};

export class AttachableHandlers {
  private readonly core: ArmCore;
  private readonly kind: AttachableKind;

  constructor(core: ArmCore, kind: AttachableKind) {
    this.core = core;
    this.kind = kind;
  }

  private get table(): EmulatorState['disks'] {
    return this.core.state[this.kind.table];
  }

  keyOf(subscriptionId: string, resourceGroup: string, name: string): string {
    return `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/${this.kind.segment}/${name}`.toLowerCase();
  }

  idOf(subscriptionId: string, resource: StoredAttachable): string {
    const [provider, type] = this.kind.type.split('/');
    return `/subscriptions/${subscriptionId}/resourceGroups/${resource.resourceGroup}/providers/${provider}/${type}/${resource.name}`;
  }

  /** The id of the VM using the resource, while that VM exists. */
  usedBy(resource: StoredAttachable, now: number): string | undefined {
    if (!resource.usedBy) return undefined;
    return this.core.live(this.core.state.virtualMachines, resource.usedBy.key, now) ? resource.usedBy.id : undefined;
  }

  live(key: string, now: number): StoredAttachable | undefined {
    return this.core.live(this.table, key, now);
  }

  /** Stores a resource made for a VM (whose handler has checked that the name is free). */
  create(subscriptionId: string, resource: Omit<StoredAttachable, 'id'>): string {
    const key = this.keyOf(subscriptionId, resource.resourceGroup, resource.name);
    this.table[key] = { ...resource, id: key, properties: { ...resource.properties, resourceGuid: randomUUID() } };
    return key;
  }

  private body(resource: StoredAttachable, subscriptionId: string, now: number): Json {
    return this.kind.render(resource, this.idOf(subscriptionId, resource), this.usedBy(resource, now), this.core.provisioningState(resource));
  }

  list(request: ArmRequest): ArmAnswer {
    const { subscriptionId, resourceGroup } = request.path;
    const prefix = resourceGroup === undefined ? `/subscriptions/${subscriptionId}/resourcegroups/`.toLowerCase() : `${this.core.key(request.path, 0)}`;
    const resources = this.core.liveUnder(this.table, prefix, request.now, resourceGroup === undefined ? 3 : 2);
    return this.core.page(
      request,
      resources.map((resource) => this.body(resource, subscriptionId, request.now)),
    );
  }

  get(request: ArmRequest): ArmAnswer {
    const resource = this.live(this.core.key(request.path), request.now);
    if (!resource) throw resourceNotFound(this.kind.type, nameAt(request, 0), resourceGroupOf(request));
    return { status: 200, body: this.body(resource, request.path.subscriptionId, request.now) };
  }

  async delete(request: ArmRequest): Promise<ArmAnswer> {
    const key = this.core.key(request.path);
    const resource = this.live(key, request.now);
    if (!resource) return { status: 204 };
    const usedBy = this.usedBy(resource, request.now);
    if (usedBy) {
      throw this.kind.table === 'disks'
        ? new CloudError(409, 'OperationNotAllowed', `Disk ${resource.name} is attached to VM ${usedBy}.`)
        : new CloudError(
            400,
            'NicInUse',
            `Network Interface ${this.idOf(request.path.subscriptionId, resource)} is used by existing resource ${usedBy}. In order to delete the network interface, it must be dissociated from the resource.`,
          );
    }
    this.core.assertIdle(resource, `${this.kind.type} '${resource.name}'`);
    const headers = this.core.begin(request, key, resource, 'delete');
    return this.core.commit({ status: 202, headers });
  }

  /** Deletes a resource along with its VM (deleteOption Delete): it goes when the VM's delete ends. */
  deleteWith(request: ArmRequest, key: string): void {
    const resource = this.live(key, request.now);
    if (resource && resource.operation?.kind !== 'delete') this.core.begin(request, key, resource, 'delete');
  }
}
