// A controller in controller-runtime's sense (pkg/internal/controller): a work queue fed by event
// handlers, N workers, and what a reconcile's result does to the key. The Manager owns the caches,
// leader election and servers, and starts and stops its controllers.
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { keyOf, objectKey, splitKey, type ResourceType } from './client.ts';
import { isConflict } from './errors.ts';
import type { EventHandler, Informer } from './informer.ts';
import type { Metrics } from './metrics.ts';
import { RateLimitingQueue } from './queue.ts';
import { defaultControllerRateLimiter } from './ratelimiter.ts';

/** What a reconcile is about: a namespaced name, nothing more; the reconciler reads the rest. */
export interface Request {
  namespace: string;
  name: string;
}

/**
 * Done (nothing / {}); look again after `requeueAfter` milliseconds; or (`requeue`) again after the
 * queue's per-key backoff, as controller-runtime's Result.Requeue. A thrown error also means "again,
 * with backoff", and is logged and counted as an error.
 */
export interface Result {
  requeueAfter?: number;
  requeue?: boolean;
}

/** What a reconcile gets besides its request. */
export interface ReconcileContext {
  log: Logger;
  /** Fires when the controller stops or the reconcile runs past its timeout: pass it to every call that can wait. */
  signal: AbortSignal;
}

/** Decides whether an update of a watched object is worth a reconcile; resyncs always pass. */
export type UpdatePredicate = (oldObj: KubernetesObject, newObj: KubernetesObject) => boolean;

/** controller-runtime's GenerationChangedPredicate: skip updates that touched only status or metadata. */
export const generationChanged: UpdatePredicate = (oldObj, newObj) =>
  oldObj.metadata?.generation !== newObj.metadata?.generation || oldObj.metadata?.deletionTimestamp !== newObj.metadata?.deletionTimestamp;

/** Another kind whose changes map to keys of this controller's kind. */
export interface WatchSource {
  resource: ResourceType;
  map(obj: KubernetesObject): Request[];
  /** Filters its update events, as controller-runtime's Watches(..., WithPredicates); add, delete and resync always map. */
  predicate?: UpdatePredicate;
}

/**
 * A controller, in controller-runtime builder's terms: what it is *for* (its own kind), what it
 * *owns* (kinds whose controller ownerReference points at one of ours) and what it *watches*
 * (other kinds, mapped to our keys, typically through an informer index).
 */
export interface ControllerDefinition {
  name: string;
  for: ResourceType;
  /** Filters update events of the `for` kind (e.g. `generationChanged`); add, delete and resync always enqueue. */
  forPredicate?: UpdatePredicate;
  owns?: ResourceType[];
  watches?: WatchSource[];
  /** Workers for this controller; default: the manager's concurrency. */
  concurrency?: number;
  // `void` so that a reconciler with no result needs no `return {}`.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  reconcile(request: Request, context: ReconcileContext): Promise<Result | void>;
}

export interface ControllerOptions {
  /** The manager's shared informer of a kind. */
  informer(resource: ResourceType): Informer;
  metrics: Metrics;
  log: Logger;
  workers: number;
  /** A reconcile's signal fires after this long. */
  reconcileTimeoutMs: number;
}

export class Controller {
  readonly name: string;
  readonly #def: ControllerDefinition;
  readonly #options: ControllerOptions;
  readonly #queue: RateLimitingQueue<string>;
  readonly #workers: Promise<void>[] = [];
  readonly #stopping = new AbortController();

  constructor(def: ControllerDefinition, options: ControllerOptions) {
    this.name = def.name;
    this.#def = def;
    this.#options = options;
    this.#queue = new RateLimitingQueue<string>(defaultControllerRateLimiter(), options.metrics.queue(def.name));
    options.metrics.controller(def.name, options.workers);
    this.#watch();
  }

