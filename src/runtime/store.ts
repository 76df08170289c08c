// The informer's cache as a store of its own: what reconcilers read (ObjectReader), what a
// Reflector writes (ReflectorStore), and the indexed map behind both, so that a unit test can fill
// a cache without an API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import { keyOf, objectKey } from './client.ts';
import { StringPool, internStrings } from './string-pool.ts';

export type IndexFunc<T> = (obj: T) => string[];

/** Strings the pool of one store keeps per generation: far more than the distinct values its objects share. */
const POOL_SIZE = 10_000;

/** What a reconciler reads of a kind: the cache, by name, by namespace or through an index. */
export interface ObjectReader<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[];
  /** How many objects are filed under `value` in index `name`, without collecting them. */
  countByIndex(name: string, value: string): number;
}

/** What a Reflector writes: its list results and watch events. */
export interface ReflectorStore<T> {
  /** A fresh list of `namespace` (undefined: all), page by page, is to replace what the store holds there. */
  relist(namespace: string | undefined): Relist<T>;
  upsert(obj: T): void;
  remove(obj: T): void;
}

/**
 * One list replacing a namespace's objects as its pages arrive: `add` each listed object (stored
 * at once when new or changed), then `finish` deletes what the list did not have. The store never
 * holds a second copy of the namespace: at most one page is held beside it.
 */
export interface Relist<T> {
  add(obj: T): void;
  finish(): void;
}

/** A change the store made: an object added, updated (with its old version) or deleted. */
export type StoreChange<T> = { type: 'add'; obj: T } | { type: 'update'; old: T; obj: T } | { type: 'delete'; obj: T };

/**
 * Objects by `namespace/name`, with named indexes kept current on every write. Each change is
 * handed to `onChange` (the informer's event handlers). Objects are shared: treat them as read-only.
 */
export class IndexedStore<T extends KubernetesObject> implements ObjectReader<T>, ReflectorStore<T> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #strings = new StringPool(POOL_SIZE);
  readonly #onChange: (change: StoreChange<T>) => void;

  constructor(onChange: (change: StoreChange<T>) => void = () => undefined) {
    this.#onChange = onChange;
  }

  /** Adds a named index (an object may file under several values), indexing what the store holds. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.#indexes.set(name, index);
    for (const [key, obj] of this.#items) fileUnder(index, fn(obj), key);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#items.get(objectKey(namespace, name));
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    return [...(index.get(value) ?? [])].map((key) => this.#items.get(key)).filter((o): o is T => o !== undefined);
  }

  countByIndex(name: string, value: string): number {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    return index.get(value)?.size ?? 0;
  }

  upsert(obj: T): void {
    // As controller-runtime's default transform: nothing here reads managedFields, and they are
    // often the larger part of an object, so the cache does not keep them. The strings objects
    // share are kept once (string-pool.ts).
    if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
    internStrings(obj, this.#strings);
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#index(key, obj);
    this.#onChange(old ? { type: 'update', old, obj } : { type: 'add', obj });
  }

  remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (!old) return;
    this.#unindex(key, old);
    this.#items.delete(key);
    this.#onChange({ type: 'delete', obj });
  }

  relist(namespace: string | undefined): Relist<T> {
    // What the list had is remembered by key alone (a few MiB at 100,000 objects), never by object.
    const listed = new Set<string>();
    return {
      add: (obj) => {
        const key = keyOf(obj);
        listed.add(key);
        const old = this.#items.get(key);
        if (!old || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.upsert(obj);
      },
      finish: () => {
        for (const [key, old] of this.#items) {
          if ((namespace === undefined || old.metadata?.namespace === namespace) && !listed.has(key)) this.remove(old);
        }
      },
    };
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) fileUnder(this.#indexes.get(name) as Map<string, Set<string>>, fn(obj), key);
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
}

function fileUnder(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (!keys) index.set(value, (keys = new Set()));
    keys.add(key);
  }
}
