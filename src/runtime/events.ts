import type { EventsV1Event, KubernetesObject } from '@kubernetes/client-node';
import { ObjectClient, microTime, type ResourceType } from './client.ts';
import type { RestClient } from './rest-client.ts';
import type { Logger } from '../log.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** events.k8s.io/v1 reportingController, e.g. labimages.io/imageexport-controller. */
  reportingController: string;
  /** The replica that reports (pod name, or host and a unique suffix). */
  reportingInstance: string;
  log: Logger;
  /** How long an isomorphic event keeps folding into the same series (client-go: 6 minutes). */
  seriesWindowMs?: number;
  /** How often a series' count is written back (client-go: 30 minutes). */
  seriesRefreshMs?: number;
}

interface Series {
  namespace: string;
  name: string;
  count: number;
  lastObserved: number;
  /** The count the API server has, or will have once `writes` settle. */
  written: number;
  /** The series' writes, in order: the create, then count updates. */
  writes: Promise<void>;
}

/** events.k8s.io/v1 Events, which the recorder writes. */
export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' };

/** An events.k8s.io/v1 Event as sent: client-node's type (compile time only), times as MicroTime text. */
type EventBody = Omit<EventsV1Event, 'eventTime'> & { eventTime: string };

/**
 * Events on events.k8s.io/v1 with client-go's (tools/events) folding: the first occurrence creates
 * an Event; the second, within the series window, turns it into a series (count 2) at once; later
 * ones only bump the count in memory, written back on the refresh tick and on `close`. Recording
 * never blocks nor fails a reconcile: errors are logged.
 */
export class EventRecorder {
  readonly #client: ObjectClient;
  readonly #options: Required<EventRecorderOptions>;
  readonly #series = new Map<string, Series>();
  readonly #pending = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;
  #seq = 0;

  constructor(rest: RestClient, options: EventRecorderOptions) {
    this.#client = new ObjectClient(rest);
    this.#options = { ...options, seriesWindowMs: options.seriesWindowMs ?? 6 * 60_000, seriesRefreshMs: options.seriesRefreshMs ?? 30 * 60_000 };
    this.#timer = setInterval(() => this.#refresh(), Math.min(this.#options.seriesWindowMs, this.#options.seriesRefreshMs));
    this.#timer.unref();
  }

  /** Records an event about `regarding`. `reason` is CamelCase; `action` says what was done (default Reconcile). */
  event(regarding: KubernetesObject, type: EventType, reason: string, note: string, action = 'Reconcile'): void {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const key = JSON.stringify([meta.uid, regarding.kind, namespace, meta.name, type, reason, action, note]);
    const now = Date.now();
    const series = this.#series.get(key);
    if (series && now - series.lastObserved < this.#options.seriesWindowMs) {
      series.count++;
      series.lastObserved = now;
      if (series.written === 1) this.#writeSeries(series);
      return;
    }
    const name = `${meta.name ?? 'unknown'}.${(BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}`;
    const fresh: Series = { namespace, name, count: 1, lastObserved: now, written: 1, writes: Promise.resolve() };
    this.#series.set(key, fresh);
    const body: EventBody = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.#options.reportingController,
      reportingInstance: this.#options.reportingInstance,
      action,
      reason,
      type,
      note: note.length > 1024 ? note.slice(0, 1021) + '...' : note,
      regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name: meta.name, namespace: meta.namespace, uid: meta.uid },
    };
    fresh.writes = this.#client.create(EVENTS, body).then(
      () => undefined,
      (err: unknown) => {
        this.#series.delete(key);
        this.#options.log.warn({ err, reason, object: `${namespace}/${meta.name}` }, 'could not record event');
      },
    );
    this.#track(fresh.writes);
  }

  /** Writes back pending series counts and waits for every write in flight. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const s of this.#series.values()) if (s.count !== s.written) this.#writeSeries(s);
    await Promise.all(this.#pending);
  }

  #refresh(): void {
    const now = Date.now();
    for (const [key, s] of this.#series) {
      if (s.count !== s.written) this.#writeSeries(s);
      if (now - s.lastObserved >= this.#options.seriesWindowMs) this.#series.delete(key);
    }
  }

  /** Queues a write of the series' current count after its earlier writes (never before the create). */
  #writeSeries(series: Series): void {
    const count = series.count;
    const lastObservedTime = microTime(series.lastObserved);
    series.written = count;
    series.writes = series.writes.then(async () => {
      try {
        await this.#client.mergePatch(EVENTS, series.namespace, series.name, { series: { count, lastObservedTime } });
      } catch (err) {
        this.#options.log.warn({ err, event: `${series.namespace}/${series.name}` }, 'could not update event series');
      }
    });
    this.#track(series.writes);
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}
