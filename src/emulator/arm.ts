import { randomUUID } from 'node:crypto';
import { allRegions, isGenerallyAvailable, isKnownRegion, normalizeRegion } from '../azure/regions.ts';
import { CloudError } from './cloud-error.ts';
import { subscriptionConfig, type EmulatorConfig } from './config.ts';
import { takeRegionFailure } from './faults.ts';
import { advanceReplication, type ReplicationTiming } from './replication.ts';
import type { ResourcePath } from './routes.ts';
import { resourceTables, type EmulatorState, type PendingOperation, type StateStore, type StoredResource } from './state.ts';

export interface ArmTiming {
  /** How long a PUT, PATCH or DELETE stays in progress. */
  operationMs: number;
  replication: ReplicationTiming;
  /** Items per page of a list answer (then `nextLink`). */
  pageSize: number;
}

export interface ArmRequest {
  method: string;
  path: ResourcePath;
  pathname: string;
  query: URLSearchParams;
  body: unknown;
  /** `https://host:port`, as the client addressed us: links we hand out point there. */
  baseUrl: string;
  now: number;
}

export interface ArmAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** The `index`-th name in the request's path; routing guarantees it exists. */
export function nameAt(request: ArmRequest, index: number): string {
  const name = request.path.names[index];
  if (name === undefined) throw new CloudError(404, 'NotFound', 'The request names no resource.');
  return name;
}

export function resourceGroupOf(request: ArmRequest): string {
  const resourceGroup = request.path.resourceGroup;
  if (resourceGroup === undefined) throw new CloudError(404, 'NotFound', 'The request names no resource group.');
  return resourceGroup;
}

/** `properties` less the read-only fields ARM computes (or, like a password, never echoes). */
export function without(properties: Json, omitted: string[]): Json {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !omitted.includes(key)));
}

