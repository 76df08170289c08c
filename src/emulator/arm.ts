import { randomUUID } from 'node:crypto';
import { isKnownRegion, normalizeRegion } from '../azure/regions.ts';
import { CloudError } from './cloud-error.ts';
import { takeRegionFailure } from './faults.ts';
import { advanceReplication, type ReplicationTiming } from './replication.ts';
import type { ResourcePath } from './routes.ts';
import type { EmulatorState, PendingOperation, StateStore, StoredResource } from './state.ts';

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

  constructor(store: StateStore, timing: ArmTiming) {
    this.store = store;
    this.timing = timing;
  }

  get state(): EmulatorState {
    return this.store.state;
  }

  /** The case-insensitive identity of a resource (ARM ids are case-insensitive). */
  key(path: ResourcePath, depth = path.types.length): string {
    const parts = path.types.slice(0, depth).map((type, index) => `${type}/${path.names[index] ?? ''}`);
    return `/subscriptions/${path.subscriptionId}/resourcegroups/${path.resourceGroup ?? ''}/${parts.join('/')}`.toLowerCase();
  }

  /** The resource if it exists now: a finished operation is settled first. */
  live<T extends StoredResource>(table: Record<string, T>, key: string, now: number): T | undefined {
    const resource = table[key];
    if (!resource) return undefined;
    const operation = resource.operation;
    if (operation && operation.endsAt <= now) {
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
    const url = `${request.baseUrl}/subscriptions/${request.path.subscriptionId}/providers/Microsoft.Compute/locations/${location}/capsOperations/${id}`;
    return {
      'Azure-AsyncOperation': `${url}?api-version=${apiVersion}`,
      ...(withLocation ? { Location: `${url}?monitor=true&api-version=${apiVersion}` } : {}),
      'Retry-After': String(this.retryAfterSeconds(request.now, endsAt)),
    };
  }

  retryAfterSeconds(now: number, endsAt: number): number {
    return Math.max(0, Math.ceil((endsAt - now) / 1000));
  }

  /** Operation records are kept for an hour after they end: long enough for any poller. */
  private pruneOperations(now: number): void {
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

  /** A required, known region; ARM's error otherwise. */
  location(body: Json, resourceType: string): string {
    if (typeof body.location !== 'string' || body.location === '') {
      throw new CloudError(400, 'LocationRequired', 'The location property is required for this definition.');
    }
    if (!isKnownRegion(body.location)) {
      throw new CloudError(
        400,
        'LocationNotAvailableForResourceType',
        `The provided location '${body.location}' is not available for resource type '${resourceType}'.`,
      );
    }
    return normalizeRegion(body.location);
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
