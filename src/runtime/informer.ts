import type { KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { ObjectClient, type ResourceType } from './client.ts';
import { Reflector } from './reflector.ts';
import type { RestClient } from './rest-client.ts';
import { IndexedStore, type IndexFunc, type ObjectReader, type StoreChange } from './store.ts';

/**
 * Handlers see every change. A periodic resync (the sync period) calls `update` with the same
 * object as both arguments, which is how a handler can tell a resync from a real change.
 */
export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  /** Namespaces to list and watch; empty or absent means all. */
  namespaces?: string[];
  /** Only objects whose labels match this selector are cached (a shard's share); absent: all. */
  labelSelector?: string;
  /** How often every cached object is handed to `update` again (drift detection); 0 = never. */
  resyncMs?: number;
  log: Logger;
}

/**
 * A shared informer: a cache of one kind kept current by list+watch, with named indexes.
 *
 * client-go's shape (a Reflector per namespace writing into an indexed store) on the operator's own
 * RestClient; client-node's informer was no substitute (in 2.0.1 it stops for good on any watch
 * error but 410, asks for no bookmarks, has no indexes, no "synced" signal and no old object on update).
 *
 * Objects in the cache are shared: treat them as read-only (copy before changing).
 */
export class Informer<T extends KubernetesObject = KubernetesObject> implements ObjectCache<T>, ObjectReader<T> {
  readonly resource: ResourceType;
  readonly #log: Logger;
  readonly #resyncMs: number;
  readonly #store = new IndexedStore<T>((change) => this.#emit(change));
  readonly #handlers: EventHandler<T>[] = [];
  readonly #reflectors: Reflector<T>[];
  #resyncTimer: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];
  #started = false;

  constructor(rest: RestClient, resource: ResourceType, options: InformerOptions) {
    this.resource = resource;
    this.#log = options.log.child({ informer: `${resource.plural}.${resource.group}` });
    this.#resyncMs = options.resyncMs ?? 0;
    const client = new ObjectClient(rest);
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    this.#reflectors = namespaces.map(
      (namespace) =>
        new Reflector<T>({ store: this.#store, client, resource, namespace, labelSelector: options.labelSelector, log: this.#log, onSynced: () => this.#markSynced() }),
    );
  }

  /** Adds a named index; an object may file under several values. Add indexes before `start`. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#started) throw new Error(`index ${name} added after ${this.resource.plural} informer started`);
    this.#store.addIndex(name, fn);
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    for (const obj of this.#store.values()) call(handler, { type: 'add', obj }, this.#log);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#store.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#store.list(namespace);
  }

  byIndex(name: string, value: string): T[] {
    return this.#store.byIndex(name, value);
  }

  countByIndex(name: string, value: string): number {
    return this.#store.countByIndex(name, value);
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
        for (const obj of this.#store.values()) this.#emit({ type: 'update', old: obj, obj });
      }, this.#resyncMs);
      this.#resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#resyncTimer);
    await Promise.all(this.#reflectors.map((r) => r.stop()));
  }

  #markSynced(): void {
    if (this.hasSynced()) for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  #emit(change: StoreChange<T>): void {
    for (const h of this.#handlers) call(h, change, this.#log);
  }
}

/** A handler that throws is logged, and the others still run. */
function call<T>(handler: EventHandler<T>, change: StoreChange<T>, log: Logger): void {
  try {
    if (change.type === 'update') handler.update?.(change.old, change.obj);
    else handler[change.type]?.(change.obj);
  } catch (err) {
    log.error({ err }, 'event handler failed');
  }
}
