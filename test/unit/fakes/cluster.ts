// The Kubernetes side of a reconciler in a unit test: the informers' caches (the runtime's own
// IndexedStore, with the controllers' indexes), an API client that applies merge patches to them
// as the API server would (and bumps resourceVersion), Secrets, and the Events recorded.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import type { AccountsForDeletion } from '../../../src/controllers/common/departed-accounts.ts';
import type { AccountConnection, ApiClient, ConnectOptions, Connector, Recorder } from '../../../src/controllers/common/deps.ts';
import { ATTACHMENT_INDEXES, EXPORT_INDEXES, TEMPLATE_INDEXES, addIndexes } from '../../../src/controllers/common/indexes.ts';
import { IndexedStore, objectKey, type ReconcileContext, type ResourceType } from '../../../src/runtime/index.ts';
import { SUBSCRIPTION, type FakeGallery } from './gallery.ts';

export interface RecordedEvent {
  name: string;
  type: string;
  reason: string;
  note: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** RFC 7386: what a merge patch does to a document. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) result.delete(field);
    else result.set(field, applyMergePatch(result.get(field), value));
  }
  return Object.fromEntries(result);
}

function store<T extends KubernetesObject>(indexes: Parameters<typeof addIndexes<T>>[1] = {}): IndexedStore<T> {
  const s = new IndexedStore<T>();
  addIndexes(s, indexes);
  return s;
}

export class FakeCluster {
  readonly accounts = store<LabAccount>();
  readonly attachments = store<GalleryAttachment>(ATTACHMENT_INDEXES);
  readonly exports = store<ImageExport>(EXPORT_INDEXES);
  readonly templates = store<LabTemplate>(TEMPLATE_INDEXES);
  /** Accounts deleted just before their dependents, by `namespace/name`, as DepartedAccounts remembers them. */
  readonly departedAccounts = new Map<string, LabAccount>();
  readonly accountsForDeletion: AccountsForDeletion = { get: (name, namespace) => this.accounts.get(name, namespace) ?? this.departedAccounts.get(objectKey(namespace, name)) };
  readonly secrets = new Map<string, V1Secret>();
  readonly events: RecordedEvent[] = [];
  /** Status patches sent, in order. */
  readonly statusPatches: { name: string; patch: unknown }[] = [];
  #resourceVersion = 1;

  readonly recorder: Recorder = { event: (regarding, type, reason, note) => void this.events.push({ name: regarding.metadata?.name ?? '', type, reason, note }) };

  readonly client: ApiClient = {
    get: async <T extends KubernetesObject>(_resource: ResourceType, namespace: string, name: string) => this.secrets.get(`${namespace}/${name}`) as T | undefined,
    mergePatch: async <T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object) => this.#patch<T>(resource, namespace, name, patch),
    mergePatchStatus: async <T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object) => {
      this.statusPatches.push({ name, patch });
      return this.#patch<T>(resource, namespace, name, patch);
    },
  };

  /** Adds (or replaces) an object in its cache, as a watch event would. */
  put<T extends LabAccount | GalleryAttachment | ImageExport | LabTemplate>(obj: T): T {
    const stored = { ...obj, apiVersion: API_VERSION, metadata: { generation: 1, uid: `uid-${obj.metadata.name}`, ...obj.metadata, resourceVersion: String(this.#resourceVersion++) } } as T;
    this.#storeOf(stored.kind ?? '').upsert(stored);
    return stored;
  }

  putSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.secrets.set(`${namespace}/${name}`, { metadata: { name, namespace }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
  }

  /** A context for one reconcile, its signal fired by `abort`. */
  context(abort = new AbortController()): ReconcileContext {
    return { log: pino({ level: 'silent' }), signal: abort.signal };
  }

  #storeOf(kind: string): IndexedStore<KubernetesObject> {
    const stores = {
      LabAccount: this.accounts,
      GalleryAttachment: this.attachments,
      ImageExport: this.exports,
      LabTemplate: this.templates,
    } as unknown as Record<string, IndexedStore<KubernetesObject>>;
    const found = stores[kind];
    if (!found) throw new Error(`no cache for kind ${kind}`);
    return found;
  }

  #patch<T extends KubernetesObject>(resource: ResourceType, namespace: string, name: string, patch: object): T {
    const cache = this.#storeOf(resource.kind);
    const current = cache.get(name, namespace);
    if (!current) throw Object.assign(new Error(`${resource.kind} ${namespace}/${name} not found`), { statusCode: 404 });
    const wanted = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (wanted && wanted !== current.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { statusCode: 409 });
    const next = applyMergePatch(current, patch) as T;
    next.metadata = { ...next.metadata, resourceVersion: String(this.#resourceVersion++) };
    cache.upsert(next);
    return next;
  }
}

/** A connector to one fake gallery, in resource group `rg`; it counts connects, and rechecks of the credentials. */
export function connectorTo(gallery: FakeGallery, resourceGroup = 'rg'): Connector & { connected: number; rechecked: number } {
  const connector = {
    connected: 0,
    rechecked: 0,
    async connect(account: LabAccount, _signal?: AbortSignal, options: ConnectOptions = {}): Promise<AccountConnection> {
      connector.connected++;
      if (options.recheck) connector.rechecked++;
      const secret = account.spec.azure?.credentials?.secretRef?.name;
      return { port: gallery, subscriptionId: SUBSCRIPTION, resourceGroup, credentials: secret ? `the service principal in Secret ${secret}` : "the test's credentials" };
    },
  };
  return connector;
}
