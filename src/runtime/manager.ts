import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { ObjectClient, apiVersionOf, keyOf, objectKey, splitKey, type ResourceType } from './client.ts';
import { isConflict } from './errors.ts';
import { EventRecorder } from './events.ts';
import { Informer, type EventHandler } from './informer.ts';
import { LeaderElector } from './leaderelection.ts';
import { Metrics } from './metrics.ts';
import { RateLimitingQueue } from './queue.ts';
import { RestClient } from './rest-client.ts';
import type { RestConfig } from './rest-config.ts';
import { defaultControllerRateLimiter } from './ratelimiter.ts';
import { HttpEndpoint, parseBindAddress } from './server.ts';

/** What a reconcile is about: a namespaced name, nothing more; the reconciler reads the rest. */
export interface Request {
  namespace: string;
  name: string;
}

/** Done (nothing / {}), or look again after `requeueAfter` milliseconds. A thrown error means "again, with backoff". */
export interface Result {
  requeueAfter?: number;
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
  reconcile(request: Request, log: Logger): Promise<Result | void>;
}

/** How a controller module registers: given the manager (informers, indexes, client, recorder), it returns its definition. */
export type ControllerSetup = (mgr: Manager) => ControllerDefinition | Promise<ControllerDefinition>;

export interface LeaderElectionConfig {
  namespace: string;
  /** The Lease's name; default lab-image-operator.labimages.io. */
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  /** The API server and credentials (`loadRestConfig`, or a control plane's `restConfig()`). */
  restConfig: RestConfig;
  log: Logger;
  /** Namespaces to watch; empty or absent: all. */
  namespaces?: string[];
  /** Every cached object is reconciled again this often (drift detection); default 10 minutes. */
  syncPeriodMs?: number;
  /** Workers per controller; default 1. */
  concurrency?: number;
  /** Absent: no leader election, this process reconciles. */
  leaderElection?: LeaderElectionConfig;
  /** HOST:PORT for /metrics; absent or "0": no metrics server. */
  metricsBindAddress?: string;
  /** HOST:PORT for /healthz and /readyz; absent or "0": no probe server. */
  healthProbeBindAddress?: string;
  /** How long `stop` waits for reconciles in flight; default 30 s (controller-runtime's default). */
  gracefulShutdownTimeoutMs?: number;
}

interface RunningController {
  def: ControllerDefinition;
  queue: RateLimitingQueue<string>;
  workers: Promise<void>[];
}

/**
 * Runs controllers: shared informers (started at once, on every replica, so a standby is warm),
 * then, on the leader only, N workers per controller over a rate-limited work queue.
 */
