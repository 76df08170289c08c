// What the benchmark and the resilience suite create: lab accounts in a geography with at least
// three regions, each with a gallery, and ImageExports spread over them and a handful of images.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, IMAGE_EXPORT, RESOURCES, SHARD_LABEL, VERSION, type ImageExport, type LabAccount } from '../src/api/index.ts';

import { isConditionTrue, type Condition, type ObjectClient } from '../src/runtime/index.ts';

/** Three of the United States geography's regions; eastus is the accounts' location. */
export const REGIONS = ['eastus', 'westus', 'westus2'];

export const accountName = (i: number) => `bench-acct-${i}`;
export const galleryName = (i: number) => `benchgallery${i}`;
export const imageName = (i: number) => `lab-image-${i}`;
export const exportName = (i: number) => `export-${String(i).padStart(5, '0')}`;

/**
 * The shard of account i (and of its attachment and exports) when `shards` operators share the work:
 * i mod shards, where shard 0 is the replica without a key and shard k the one with key `shard-k`.
 */
export function shardOf(account: number, shards: number): string | undefined {
  const shard = account % shards;
  return shard === 0 ? undefined : `shard-${shard}`;
}

function shardLabels(account: number, shards: number): { labels?: Record<string, string> } {
  const key = shardOf(account, shards);
  return key === undefined ? {} : { labels: { [SHARD_LABEL]: key } };
}

const readyOf = (obj: { status?: { conditions?: unknown } } | undefined) => isConditionTrue(obj?.status?.conditions as Condition[] | undefined, 'Ready');

/** Runs `task` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Runs `produce` over `items` with at most `produceLimit` in flight, and `consume` on each result
 * as soon as it is produced, with at most `consumeLimit` in flight: a user creating objects and a
 * controller's workers taking them as they come.
 */
export async function pipeline<T, R>(items: readonly T[], produceLimit: number, produce: (item: T) => Promise<R>, consumeLimit: number, consume: (result: R) => Promise<void>): Promise<void> {
  const ready: R[] = [];
  const waiting: (() => void)[] = [];
  const wakeAll = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  let done = false;
  const producing = inParallel(items, produceLimit, async (item) => {
    ready.push(await produce(item));
    wakeAll();
  }).finally(() => {
    done = true;
    wakeAll();
  });
  const consumer = async () => {
    for (;;) {
      const next = ready.shift();
      if (next !== undefined) await consume(next);
      else if (done) return;
      else await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  await Promise.all([producing, ...Array.from({ length: Math.max(1, consumeLimit) }, consumer)]);
}

/**
 * `accounts` LabAccounts, each with a GalleryAttachment (labelled for their shard when `shards` > 1),
 * and waits until all are Ready with their gallery attached.
 */
export async function createAccounts(client: ObjectClient, namespace: string, accounts: number, timeoutMs = 120_000, shards = 1): Promise<void> {
  for (let i = 0; i < accounts; i++) {
    const account: LabAccount = {
      apiVersion: API_VERSION,
      kind: 'LabAccount',
      metadata: { name: accountName(i), namespace, ...shardLabels(i, shards) },
      spec: { location: 'eastus', replication: { regions: REGIONS } },
    };
    await client.create(RESOURCES.LabAccount, account);
    await client.create(RESOURCES.GalleryAttachment, {
      apiVersion: API_VERSION,
      kind: 'GalleryAttachment',
      metadata: { name: `bench-attachment-${i}`, namespace, ...shardLabels(i, shards) },
      spec: { labAccountRef: { name: accountName(i) }, gallery: { name: galleryName(i) } },
    });
  }
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < accounts; i++) {
    for (;;) {
      const a = await client.get<LabAccount>(RESOURCES.LabAccount, namespace, accountName(i));
      if (readyOf(a) && a?.status?.gallery?.id) break;
      if (Date.now() > deadline) throw new Error(`LabAccount ${accountName(i)} not Ready with a gallery after ${timeoutMs / 1000} s: ${JSON.stringify(a?.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export interface ExportShape {
  accounts: number;
  images: number;
  vmId: string;
  /** Operators sharing the work (labels follow the account's shard); default 1. */
  shards?: number;
}

/** Export i: account i mod accounts (and its shard), image i mod images, three regions, from the source VM. */
export function exportManifest(namespace: string, i: number, shape: ExportShape): ImageExport {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name: exportName(i), namespace, ...shardLabels(i % shape.accounts, shape.shards ?? 1) },
    spec: {
      labAccountRef: { name: accountName(i % shape.accounts) },
      source: { virtualMachineId: shape.vmId },
      image: { name: imageName(i % shape.images), osType: 'Windows' },
      replication: { regions: REGIONS },
    },
  };
}

/**
 * Watches a namespace's ImageExports and notes when each is first seen Ready, so create → Ready
 * is measured to the millisecond (condition timestamps have whole seconds only). Lists and watches
 * again when the server ends the watch; counts its own requests.
 */
export class ReadyWatch {
  readonly readyAt = new Map<string, number>();
  /** LIST and WATCH requests this watch made, to subtract from the server's counts. */
  readonly requests = { list: 0, watch: 0 };
  readonly #kc: KubeConfig;
  readonly #client: ObjectClient;
  readonly #namespace: string;
  #resourceVersion = '';
  #abort: AbortController | undefined;
  #stopped = false;
  readonly #onSeen: (e: ImageExport) => void;
  #waiters: { count: number; resolve: () => void }[] = [];

  /** `onSeen` is given every version of every export the watch receives. */
  constructor(kc: KubeConfig, client: ObjectClient, namespace: string, onSeen: (e: ImageExport) => void = () => undefined) {
    this.#kc = kc;
    this.#client = client;
    this.#namespace = namespace;
    this.#onSeen = onSeen;
  }

  async start(): Promise<void> {
    const list = await this.#client.list<ImageExport>(RESOURCES.ImageExport, this.#namespace);
    this.requests.list += 1;
    for (const e of list.items) this.#see(e);
    this.#resourceVersion = list.metadata.resourceVersion ?? '';
    await this.#watch();
  }

  /** Resolves once `count` exports have been seen Ready. */
  untilReady(count: number): Promise<void> {
    if (this.readyAt.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  async #watch(): Promise<void> {
    this.requests.watch += 1;
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${this.#namespace}/${IMAGE_EXPORT.plural}`;
    this.#abort = await new Watch(this.#kc).watch(
      path,
      { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true },
      (phase, obj: ImageExport) => {
        if (obj.metadata?.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
        if (phase === 'ADDED' || phase === 'MODIFIED') this.#see(obj);
      },
      // Ended by the server (timeout, 410 Gone): list again and go on; Ready is first-seen, so nothing is lost.
      () => {
        if (!this.#stopped) setTimeout(() => void this.start().catch(() => undefined), 100);
      },
    );
  }

  #see(e: ImageExport): void {
    this.#onSeen(e);
    const name = e.metadata.name ?? '';
    if (this.readyAt.has(name) || !readyOf(e)) return;
    this.readyAt.set(name, Date.now());
    this.#waiters = this.#waiters.filter((w) => {
      if (this.readyAt.size < w.count) return true;
      w.resolve();
      return false;
    });
  }
}