  start(): void {
    this.#options.log.info({ controller: this.name, workers: this.#options.workers }, 'starting workers');
    for (let i = 0; i < this.#options.workers; i++) this.#workers.push(this.#worker());
  }

  /** Takes no more work, fires the signal of every reconcile in flight, and resolves once they have returned. */
  async stop(): Promise<void> {
    this.#stopping.abort(new Error(`controller ${this.name} is stopping`));
    await Promise.all([this.#queue.shutDownWithDrain(), ...this.#workers]);
  }

  /** Event handlers that turn changes of the `for`, owned and watched kinds into keys. */
  #watch(): void {
    const { informer } = this.#options;
    const def = this.#def;
    const queue = this.#queue;
    const enqueue = (namespace: string | undefined, name: string) => queue.add(objectKey(namespace, name));
    const own: EventHandler<KubernetesObject> = {
      add: (o) => queue.add(keyOf(o)),
      update: (o, n) => {
        if (o === n || !def.forPredicate || def.forPredicate(o, n)) queue.add(keyOf(n));
      },
      delete: (o) => queue.add(keyOf(o)),
    };
    informer(def.for).addEventHandler(own);

    const owner = (o: KubernetesObject) => {
      for (const ref of o.metadata?.ownerReferences ?? []) {
        if (ref.controller && ref.kind === def.for.kind && ref.apiVersion.split('/')[0] === def.for.group) enqueue(o.metadata?.namespace, ref.name);
      }
    };
    for (const resource of def.owns ?? []) informer(resource).addEventHandler({ add: owner, update: (o, n) => (owner(o), owner(n)), delete: owner });

    for (const source of def.watches ?? []) {
      const mapped = (o: KubernetesObject) => {
        for (const r of source.map(o)) enqueue(r.namespace, r.name);
      };
      const update = (o: KubernetesObject, n: KubernetesObject) => {
        if (o !== n && source.predicate && !source.predicate(o, n)) return;
        mapped(o);
        mapped(n);
      };
      informer(source.resource).addEventHandler({ add: mapped, update, delete: mapped });
    }
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      await this.#reconcile(key);
    }
  }

  async #reconcile(key: string): Promise<void> {
    const { metrics } = this.#options;
    const request = splitKey(key);
    const log = this.#options.log.child({ controller: this.name, namespace: request.namespace, name: request.name, reconcileID: randomUUID() });
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const { signal, release } = this.#reconcileSignal();
    metrics.workers(this.name, 1);
    try {
      const result = await this.#def.reconcile(request, { log, signal });
      // controller-runtime's V(5) line: which replica reconciled which object, for whoever asks at trace level.
      log.trace({ result }, 'Reconcile done');
      if (result?.requeueAfter && result.requeueAfter > 0) {
        this.#queue.forget(key);
        this.#queue.addAfter(key, result.requeueAfter);
        metrics.reconciled(this.name, 'requeue_after', seconds());
      } else if (result?.requeue) {
        this.#queue.addRateLimited(key);
        metrics.reconciled(this.name, 'requeue', seconds());
      } else {
        this.#queue.forget(key);
        metrics.reconciled(this.name, 'success', seconds());
      }
    } catch (err) {
      this.#queue.addRateLimited(key);
      metrics.reconciled(this.name, 'error', seconds());
      // A conflict is the optimistic-concurrency check working: look again with fresh data.
      if (isConflict(err)) log.info({ err }, 'conflict, requeueing');
      else log.error({ err }, 'Reconciler error');
    } finally {
      release();
      metrics.workers(this.name, -1);
      this.#queue.done(key);
    }
  }

  /**
   * One reconcile's signal: fired by `stop` or after the timeout. A listener and a timer per
   * reconcile, both released when it returns (AbortSignal.any would keep every derived signal
   * reachable from the long-lived stop signal until it fires).
   */
  #reconcileSignal(): { signal: AbortSignal; release(): void } {
    const abort = new AbortController();
    const stopping = this.#stopping.signal;
    const onStop = () => abort.abort(stopping.reason);
    if (stopping.aborted) onStop();
    else stopping.addEventListener('abort', onStop, { once: true });
    const timeoutMs = this.#options.reconcileTimeoutMs;
    const timer = setTimeout(() => abort.abort(new DOMException(`the reconcile ran past its ${timeoutMs} ms timeout`, 'TimeoutError')), timeoutMs);
    return {
      signal: abort.signal,
      release: () => {
        clearTimeout(timer);
        stopping.removeEventListener('abort', onStop);
      },
    };
  }
}
