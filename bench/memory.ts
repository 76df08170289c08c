// `npm run bench -- --memory-only`: the operator holding many exports across many namespaces. It
// starts once on exports it has never seen (each gets its first status), then again, as a rollout
// or a failover would: the time to its first full sync, its RSS, and that a synced operator writes
// nothing. Then etcd is compacted and kube-apiserver restarted, so every watch resumes from a
// compacted resourceVersion (410 Gone) and the informers relist 100,000 objects: the relist must
// not double the operator's memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { RESOURCES } from '../src/api/index.ts';
import type { ControlPlane } from '../src/controlplane/controlplane.ts';
import type { ObjectClient } from '../src/runtime/index.ts';
import { difference, scrapeRequestTotals, writes } from './apiserver-requests.ts';
import type { OperatorProcess } from './operator-process.ts';
import { sumMetric } from './operator-process.ts';
import { round } from './report.ts';
import { exportManifest, inParallel } from './workload.ts';

export interface MemoryBenchSetup {
  plane: ControlPlane;
  kc: KubeConfig;
  client: ObjectClient;
  /** `labimage run` on every namespace, at log level info (the relist is seen in its log). */
  startOperator(): Promise<OperatorProcess>;
  say(line: string): void;
}

export interface MemoryBenchOptions {
  objects: number;
  namespaces: number;
  images: number;
  createConcurrency: number;
}

const SYNC_TIMEOUT_MS = 30 * 60_000;
const RELIST_TIMEOUT_MS = 5 * 60_000;

const memoryNamespace = (i: number) => `bench-memory-${String(i).padStart(3, '0')}`;

/** Waits until the operator has reconciled at least `n` exports and its queue is empty. */
async function reconciledOnce(operator: OperatorProcess, n: number): Promise<void> {
  for (;;) {
    const metrics = await operator.metrics();
    const reconciled = sumMetric(metrics, 'controller_runtime_reconcile_total', { controller: 'imageexport' });
    if (reconciled >= n && sumMetric(metrics, 'workqueue_depth', { name: 'imageexport' }) === 0) return;
    await sleep(2000);
  }
}

export async function benchMemory(setup: MemoryBenchSetup, options: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const { objects: n, namespaces } = options;
  const { say } = setup;
  const core = setup.kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < namespaces; i++) await core.createNamespace({ body: { metadata: { name: memoryNamespace(i) } } });
  say(`creating ${n} ImageExports in ${namespaces} namespaces, of an account that does not exist (the controller records that and waits)...`);
  const shape = { accounts: 1, images: options.images, vmId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/labimages-bench-memory/providers/Microsoft.Compute/virtualMachines/absent' };
  let created = 0;
  const progress = setInterval(() => say(`  ${created} created`), 30_000);
  await inParallel(Array.from({ length: n }, (_, i) => i), options.createConcurrency, async (i) => {
    await setup.client.create(RESOURCES.ImageExport, exportManifest(memoryNamespace(i % namespaces), i, shape));
    created += 1;
  });
  clearInterval(progress);

  say('first start: every export is new to the operator and gets its first status...');
  const first = await setup.startOperator();
  let started = performance.now();
  let firstRun;
  try {
    await first.synced(SYNC_TIMEOUT_MS);
    const syncSeconds = (performance.now() - started) / 1000;
    await reconciledOnce(first, n);
    firstRun = { syncSeconds: round(syncSeconds), reconciledSeconds: round((performance.now() - started) / 1000), peakRssMiB: round(await first.peakRssMiB(), 1) };
  } finally {
    await first.stop();
  }

  say(`restart (${firstRun.reconciledSeconds} s to reconcile all once): the time to a full sync, and the writes of an operator that finds nothing to change...`);
  const apiBefore = await scrapeRequestTotals(setup.kc);
  const operator = await setup.startOperator();
  try {
    started = performance.now();
    await operator.synced(SYNC_TIMEOUT_MS);
    const syncSeconds = (performance.now() - started) / 1000;
    const rssAfterSyncMiB = await operator.rssMiB();
    await reconciledOnce(operator, n);
    const reconciledSeconds = (performance.now() - started) / 1000;
    const writesOnceSynced = writes(difference(await scrapeRequestTotals(setup.kc), apiBefore));
    const rssBeforeRelistMiB = await operator.rssMiB();
    const peakRssMiB = await operator.peakRssMiB();

    say(`synced in ${syncSeconds.toFixed(1)} s; compacting etcd and restarting kube-apiserver, so the informers relist...`);
    await operator.resetPeakRss();
    const relisted = operator.nextLog(/imageexports\.labimages\.io.*"msg":"relisted"/);
    // Something written after the operator's last resourceVersion, so that compacting removes it.
    await core.createNamespacedConfigMap({ namespace: memoryNamespace(0), body: { metadata: { name: 'advance-revision' } } });
    await setup.plane.compactEtcd();
    const relistStarted = performance.now();
    await setup.plane.restartApiServer();
    // An operator older than the 'relisted' log line (--operator-rev) is given a while, then reported without it.
    const relistLine = await Promise.race([relisted, sleep(RELIST_TIMEOUT_MS, undefined, { ref: false })]);
    if (!relistLine) say(`no 'relisted' line from the operator within ${RELIST_TIMEOUT_MS / 1000} s: reporting the relist without its end`);
    const relistSeconds = (performance.now() - relistStarted) / 1000;
    // kube-apiserver's counters started again at zero when it restarted: all its writes since are the operator's.
    await sleep(5000);
    const writesAfterRelist = writes(difference(await scrapeRequestTotals(setup.kc), {}));
    return {
      objects: n,
      namespaces,
      firstStart: firstRun,
      syncSeconds: round(syncSeconds),
      reconciledSeconds: round(reconciledSeconds),
      writesOnceSynced,
      rssAfterSyncMiB: round(rssAfterSyncMiB, 1),
      rssMiB: round(rssBeforeRelistMiB, 1),
      peakRssMiB: round(Math.max(peakRssMiB, await operator.peakRssMiB()), 1),
      relist: {
        seconds: round(relistSeconds),
        objects: relistLine ? (JSON.parse(relistLine) as { objects?: number }).objects : undefined,
        rssBeforeMiB: round(rssBeforeRelistMiB, 1),
        peakRssMiB: round(await operator.peakRssMiB(), 1),
        rssAfterMiB: round(await operator.rssMiB(), 1),
        writes: writesAfterRelist,
      },
      cpuSeconds: round(await operator.cpuSeconds()),
    };
  } finally {
    await operator.stop();
  }
}