export function asTags(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asObject(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

const provisioningStates: Record<PendingOperation['kind'], string> = { create: 'Creating', update: 'Updating', delete: 'Deleting' };

/**
 * What every resource kind shares: keys, life cycle (a resource's pending operation decides its
 * provisioningState and, for a delete, when it is gone), operations, paging, persistence.
 */
export class ArmCore {
  readonly store: StateStore;
  readonly timing: ArmTiming;
  readonly #config: () => EmulatorConfig;
  #prunedAt = 0;

  constructor(store: StateStore, timing: ArmTiming, config: () => EmulatorConfig) {
    this.store = store;
    this.timing = timing;
    this.#config = config;
  }

  get config(): EmulatorConfig {
    return this.#config();
  }

  get state(): EmulatorState {
    return this.store.state;
  }

  /** The case-insensitive identity of a resource (ARM ids are case-insensitive). */
  key(path: ResourcePath, depth = path.types.length): string {
    const parts = path.types.slice(0, depth).map((type, index) => `${type}/${path.names[index] ?? ''}`);
    return `/subscriptions/${path.subscriptionId}/resourcegroups/${path.resourceGroup ?? ''}/${parts.join('/')}`.toLowerCase();
  }

  /**
   * The resource if it exists now: a finished operation is settled first, and the settlement is
   * noted, so that the answer that reports it (a 404 for a deleted resource) waits until the state
   * file says so too.
   */
  live<T extends StoredResource>(table: Record<string, T>, key: string, now: number): T | undefined {
    const resource = table[key];
    if (!resource) return undefined;
    const operation = resource.operation;
    if (operation && operation.endsAt <= now) {
      this.store.markChanged();
      if (operation.kind === 'delete') {
        Reflect.deleteProperty(table, key);
        return undefined;
      }
      delete resource.operation;
    }
    return resource;
  }

  /** Live resources whose key starts with `prefix`, sorted by key. */
  liveUnder<T extends StoredResource>(table: Record<string, T>, prefix: string, now: number, depth: number): T[] {
    return Object.keys(table)
      .filter((key) => key.startsWith(prefix) && key.slice(prefix.length).split('/').length === depth)
      .sort()
      .map((key) => this.live(table, key, now))
      .filter((resource): resource is T => resource !== undefined);
  }

  provisioningState(resource: StoredResource): string {
    return resource.operation ? provisioningStates[resource.operation.kind] : 'Succeeded';
  }

  /** Refuses a mutation while another one runs, as ARM does. */
  assertIdle(resource: StoredResource, what: string): void {
    if (resource.operation && resource.operation.kind !== 'delete') {
      throw new CloudError(409, 'Conflict', `Operation on ${what} is not allowed since another operation is in progress on it. Retry after it completes.`);
    }
    if (resource.operation) throw new CloudError(409, 'Conflict', `${what} is being deleted.`);
  }

  /** Starts an operation on `resource`; returns the LRO headers for the answer. */
  begin(request: ArmRequest, resourceKey: string, resource: StoredResource, kind: PendingOperation['kind']): Record<string, string> {
    const id = randomUUID();
    const endsAt = request.now + this.timing.operationMs;
    this.state.operations[id] = { id, location: resource.location, subscriptionId: request.path.subscriptionId, startedAt: request.now, endsAt, resourceKey };
    resource.operation = { id, kind, endsAt };
    this.pruneOperations(request.now);
    return this.operationHeaders(request, id, resource.location, kind === 'delete', endsAt);
  }

  operationHeaders(request: ArmRequest, id: string, location: string, withLocation: boolean, endsAt: number): Record<string, string> {
    const apiVersion = request.query.get('api-version') ?? '';
    // Each resource provider answers its own operations: Compute's capsOperations, Network's operations.
    const operations = request.path.provider === 'microsoft.network' ? 'Microsoft.Network/locations/{}/operations' : 'Microsoft.Compute/locations/{}/capsOperations';
    const url = `${request.baseUrl}/subscriptions/${request.path.subscriptionId}/providers/${operations.replace('{}', location)}/${id}`;
    return {
      'Azure-AsyncOperation': `${url}?api-version=${apiVersion}`,
      ...(withLocation ? { Location: `${url}?monitor=true&api-version=${apiVersion}` } : {}),
      'Retry-After': String(this.retryAfterSeconds(request.now, endsAt)),
    };
  }

  retryAfterSeconds(now: number, endsAt: number): number {
    return Math.max(0, Math.ceil((endsAt - now) / 1000));
  }

  /** Ends every create and update under way now (seeded resources exist from the start). */
  finishOperations(now: number): void {
    for (const table of resourceTables) {
      for (const resource of Object.values(this.state[table] as Record<string, StoredResource>)) {
        const operation = resource.operation;
        if (!operation || operation.kind === 'delete') continue;
        const record = this.state.operations[operation.id];
        if (record) record.endsAt = now;
        delete resource.operation;
      }
    }
  }

  /**
   * Operation records are kept for an hour after they end: long enough for any poller. Pruned at
   * most once a minute: a pass over every record at each operation's start was the emulator's
   * largest cost in a burst of a thousand exports.
   */
  private pruneOperations(now: number): void {
    if (now - this.#prunedAt < 60_000) return;
    this.#prunedAt = now;
    for (const [id, operation] of Object.entries(this.state.operations)) {
      if (operation.endsAt + 3600_000 < now) Reflect.deleteProperty(this.state.operations, id);
    }
  }

  /** One page of `items`, with `nextLink` when more follow. */
  page(request: ArmRequest, items: unknown[]): ArmAnswer {
    const skip = Math.max(0, Number.parseInt(request.query.get('$skiptoken') ?? '0', 10) || 0);
    const end = skip + this.timing.pageSize;
    const value = items.slice(skip, end);
    if (end >= items.length) return { status: 200, body: { value } };
    const next = new URLSearchParams({ 'api-version': request.query.get('api-version') ?? '', $skiptoken: String(end) });
    return { status: 200, body: { value, nextLink: `${request.baseUrl}${request.pathname}?${next.toString()}` } };
  }

  /** A required region the subscription may use; ARM's error otherwise. */
  location(body: Json, resourceType: string, subscriptionId: string): string {
    if (typeof body.location !== 'string' || body.location === '') {
      throw new CloudError(400, 'LocationRequired', 'The location property is required for this definition.');
    }
    this.assertRegion(body.location, subscriptionId, resourceType);
    return normalizeRegion(body.location);
  }

  /** The regions a subscription may use: those open to all, and the restricted or coming-soon ones its config enables. */
  availableRegions(subscriptionId: string): string[] {
    const enabled = subscriptionConfig(this.config, subscriptionId).regions.map(normalizeRegion);
    return allRegions()
      .map((region) => region.name)
      .filter((region) => isGenerallyAvailable(region) || enabled.includes('*') || enabled.includes(region));
  }

  /**
   * Refuses an unknown region, and a restricted-access or coming-soon one the subscription has not
   * been enabled for, as ARM does: 400 LocationNotAvailableForResourceType listing what is available.
   */
  assertRegion(region: string, subscriptionId: string, resourceType: string, target?: string): void {
    const available = this.availableRegions(subscriptionId);
    if (isKnownRegion(region) && available.includes(normalizeRegion(region))) return;
    const [code, what, list] =
      resourceType === 'resourceGroups'
        ? ['LocationNotAvailableForResourceGroup', 'resource group', 'List of available regions is']
        : ['LocationNotAvailableForResourceType', `resource type '${resourceType}'`, 'List of available regions for the resource type is'];
    throw new CloudError(400, code, `The provided location '${region}' is not available for ${what}. ${list} '${available.join(',')}'.`, target === undefined ? {} : { target });
  }

  /** The replicas of a version, advanced to `now`. */
  advance(replicas: Parameters<typeof advanceReplication>[0], now: number) {
    return advanceReplication(replicas, now, this.timing.replication);
  }

  /** Whether the next replication to `region` is doomed by a fault (consumes it). */
  doom(region: string): number | undefined {
    return takeRegionFailure(this.state.faults, region);
  }

  /** Answers after the state this answer reports is durable. */
  async commit(answer: ArmAnswer): Promise<ArmAnswer> {
    await this.store.commit();
    return answer;
  }
}
