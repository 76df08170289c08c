import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { apiVersionOf, collectionPath, type ObjectClient, type ResourceType } from './client.ts';
import { apiStatus, isGone } from './errors.ts';
import { WakeableSleep } from './sleep.ts';
import type { ReflectorStore } from './store.ts';

const PAGE_SIZE = 500;
const BACKOFF_INITIAL_MS = 800;
const BACKOFF_MAX_MS = 30_000;

export interface ReflectorOptions<T> {
  /** Where lists and watch events go. */
  store: ReflectorStore<T>;
  client: ObjectClient;
  resource: ResourceType;
  /** One namespace, or undefined for all. */
  namespace: string | undefined;
  /** Only objects whose labels match (a Kubernetes label selector); absent: all. */
  labelSelector?: string;
  log: Logger;
  /** Called once, after the first list. */
  onSynced(): void;
}

interface WatchEnd {
  /** The server said 410 Gone: our resourceVersion is too old to resume from. */
  expired: boolean;
  err?: unknown;
}

/** client-go's Reflector for one namespace (or all): list, then watch from the list's resourceVersion. */
export class Reflector<T extends KubernetesObject> {
  synced = false;
  readonly #options: ReflectorOptions<T>;
  #resourceVersion = '';
  #backoffMs = 0;
  #stopped = false;
  #abort: AbortController | undefined;
  readonly #pause = new WakeableSleep();
  #done: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
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

  get #path(): string {
    return collectionPath(this.#options.resource, this.#options.namespace);
  }

  async #loop(): Promise<void> {
    const { log, namespace } = this.#options;
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#list();
        const end = await this.#watchOnce();
        if (this.#stopped) break;
        if (end.expired) {
          log.info({ namespace, resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone), relisting');
          this.#resourceVersion = '';
          continue;
        }
        if (end.err === undefined) continue; // the server ended the watch (its timeout): resume at once
        if (end.err instanceof Error && end.err.name === 'TimeoutError') {
          // Nothing came for longer than the watch's own timeout: a dead connection. Resume from where we are.
          log.debug({ namespace }, 'watch went silent, reconnecting');
          continue;
        }
        throw end.err;
      } catch (err) {
        if (this.#stopped) break;
        await this.#backOff(err);
      }
    }
  }

  async #backOff(err: unknown): Promise<void> {
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs ? this.#backoffMs * 2 : BACKOFF_INITIAL_MS);
    const delay = this.#backoffMs * (1 + Math.random());
    const status = apiStatus(err);
    const reason = status?.code === 404 ? { notServed: `${this.#path} is not served (is the CRD installed?)` } : status ? { status: `${status.code} ${status.reason}: ${status.message}` } : { err };
    this.#options.log.warn({ ...reason, namespace: this.#options.namespace, retryInMs: Math.round(delay) }, 'list/watch failed, retrying');
    await this.#pause.sleep(delay);
  }

  /**
   * Lists in pages (`limit`/`continue`, one consistent snapshot) and hands each page to the store as
   * it arrives, so that a relist of 100,000 objects holds one page beside the cache, not a second
   * cache. A continue token that expires midway (410) fails the list, and the next one starts over.
   */
  async #list(): Promise<void> {
    const { client, resource, namespace, labelSelector, store, log } = this.#options;
    const started = performance.now();
    const relist = store.relist(namespace);
    const apiVersion = apiVersionOf(resource);
    let cont: string | undefined;
    let resourceVersion = '';
    let objects = 0;
    do {
      const page = await client.list<T>(resource, namespace, { limit: PAGE_SIZE, continue: cont, labelSelector });
      // List items come without apiVersion and kind; watch events carry them. Keep the cache uniform.
      for (const item of page.items) relist.add(Object.assign(item, { apiVersion, kind: resource.kind }));
      objects += page.items.length;
      resourceVersion ||= page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue || undefined;
    } while (cont);
    relist.finish();
    this.#resourceVersion = resourceVersion;
    log[this.synced ? 'info' : 'debug']({ namespace, objects, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) }, this.synced ? 'relisted' : 'listed');
    this.#backoffMs = 0;
    if (!this.synced) {
      this.synced = true;
      this.#options.onSynced();
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
          this.#options.store.upsert(obj);
          break;
        case 'DELETED':
          this.#options.store.remove(obj);
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
      await this.#options.client.rest.watch(this.#path, { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.#options.labelSelector }, onEvent, {
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
