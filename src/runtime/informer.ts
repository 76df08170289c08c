import type { KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { ObjectClient, apiVersionOf, collectionPath, keyOf, objectKey, type ResourceType } from './client.ts';
import { apiStatus, isGone } from './errors.ts';
import type { RestClient } from './rest-client.ts';
import { WakeableSleep } from './sleep.ts';

/**
 * Handlers see every change. A periodic resync (the sync period) calls `update` with the same
 * object as both arguments, which is how a handler can tell a resync from a real change.
 */
export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions {
  /** Namespaces to list and watch; empty or absent means all. */
  namespaces?: string[];
  /** How often every cached object is handed to `update` again (drift detection); 0 = never. */
  resyncMs?: number;
  log: Logger;
}

const PAGE_SIZE = 500;
const BACKOFF_INITIAL_MS = 800;
const BACKOFF_MAX_MS = 30_000;

/**
 * A shared informer: a cache of one kind kept current by list+watch, with named indexes.
 *
 * client-go's shape (a Reflector per namespace feeding an indexed store) on the operator's own
 * RestClient; client-node's informer was no substitute (in 2.0.1 it stops for good on any watch
 * error but 410, asks for no bookmarks, has no indexes, no "synced" signal and no old object on update).
 *
 * Objects in the cache are shared: treat them as read-only (copy before changing).
 */
export class Informer<T extends KubernetesObject = KubernetesObject> implements ObjectCache<T> {
  readonly resource: ResourceType;
  readonly #client: ObjectClient;
  readonly #log: Logger;
  readonly #resyncMs: number;
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #handlers: EventHandler<T>[] = [];
  readonly #reflectors: Reflector<T>[];
  #resyncTimer: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];
  #started = false;

  constructor(rest: RestClient, resource: ResourceType, options: InformerOptions) {
    this.resource = resource;
    this.#client = new ObjectClient(rest);
    this.#log = options.log.child({ informer: `${resource.plural}.${resource.group}` });
    this.#resyncMs = options.resyncMs ?? 0;
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    this.#reflectors = namespaces.map((ns) => new Reflector<T>(this, ns));
  }

  /** Adds a named index; an object may file under several values. Add indexes before `start`. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#started) throw new Error(`index ${name} added after ${this.resource.plural} informer started`);
    this.#indexers.set(name, fn);
    this.#indexes.set(name, new Map());
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    for (const obj of this.#items.values()) this.#call(handler, 'add', obj);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#items.get(objectKey(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`no index ${name} on ${this.resource.plural}`);
    return [...(index.get(value) ?? [])].map((key) => this.#items.get(key)).filter((o): o is T => o !== undefined);
  }

  hasSynced(): boolean {
    return this.#reflectors.every((r) => r.synced);
  }

  /** Resolves once every namespace has been listed once. */
  waitForSync(): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const r of this.#reflectors) void r.run();
    if (this.#resyncMs > 0) {
      this.#resyncTimer = setInterval(() => {
        if (!this.hasSynced()) return;
        for (const obj of this.#items.values()) this.#emit('update', obj, obj);
      }, this.#resyncMs);
      this.#resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#resyncTimer);
    await Promise.all(this.#reflectors.map((r) => r.stop()));
  }

  // The reflectors' side: they own the keys of their namespace (or all keys).

  /** @internal */
  get client(): ObjectClient {
    return this.#client;
  }

  /** @internal */
  get logger(): Logger {
    return this.#log;
  }

  /** @internal */
  upsert(obj: T): void {
    // As controller-runtime's default transform: nothing here reads managedFields, and they are
    // often the larger part of an object, so the cache does not keep them.
    if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#index(key, obj);
    if (old) this.#emit('update', old, obj);
    else this.#emit('add', obj);
  }

  /** @internal */
  remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (!old) return;
    this.#unindex(key, old);
    this.#items.delete(key);
    this.#emit('delete', obj);
  }

  /** @internal A fresh list replaces what the namespace held: gone objects are deleted, changed ones updated. */
  replace(namespace: string | undefined, items: T[]): void {
    const listed = new Set(items.map(keyOf));
    for (const [key, old] of this.#items) {
      if ((namespace === undefined || old.metadata?.namespace === namespace) && !listed.has(key)) this.remove(old);
    }
    for (const obj of items) {
      const old = this.#items.get(keyOf(obj));
      if (!old || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.upsert(obj);
    }
  }

  /** @internal */
  markSynced(): void {
    if (this.hasSynced()) for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  #emit(kind: 'add' | 'update' | 'delete', obj: T, newObj?: T): void {
    for (const h of this.#handlers) this.#call(h, kind, obj, newObj);
  }

  #call(handler: EventHandler<T>, kind: 'add' | 'update' | 'delete', obj: T, newObj?: T): void {
    try {
      if (kind === 'update') handler.update?.(obj, newObj as T);
      else handler[kind]?.(obj);
    } catch (err) {
      this.#log.error({ err }, 'event handler failed');
    }
  }
}

interface WatchEnd {
  /** The server said 410 Gone: our resourceVersion is too old to resume from. */
  expired: boolean;
  err?: unknown;
}

/** client-go's Reflector for one namespace (or all): list, then watch from the list's resourceVersion. */
class Reflector<T extends KubernetesObject> {
  synced = false;
  readonly #informer: Informer<T>;
  readonly #namespace: string | undefined;
  #resourceVersion = '';
  #backoffMs = 0;
  #stopped = false;
  #abort: AbortController | undefined;
  readonly #pause = new WakeableSleep();
  #done: Promise<void> | undefined;

  constructor(informer: Informer<T>, namespace: string | undefined) {
    this.#informer = informer;
    this.#namespace = namespace;
  }

  run(): Promise<void> {
    this.#done = this.#loop();
    return this.#done;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#pause.wake();
    await this.#done;
  }

  get #log(): Logger {
    return this.#informer.logger;
  }

  get #path(): string {
    return collectionPath(this.#informer.resource, this.#namespace);
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#list();
        const end = await this.#watchOnce();
        if (this.#stopped) break;
        if (end.expired) {
          this.#log.info({ namespace: this.#namespace, resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone), relisting');
          this.#resourceVersion = '';
          continue;
        }
        if (end.err === undefined) continue; // the server ended the watch (its timeout): resume at once
        if (end.err instanceof Error && end.err.name === 'TimeoutError') {
          // Nothing came for longer than the watch's own timeout: a dead connection. Resume from where we are.
          this.#log.debug({ namespace: this.#namespace }, 'watch went silent, reconnecting');
          continue;
        }
        throw end.err;
      } catch (err) {
        if (this.#stopped) break;
        this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs ? this.#backoffMs * 2 : BACKOFF_INITIAL_MS);
        const delay = this.#backoffMs * (1 + Math.random());
        const status = apiStatus(err);
        const reason =
          status?.code === 404 ? { notServed: `${this.#path} is not served (is the CRD installed?)` } : status ? { status: `${status.code} ${status.reason}: ${status.message}` } : { err };
        this.#log.warn({ ...reason, namespace: this.#namespace, retryInMs: Math.round(delay) }, 'list/watch failed, retrying');
        await this.#pause.sleep(delay);
      }
    }
  }

  async #list(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#informer.client.list<T>(this.#informer.resource, this.#namespace, { limit: PAGE_SIZE, continue: cont });
      // List items come without apiVersion and kind; watch events carry them. Keep the cache uniform.
      for (const item of page.items) items.push({ ...item, apiVersion: apiVersionOf(this.#informer.resource), kind: this.#informer.resource.kind });
      resourceVersion ||= page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.#informer.replace(this.#namespace, items);
    this.#resourceVersion = resourceVersion;
    this.#backoffMs = 0;
    if (!this.synced) {
      this.synced = true;
      this.#informer.markSynced();
    }
  }

  async #watchOnce(): Promise<WatchEnd> {
    const abort = new AbortController();
    this.#abort = abort;
    if (this.#stopped) return { expired: false };
    let expired = false;
    let streamError: unknown;
    const onEvent = (type: string, object: Record<string, unknown>): void => {
      const obj = object as T & { code?: number; reason?: string; message?: string };
      switch (type) {
        case 'ADDED':
        case 'MODIFIED':
          this.#informer.upsert(obj);
          break;
        case 'DELETED':
          this.#informer.remove(obj);
          break;
        case 'BOOKMARK':
          break;
        case 'ERROR':
          if (obj.code === 410) expired = true;
          else streamError = Object.assign(new Error(`watch error: ${obj.message ?? 'unknown'}`), { statusCode: obj.code });
          return;
        default:
          return;
      }
      this.#backoffMs = 0;
      this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
    };
    // client-go's spread of watch lifetimes (5 to 10 minutes), so clients don't reconnect in step.
    const timeoutSeconds = Math.floor(300 * (1 + Math.random()));
    try {
      await this.#informer.client.rest.watch(this.#path, { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, onEvent, {
        signal: abort.signal,
        idleTimeoutMs: (timeoutSeconds + 30) * 1000,
      });
    } catch (err) {
      if (this.#stopped) return { expired: false };
      if (isGone(err)) return { expired: true };
      return { expired, err };
    }
    return expired ? { expired } : { expired, err: streamError };
  }

}
