import { randomUUID } from 'node:crypto';
import { normalizeRegion } from '../azure/regions.ts';
import { asObject, asTags, nameAt, type ArmAnswer, type ArmCore, type ArmRequest, type Json } from './arm.ts';
import { CloudError } from './cloud-error.ts';
import { subscriptionConfig } from './config.ts';
import { resourceTables, type StoredResourceGroup } from './state.ts';

export function groupKey(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}`.toLowerCase();
}

/** Resource groups (Microsoft.Resources): created by PUT, by a seed, or, where the config says so, on first use. */
export class ResourceGroupHandlers {
  private readonly core: ArmCore;

  constructor(core: ArmCore) {
    this.core = core;
  }

  private body(group: StoredResourceGroup, subscriptionId: string): Json {
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${group.name}`,
      name: group.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: group.location,
      tags: group.tags,
      properties: { provisioningState: group.deletingUntil === undefined ? 'Succeeded' : 'Deleting' },
    };
  }

  /** The group if it exists now; a finished delete takes the group and everything in it. */
  live(key: string, now: number): StoredResourceGroup | undefined {
    const group = this.core.state.resourceGroups[key];
    if (!group || group.deletingUntil === undefined || group.deletingUntil > now) return group;
    Reflect.deleteProperty(this.core.state.resourceGroups, key);
    for (const table of resourceTables) {
      const resources = this.core.state[table];
      for (const resourceKey of Object.keys(resources)) if (resourceKey.startsWith(`${key}/`)) Reflect.deleteProperty(resources, resourceKey);
    }
    return undefined;
  }

  /**
   * What a request inside a group needs: the group, as ARM checks it before the resource provider
   * sees the request (404 ResourceGroupNotFound). Where the config makes every group exist, a
   * missing one is made here, in the request's location.
   */
  require(request: ArmRequest): void {
    const name = request.path.resourceGroup ?? '';
    const key = groupKey(request.path.subscriptionId, name);
    const group = this.live(key, request.now);
    if (group?.deletingUntil !== undefined && request.method !== 'GET') {
      throw new CloudError(409, 'ResourceGroupBeingDeleted', `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`);
    }
    if (group) return;
    if (!subscriptionConfig(this.core.config, request.path.subscriptionId).implicitResourceGroups) {
      throw new CloudError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
    }
    const location = asObject(request.body).location;
    this.core.state.resourceGroups[key] = { name, location: typeof location === 'string' ? location : 'westus', tags: {} };
  }

  list(request: ArmRequest): ArmAnswer {
    const prefix = `/subscriptions/${request.path.subscriptionId}/resourcegroups/`.toLowerCase();
    const groups = Object.keys(this.core.state.resourceGroups)
      .filter((key) => key.startsWith(prefix))
      .sort()
      .map((key) => this.live(key, request.now))
      .filter((group): group is StoredResourceGroup => group !== undefined);
    return this.core.page(
      request,
      groups.map((group) => this.body(group, request.path.subscriptionId)),
    );
  }

  get(request: ArmRequest): ArmAnswer {
    const name = nameAt(request, 0);
    const group = this.live(groupKey(request.path.subscriptionId, name), request.now);
    if (!group) throw new CloudError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
    return request.method === 'HEAD' ? { status: 204 } : { status: 200, body: this.body(group, request.path.subscriptionId) };
  }

  async put(request: ArmRequest): Promise<ArmAnswer> {
    const name = nameAt(request, 0);
    if (!/^[-\w._()]{1,90}$/.test(name) || name.endsWith('.')) {
      throw new CloudError(400, 'InvalidResourceGroup', `The provided resource group name '${name}' has these invalid characters or is too long.`);
    }
    const body = asObject(request.body);
    if (typeof body.location !== 'string' || body.location === '') throw new CloudError(400, 'LocationRequired', 'The location property is required for this definition.');
    this.core.assertRegion(body.location, request.path.subscriptionId, 'resourceGroups');
    const key = groupKey(request.path.subscriptionId, name);
    const existing = this.live(key, request.now);
    if (existing?.deletingUntil !== undefined) {
      throw new CloudError(409, 'ResourceGroupBeingDeleted', `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`);
    }
    if (existing && normalizeRegion(existing.location) !== normalizeRegion(body.location)) {
      throw new CloudError(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${body.location}'. The Resource group already exists in location '${existing.location}'.`);
    }
    const group: StoredResourceGroup = { name: existing?.name ?? name, location: existing?.location ?? body.location, tags: asTags(body.tags) };
    this.core.state.resourceGroups[key] = group;
    return this.core.commit({ status: existing ? 200 : 201, body: this.body(group, request.path.subscriptionId) });
  }

  /** ARM answers a group's delete with a Location-header operation only (no Azure-AsyncOperation). */
  async delete(request: ArmRequest): Promise<ArmAnswer> {
    const key = groupKey(request.path.subscriptionId, nameAt(request, 0));
    const group = this.live(key, request.now);
    if (!group) return { status: 204 };
    const id = randomUUID().replaceAll('-', '').toUpperCase();
    const endsAt = group.deletingUntil ?? request.now + this.core.timing.operationMs;
    group.deletingUntil = endsAt;
    this.core.state.operations[id] = { id, location: group.location, subscriptionId: request.path.subscriptionId, startedAt: request.now, endsAt, resourceKey: key };
    return this.core.commit({ status: 202, headers: this.resultHeaders(request, id, endsAt) });
  }

  /** `/subscriptions/{s}/operationresults/{id}`: 202 with where to look next until done, then 200. */
  operationResult(request: ArmRequest): ArmAnswer {
    const id = nameAt(request, 0);
    const operation = this.core.state.operations[id];
    if (!operation || operation.subscriptionId.toLowerCase() !== request.path.subscriptionId.toLowerCase()) {
      throw new CloudError(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
    }
    if (request.now < operation.endsAt) return { status: 202, headers: this.resultHeaders(request, id, operation.endsAt) };
    this.live(operation.resourceKey, request.now);
    return { status: 200 };
  }

  private resultHeaders(request: ArmRequest, id: string, endsAt: number): Record<string, string> {
    const apiVersion = request.query.get('api-version') ?? '';
    return {
      Location: `${request.baseUrl}/subscriptions/${request.path.subscriptionId}/operationresults/${id}?api-version=${apiVersion}`,
      'Retry-After': String(this.core.retryAfterSeconds(request.now, endsAt)),
    };
  }
}
