import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { ObjectClient, microTime, type ResourceType } from './client.ts';
import { isAlreadyExists, isConflict } from './errors.ts';
import type { RestClient } from './rest-client.ts';
import { WakeableSleep } from './sleep.ts';

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name (controller-runtime's LeaderElectionID). */
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
}

const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };

/** The fields of a coordination.k8s.io/v1 Lease that leader election uses; times are MicroTime text. */
interface Lease extends KubernetesObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it:
 * try to acquire every retry period; a lease held by someone else counts as expired a lease duration
 * after *we* last saw it change (our clock, never theirs); the leader renews every retry period and
 * gives up when it could not renew within the renew deadline. Writes are conditional on the
 * resourceVersion read, so two candidates can never both win.
 */
export class LeaderElector {
  readonly #client: ObjectClient;
  readonly #o: Required<LeaderElectionOptions>;
  #observed = '';
  #observedAt = 0;
  #leading = false;
  #stopped = false;
  readonly #pause = new WakeableSleep();

  constructor(rest: RestClient, options: LeaderElectionOptions) {
    this.#client = new ObjectClient(rest);
    this.#o = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
    };
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves true once this candidate leads, false if `stop` came first. */
  async acquire(): Promise<boolean> {
    this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity }, 'attempting to acquire leader lease');
    while (!this.#stopped) {
      if (await this.#tryAcquireOrRenew()) {
        this.#leading = true;
        this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}` }, 'successfully acquired lease');
        return true;
      }
      await this.#pause.sleep(this.#o.retryPeriodMs * (1 + 0.2 * Math.random()));
    }
    return false;
  }

  /** While leading, renews; resolves when leadership is lost (true) or `stop` was called (false). */
  async renewUntilLost(): Promise<boolean> {
    let lastRenew = Date.now();
    while (!this.#stopped) {
      await this.#pause.sleep(this.#o.retryPeriodMs);
      if (this.#stopped) break;
      if (await this.#tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew >= this.#o.renewDeadlineMs) {
        this.#leading = false;
        this.#o.log.error({ lease: `${this.#o.namespace}/${this.#o.name}` }, 'leader election lost');
        return true;
      }
    }
    return false;
  }

  stop(): void {
    this.#stopped = true;
    this.#pause.wake();
  }

  /** Hands the lease back (empty holder), so another candidate takes over at once, as client-go's ReleaseOnCancel. */
  async release(): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#read();
      if (lease?.spec?.holderIdentity !== this.#o.identity) return;
      const now = microTime();
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      await this.#client.replace(LEASES, lease);
      this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}` }, 'released leader lease');
    } catch (err) {
      this.#o.log.warn({ err }, 'could not release leader lease');
    }
  }

  #read(): Promise<Lease | undefined> {
    return this.#withTimeout(this.#client.get<Lease>(LEASES, this.#o.namespace, this.#o.name));
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#o;
    const leaseSeconds = Math.round(this.#o.leaseDurationMs / 1000);
    const now = microTime();
    try {
      const lease = await this.#read();
      if (!lease) {
        await this.#withTimeout(
          this.#client.create<Lease>(LEASES, { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } }),
        );
        this.#observe(identity, now);
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const record = `${holder}|${spec.renewTime ?? ''}`;
      if (record !== this.#observed) {
        this.#observed = record;
        this.#observedAt = Date.now();
      }
      const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
      if (holder && holder !== identity && this.#observedAt + durationMs > Date.now()) return false;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: now,
        acquireTime: holder === identity ? spec.acquireTime : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      };
      // replace sends metadata.resourceVersion as read: a concurrent writer makes this a 409.
      await this.#withTimeout(this.#client.replace(LEASES, lease));
      this.#observe(identity, now);
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) this.#o.log.warn({ err }, 'error acquiring or renewing lease');
      return false;
    }
  }

  #observe(holder: string, renewTime: string): void {
    this.#observed = `${holder}|${renewTime}`;
    this.#observedAt = Date.now();
  }

  // A hung request must not hold the loop past the renew deadline.
  #withTimeout<R>(p: Promise<R>): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('lease request timed out')), this.#o.renewDeadlineMs / 2);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

}