export class Manager {
  /** One pool of keep-alive connections for every client, informer and recorder of the manager. */
  readonly rest: RestClient;
  readonly log: Logger;
  readonly client: ObjectClient;
  readonly metrics = new Metrics();
  readonly identity: string;
  readonly #options: ManagerOptions;
  readonly #informers = new Map<string, Informer>();
  readonly #controllers: RunningController[] = [];
  readonly #recorders = new Map<string, EventRecorder>();
  readonly #elector: LeaderElector | undefined;
  readonly #leaseName: string;
  readonly #endpoints: HttpEndpoint[] = [];
  #metricsAddress: AddressInfo | undefined;
  #healthAddress: AddressInfo | undefined;
  #synced = false;
  #started = false;
  #stopping: Promise<void> | undefined;
  #lost: Error | undefined;
  #stopRequested!: () => void;
  readonly #stopSignal = new Promise<void>((resolve) => (this.#stopRequested = resolve));

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.rest = new RestClient(options.restConfig);
    this.log = options.log;
    this.client = new ObjectClient(this.rest);
    const le = options.leaderElection;
    this.identity = le?.identity ?? `${hostname()}_${randomUUID()}`;
    this.#leaseName = le?.name ?? 'lab-image-operator.labimages.io';
    if (le) {
      this.#elector = new LeaderElector(this.rest, {
        namespace: le.namespace,
        name: this.#leaseName,
        identity: this.identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        log: options.log,
      });
    }
  }

  /** The shared informer (and cache) of a kind; add indexes to it in a controller's setup. */
  informer<T extends KubernetesObject = KubernetesObject>(resource: ResourceType): Informer<T> {
    const id = `${resource.plural}.${apiVersionOf(resource)}`;
    let informer = this.#informers.get(id);
    if (!informer) {
      informer = new Informer(this.rest, resource, { namespaces: this.#options.namespaces, resyncMs: this.#options.syncPeriodMs ?? 600_000, log: this.log });
      this.#informers.set(id, informer);
      if (this.#started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** An Event recorder reporting as labimages.io/<controller>. */
  eventRecorder(controller: string): EventRecorder {
    let recorder = this.#recorders.get(controller);
    if (!recorder) {
      recorder = new EventRecorder(this.rest, { reportingController: `labimages.io/${controller}`, reportingInstance: this.identity, log: this.log });
      this.#recorders.set(controller, recorder);
    }
    return recorder;
  }

  /** Runs each setup and adds the controller it returns. */
  async setup(setups: readonly ControllerSetup[]): Promise<void> {
    for (const setup of setups) this.add(await setup(this));
  }

  add(def: ControllerDefinition): void {
    if (this.#started) throw new Error(`controller ${def.name} added after the manager started`);
    if (this.#controllers.some((c) => c.def.name === def.name)) throw new Error(`controller ${def.name} registered twice`);
    const queue = new RateLimitingQueue<string>(defaultControllerRateLimiter(), this.metrics.queue(def.name));
    const running: RunningController = { def, queue, workers: [] };
    this.#controllers.push(running);
    this.metrics.controller(def.name, def.concurrency ?? this.#options.concurrency ?? 1);

    const enqueue = (namespace: string | undefined, name: string) => queue.add(objectKey(namespace, name));
    const own: EventHandler<KubernetesObject> = {
      add: (o) => queue.add(keyOf(o)),
      update: (o, n) => {
        if (o === n || !def.forPredicate || def.forPredicate(o, n)) queue.add(keyOf(n));
      },
      delete: (o) => queue.add(keyOf(o)),
    };
    this.informer(def.for).addEventHandler(own);

    const owner = (o: KubernetesObject) => {
      for (const ref of o.metadata?.ownerReferences ?? []) {
        if (ref.controller && ref.kind === def.for.kind && ref.apiVersion.split('/')[0] === def.for.group) enqueue(o.metadata?.namespace, ref.name);
      }
    };
    for (const resource of def.owns ?? []) this.informer(resource).addEventHandler({ add: owner, update: (o, n) => (owner(o), owner(n)), delete: owner });

    for (const source of def.watches ?? []) {
      const mapped = (o: KubernetesObject) => {
        for (const r of source.map(o)) enqueue(r.namespace, r.name);
      };
      const update = (o: KubernetesObject, n: KubernetesObject) => {
        if (o !== n && source.predicate && !source.predicate(o, n)) return;
        mapped(o);
        mapped(n);
      };
      this.informer(source.resource).addEventHandler({ add: mapped, update, delete: mapped });
    }
  }

  /** True once every informer has listed. */
  isReady(): boolean {
    return this.#synced;
  }

  isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#started && !this.#stopping;
  }

  metricsAddress(): AddressInfo | undefined {
    return this.#metricsAddress;
  }

  healthAddress(): AddressInfo | undefined {
    return this.#healthAddress;
  }

  /**
   * Starts servers and informers, waits for the caches, then (as leader) the workers. Resolves when
   * `stop` has finished; rejects if leadership was lost, after stopping, so the process exits non-zero
   * and restarts rather than reconcile alongside a new leader.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('manager already started');
    this.#started = true;
    await this.#serve();
    for (const informer of this.#informers.values()) informer.start();
    await Promise.race([Promise.all([...this.#informers.values()].map((i) => i.waitForSync())), this.#stopSignal]);
    if (!this.#stopping) {
      this.#synced = true;
      this.log.info({ informers: this.#informers.size }, 'caches synced');
      void this.#lead();
    }
    await this.#stopSignal;
    await this.#stopping;
    if (this.#lost) throw this.#lost;
  }

  /** Stops taking work, waits (up to the graceful timeout) for reconciles in flight, stops informers, releases the lease. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #lead(): Promise<void> {
    const elector = this.#elector;
    if (elector) {
      this.metrics.leader(this.#leaseName, false);
      if (!(await elector.acquire()) || this.#stopping) return;
      this.metrics.leader(this.#leaseName, true);
    }
    this.#startWorkers();
    if (elector && (await elector.renewUntilLost())) {
      this.metrics.leader(this.#leaseName, false);
      this.#lost = new Error(`leader election lost: lease ${this.#options.leaderElection?.namespace}/${this.#leaseName}`);
      void this.stop();
    }
  }

  #startWorkers(): void {
    for (const c of this.#controllers) {
      const n = c.def.concurrency ?? this.#options.concurrency ?? 1;
      this.log.info({ controller: c.def.name, workers: n }, 'starting workers');
      for (let i = 0; i < n; i++) c.workers.push(this.#worker(c));
    }
  }

  async #worker(c: RunningController): Promise<void> {
    for (;;) {
      const key = await c.queue.get();
      if (key === undefined) return;
      await this.#reconcile(c, key);
    }
  }

  async #reconcile(c: RunningController, key: string): Promise<void> {
    const { def, queue } = c;
    const request = splitKey(key);
    const log = this.log.child({ controller: def.name, namespace: request.namespace, name: request.name, reconcileID: randomUUID() });
    const started = performance.now();
    this.metrics.workers(def.name, 1);
    try {
      const result = await def.reconcile(request, log);
      queue.forget(key);
      if (result?.requeueAfter && result.requeueAfter > 0) {
        queue.addAfter(key, result.requeueAfter);
        this.metrics.reconciled(def.name, 'requeue_after', (performance.now() - started) / 1000);
      } else {
        this.metrics.reconciled(def.name, 'success', (performance.now() - started) / 1000);
      }
    } catch (err) {
      queue.addRateLimited(key);
      this.metrics.reconciled(def.name, 'error', (performance.now() - started) / 1000);
      // A conflict is the optimistic-concurrency check working: look again with fresh data.
      if (isConflict(err)) log.info({ err }, 'conflict, requeueing');
      else log.error({ err }, 'Reconciler error');
    } finally {
      this.metrics.workers(def.name, -1);
      queue.done(key);
    }
  }

  async #serve(): Promise<void> {
    const metrics = parseBindAddress(this.#options.metricsBindAddress ?? '0');
    if (metrics) {
      const endpoint = new HttpEndpoint({
        '/metrics': async (_req, res) => {
          const body = await this.metrics.registry.metrics();
          res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
        },
      });
      this.#endpoints.push(endpoint);
      this.#metricsAddress = await endpoint.listen(metrics);
      this.log.info({ address: this.#metricsAddress }, 'serving metrics');
    }
    const health = parseBindAddress(this.#options.healthProbeBindAddress ?? '0');
    if (health) {
      const endpoint = new HttpEndpoint({
        '/healthz': (_req, res) => void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n'),
        '/readyz': (_req, res) => {
          if (this.#synced && !this.#stopping) res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
          else res.writeHead(503, { 'Content-Type': 'text/plain' }).end(this.#stopping ? 'shutting down\n' : 'caches not synced\n');
        },
      });
      this.#endpoints.push(endpoint);
      this.#healthAddress = await endpoint.listen(health);
      this.log.info({ address: this.#healthAddress }, 'serving health probes');
    }
  }

  async #shutdown(): Promise<void> {
    this.#stopRequested();
    this.log.info('stopping: no new work, waiting for reconciles in flight');
    this.#elector?.stop();
    const timeoutMs = this.#options.gracefulShutdownTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all(this.#controllers.flatMap((c) => [c.queue.shutDownWithDrain(), ...c.workers])).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    if (!(await Promise.race([drained, timedOut]))) this.log.warn({ timeoutMs }, 'reconciles still running after the graceful shutdown timeout');
    clearTimeout(timer);
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    await this.#elector?.release();
    await Promise.all([...this.#recorders.values()].map((r) => r.close()));
    await Promise.all(this.#endpoints.map((e) => e.close()));
    this.rest.close();
    this.log.info('stopped');
  }
}
