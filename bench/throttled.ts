// `npm run bench`'s throttled429 scenario: N exports in one subscription (every account is
// Simulated, so one subscription and one principal) against an emulator with ARM's token buckets
// on, at ARM's sizes. Goals: zero 429s, and create → all Ready within 1.2× of what the buckets
// allow for the requests the operator made (for 1,000 exports: the writes beyond the first 200 at
// 10 a second, about 80 s).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { RESOURCES } from '../src/api/index.ts';
import { ARM_BUCKETS, OPERATION_TYPES, operationTypeOf, type OperationType } from '../src/azure/rate-limits.ts';
import { startEmulator, type RequestCounts, type RunningEmulator } from '../src/emulator/index.ts';
import type { ObjectClient } from '../src/runtime/index.ts';
import { admin, createSourceVm, portFor } from '../test/integration/controllers/imageexport-fixtures.ts';
import { sumMetric, type OperatorProcess } from './operator-process.ts';
import { round } from './report.ts';
import { ReadyWatch, createAccounts, exportManifest, exportName, inParallel } from './workload.ts';

export interface ThrottledRun {
  kc: KubeConfig;
  client: ObjectClient;
  createNamespace(name: string): Promise<string>;
  /** The operator (a child process) watching `namespace`, against this emulator. */
  startOperator(namespace: string, emulator: { url: string; caFile: string }): Promise<OperatorProcess>;
  exports: number;
  accounts: number;
  images: number;
  createConcurrency: number;
  timeoutSeconds: number;
  replicationSeconds: number;
  operationSeconds: number;
  say(line: string): void;
}

const counts = async (emulator: RunningEmulator) => (await admin(emulator, 'GET', '/_emulator/requests')) as RequestCounts;

/** Requests by ARM operation type between two counts. */
function byType(after: RequestCounts, before: RequestCounts): Record<OperationType, number> {
  const result: Record<OperationType, number> = { reads: 0, writes: 0, deletes: 0 };
  for (const [method, n] of Object.entries(after.byMethod)) result[operationTypeOf(method)] += n - (before.byMethod[method] ?? 0);
  return result;
}

/** The shortest time ARM's buckets (full at the start) let these requests through: the slowest operation type's. */
function allowedSeconds(requests: Record<OperationType, number>): Record<OperationType, number> {
  return Object.fromEntries(OPERATION_TYPES.map((type) => [type, Math.max(0, (requests[type] - ARM_BUCKETS[type].size) / ARM_BUCKETS[type].refillPerSecond)])) as Record<OperationType, number>;
}

export async function benchThrottled(run: ThrottledRun): Promise<Record<string, unknown>> {
  const n = run.exports;
  const dir = await mkdtemp(join(tmpdir(), 'labimage-bench-throttled-'));
  // The default config: ARM's buckets on, at ARM's sizes.
  const emulator = await startEmulator({ replicationSeconds: run.replicationSeconds, operationSeconds: run.operationSeconds });
  const caFile = join(dir, 'emulator-ca.pem');
  await writeFile(caFile, emulator.caPem);
  const namespace = await run.createNamespace('bench-throttled');
  const operator = await run.startOperator(namespace, { url: emulator.url, caFile });
  try {
    await operator.synced();
    run.say(`throttled429: operator pid ${operator.pid} synced; ${run.accounts} accounts in one subscription, ARM's buckets on...`);
    await createAccounts(run.client, namespace, run.accounts);
    const vmId = await createSourceVm(portFor(emulator), namespace, 'bench-source-vm');
    // What setting up spent comes back: the largest bucket (reads, 250 at 25 a second) is full within 10 s.
    await sleep(10_000);
    const shape = { accounts: run.accounts, images: run.images, vmId };
    const watch = new ReadyWatch(run.kc, run.client, namespace);
    await watch.start();
    const before = await counts(emulator);
    run.say(`throttled429: creating ${n} ImageExports...`);
    const started = performance.now();
    const creating = inParallel(Array.from({ length: n }, (_, i) => i), run.createConcurrency, async (i) => {
      await run.client.create(RESOURCES.ImageExport, exportManifest(namespace, i, shape));
    });
    const progress = setInterval(() => run.say(`  ${watch.readyAt.size} Ready after ${((performance.now() - started) / 1000).toFixed(0)} s`), 10_000);
    const allReady = await Promise.race([watch.untilReady(n).then(() => true), sleep(run.timeoutSeconds * 1000, false, { ref: false })]);
    clearInterval(progress);
    await creating;
    watch.stop();
    if (!allReady) throw new Error(`throttled429: only ${watch.readyAt.size} of ${n} exports Ready after ${run.timeoutSeconds} s (${exportName(0)} ...)`);
    const seconds = (performance.now() - started) / 1000;
    const after = await counts(emulator);
    const requests = byType(after, before);
    const allowed = allowedSeconds(requests);
    const bucketSeconds = Math.max(...Object.values(allowed));
    const metrics = await operator.metrics();
    const paced = (outcome: string) => sumMetric(metrics, 'labimages_arm_paced_requests_total', { outcome });
    return {
      exports: n,
      accounts: run.accounts,
      subscriptions: 1,
      seconds: round(seconds),
      throttled429: (after.byStatus['429'] ?? 0) - (before.byStatus['429'] ?? 0),
      requests,
      requestsPerExport: Object.fromEntries(OPERATION_TYPES.map((type) => [type, round(requests[type] / n)])),
      requestsPerExportByRoute: Object.fromEntries(
        Object.entries(after.byRoute)
          .map(([route, count]) => [route, round((count - (before.byRoute[route] ?? 0)) / n)] as const)
          .filter(([, perExport]) => perExport > 0),
      ),
      allowedSecondsByType: Object.fromEntries(OPERATION_TYPES.map((type) => [type, round(allowed[type])])),
      allowedSeconds: round(bucketSeconds),
      ratioToAllowed: bucketSeconds > 0 ? round(seconds / bucketSeconds) : null,
      // The brief's yardstick: one write per export, the writes beyond the first 200 at 10 a second.
      nominalWriteSeconds: round(Math.max(0, (n - ARM_BUCKETS.writes.size) / ARM_BUCKETS.writes.refillPerSecond)),
      pacedWaited: paced('waited'),
      pacedDeferred: paced('deferred'),
    };
  } finally {
    await operator.stop();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The scenario's rows of the printed table. */
export function throttledRows(f: Record<string, unknown>): [string, string | number, string?][] {
  const num = (key: string) => f[key] as number;
  const requests = f.requestsPerExport as Record<string, number>;
  const allowed = f.allowedSecondsByType as Record<string, number>;
  return [
    [`throttled429: exports in one subscription, ARM's buckets on`, num('exports')],
    ['429 answers', num('throttled429'), '0'],
    ['create → all Ready (s)', num('seconds')],
    ['what the buckets allow (s): reads / writes / deletes', `${allowed.reads} / ${allowed.writes} / ${allowed.deletes}`],
    ['ratio to what the buckets allow', String(f.ratioToAllowed), '≤ 1.2'],
    ['writes beyond the first 200 at 10/s (s)', num('nominalWriteSeconds')],
    ['ARM requests per export: reads / writes / deletes', `${requests.reads} / ${requests.writes} / ${requests.deletes}`],
    ['requests held back: waited / deferred', `${num('pacedWaited')} / ${num('pacedDeferred')}`],
  ];
}
