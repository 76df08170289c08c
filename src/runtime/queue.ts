import type { RateLimiter } from './ratelimiter.ts';

/** What a queue reports; the manager backs it with controller-runtime's workqueue_* metrics. */
export interface QueueMetrics {
  added(): void;
  depth(n: number): void;
  /** Seconds an item waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held an item. */
  worked(seconds: number): void;
  retried(): void;
}

const noMetrics: QueueMetrics = { added() {}, depth() {}, queued() {}, worked() {}, retried() {} };

/**
 * A work queue with client-go's guarantees, from three sets: `#order` (FIFO of keys waiting),
 * `#dirty` (keys that need processing) and `#processing` (keys a worker holds).
 * - `add` of a dirty key does nothing: duplicates collapse.
 * - `add` of a key being processed only marks it dirty; `done` puts it back in the queue, so the
 *   key runs again, after, and never on two workers at once.
 * - After `shutDown`, `get` hands out nothing more (work left in the queue is level-based state that
 *   the next run or leader rebuilds); `shutDownWithDrain` also waits for the keys workers hold.
 */
export class WorkQueue<T> {
  #order: T[] = [];
  #head = 0;
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  readonly #enqueuedAt = new Map<T, number>();
  readonly #startedAt = new Map<T, number>();
  #getters: ((item: T | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;
  protected readonly metrics: QueueMetrics;

  constructor(metrics: QueueMetrics = noMetrics) {
    this.metrics = metrics;
  }

  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.metrics.added();
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    this.#enqueuedAt.set(item, performance.now());
    const getter = this.#getters.shift();
    if (getter) {
      this.#take(item);
      getter(item);
      return;
    }
    this.#order.push(item);
    this.metrics.depth(this.len());
  }

  len(): number {
    return this.#order.length - this.#head;
  }

  /** The next key, held by the caller until `done`; undefined once the queue is shut down. */
  get(): Promise<T | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    if (this.len() > 0) {
      const item = this.#order[this.#head] as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
        this.#order = this.#order.slice(this.#head);
        this.#head = 0;
      }
      this.metrics.depth(this.len());
      this.#take(item);
      return Promise.resolve(item);
    }
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(item: T): void {
    const started = this.#startedAt.get(item);
    if (started !== undefined) this.metrics.worked((performance.now() - started) / 1000);
    this.#startedAt.delete(item);
    this.#processing.delete(item);
    if (this.#dirty.has(item) && !this.#shuttingDown) {
      this.#enqueuedAt.set(item, performance.now());
      const getter = this.#getters.shift();
      if (getter) {
        this.#take(item);
        getter(item);
      } else {
        this.#order.push(item);
        this.metrics.depth(this.len());
      }
    }
    if (this.#processing.size === 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops handing out keys; workers blocked in `get` receive undefined. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    this.#order = [];
    this.#head = 0;
    this.#dirty.clear();
    this.metrics.depth(0);
  }

  /** Shuts down and resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #take(item: T): void {
    const enqueued = this.#enqueuedAt.get(item);
    if (enqueued !== undefined) this.metrics.queued((performance.now() - enqueued) / 1000);
    this.#enqueuedAt.delete(item);
    this.#processing.add(item);
    this.#startedAt.set(item, performance.now());
    this.#dirty.delete(item);
  }
}

/** Adds `addAfter`: one timer per waiting key; a second `addAfter` keeps the earlier deadline. */
export class DelayingQueue<T> extends WorkQueue<T> {
  readonly #waiting = new Map<T, { readyAt: number; timer: NodeJS.Timeout }>();

  addAfter(item: T, delayMs: number): void {
    if (this.isShuttingDown()) return;
    this.metrics.retried();
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = performance.now() + delayMs;
    const waiting = this.#waiting.get(item);
    if (waiting && waiting.readyAt <= readyAt) return;
    if (waiting) clearTimeout(waiting.timer);
    const timer = setTimeout(() => {
      this.#waiting.delete(item);
      this.add(item);
    }, delayMs);
    timer.unref();
    this.#waiting.set(item, { readyAt, timer });
  }

  override shutDown(): void {
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    super.shutDown();
  }
}

/** Adds client-go's rate-limited requeue: `addRateLimited` waits what the limiter says; `forget` on success. */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly #limiter: RateLimiter<T>;

  constructor(limiter: RateLimiter<T>, metrics?: QueueMetrics) {
    super(metrics);
    this.#limiter = limiter;
  }

  addRateLimited(item: T): void {
    this.addAfter(item, this.#limiter.when(item));
  }

  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
