import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { ObjectClient, apiVersionOf, type ResourceType } from './client.ts';
import { Controller, type ControllerDefinition } from './controller.ts';
import { EventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { LeaderElector } from './leaderelection.ts';
import { MetricsAuthorizer, metricsServingCertificate } from './metrics-auth.ts';
import { Metrics } from './metrics.ts';
import { RestClient } from './rest-client.ts';
import type { RestConfig } from './rest-config.ts';
import { HttpEndpoint, parseBindAddress } from './server.ts';

/** `--sync-period`'s default, controller-runtime's: every cached object is reconciled again this often. */
export const DEFAULT_SYNC_PERIOD_MS = 10 * 60_000;
/** How long one reconcile may run before its signal fires (a hung ARM call must not hold a worker). */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 2 * 60_000;
/** How long `stop` waits for reconciles in flight: controller-runtime's default. */
export const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS = 30_000;
/** The leader election Lease's name (controller-runtime's LeaderElectionID) unless configured. */
export const DEFAULT_LEASE_NAME = 'lab-image-operator.labimages.io';

/** How a controller module registers: given the manager (informers, indexes, client, recorder), it returns its definition. */
export type ControllerSetup = (mgr: Manager) => ControllerDefinition | Promise<ControllerDefinition>;

export interface LeaderElectionConfig {
  namespace: string;
  /** The Lease's name; default DEFAULT_LEASE_NAME. */
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
  /**
   * Every informer caches only objects whose labels match this selector (controller-runtime's
   * cache DefaultLabelSelector): what is not cached is never reconciled. A shard's share; absent: all.
   */
  labelSelector?: string;
  /** Every cached object is reconciled again this often (drift detection); default DEFAULT_SYNC_PERIOD_MS. */
  syncPeriodMs?: number;
  /** Workers per controller; default 1. */
  concurrency?: number;
  /** A reconcile's AbortSignal fires after this long; default DEFAULT_RECONCILE_TIMEOUT_MS. */
  reconcileTimeoutMs?: number;
  /** Absent: no leader election, this process reconciles. */
  leaderElection?: LeaderElectionConfig;
  /** HOST:PORT for /metrics; absent or "0": no metrics server. */
  metricsBindAddress?: string;
  /** Serve /metrics over HTTPS to callers the API server authenticates and allows `get` on /metrics (controller-runtime's --metrics-secure). */
  metricsSecure?: boolean;
  /** HOST:PORT for /healthz and /readyz; absent or "0": no probe server. */
  healthProbeBindAddress?: string;
  /** How long `stop` waits for reconciles in flight (their signals fired); default DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS. */
  gracefulShutdownTimeoutMs?: number;
}

/**
 * Runs controllers: shared informers (started at once, on every replica, so a standby is warm),
 * leader election, the metrics and probe servers, and, on the leader only, the controllers' workers.
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
  readonly #controllers: Controller[] = [];
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
    this.#leaseName = le?.name ?? DEFAULT_LEASE_NAME;
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

  /** Every cached object is reconciled again this often (`--sync-period`). */
  get syncPeriodMs(): number {
    return this.#options.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  }

  /** The shared informer (and cache) of a kind; add indexes to it in a controller's setup. */
  informer<T extends KubernetesObject = KubernetesObject>(resource: ResourceType): Informer<T> {
    const id = `${resource.plural}.${apiVersionOf(resource)}`;
    let informer = this.#informers.get(id);
    if (!informer) {
      const { namespaces, labelSelector } = this.#options;
      informer = new Informer(this.rest, resource, { namespaces, labelSelector, resyncMs: this.syncPeriodMs, log: this.log });
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
    if (this.#controllers.some((c) => c.name === def.name)) throw new Error(`controller ${def.name} registered twice`);
    this.#controllers.push(
      new Controller(def, {
        informer: (resource) => this.informer(resource),
        metrics: this.metrics,
        log: this.log,
        workers: def.concurrency ?? this.#options.concurrency ?? 1,
        reconcileTimeoutMs: this.#options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
      }),
    );
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
    for (const controller of this.#controllers) controller.start();
  }

  async #serve(): Promise<void> {
    const metrics = parseBindAddress(this.#options.metricsBindAddress ?? '0');
    if (metrics) {
      const secure = this.#options.metricsSecure ?? false;
      const authorizer = secure ? new MetricsAuthorizer(this.rest) : undefined;
      const endpoint = new HttpEndpoint(
        {
          '/metrics': async (req, res) => {
            const verdict = authorizer ? await authorizer.check(req, '/metrics') : undefined;
            if (verdict && verdict.status !== 200) {
              res.writeHead(verdict.status, { 'Content-Type': 'text/plain' }).end(`${verdict.message ?? ''}\n`);
              return;
            }
            const body = await this.metrics.registry.metrics();
            res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
          },
        },
        secure ? await metricsServingCertificate() : undefined,
      );
      this.#endpoints.push(endpoint);
      this.#metricsAddress = await endpoint.listen(metrics);
      this.log.info({ address: this.#metricsAddress, secure }, 'serving metrics');
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
    this.log.info('stopping: no new work, cancelling the calls of reconciles in flight and waiting for them');
    this.#elector?.stop();
    const timeoutMs = this.#options.gracefulShutdownTimeoutMs ?? DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all(this.#controllers.map((c) => c.stop())).then(() => true);
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
