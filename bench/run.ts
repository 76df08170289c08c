// `npm run bench`: the operator (a child process, `labimage run`) against its own local control
// plane and a standalone emulator with near-instant replication. Measures N exports from create to
// Ready against a floor (the same status writes by a plain loop), the idle steady state, and the
// operator's RSS and CPU. `--memory-only` loads --objects exports into its cache and reports RSS.
// bench/README.md states the goals.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { customResourceDefinitions, RESOURCES, type ImageExport } from '../src/api/index.ts';
import { ControlPlane } from '../src/controlplane/controlplane.ts';
import { installCrds } from '../src/controlplane/install-crds.ts';

import { defaultConfigDocument, startEmulator, type RequestCounts, type RunningEmulator } from '../src/emulator/index.ts';
import { ObjectClient, patchStatus } from '../src/runtime/index.ts';
import { admin, createSourceVm, portFor } from '../test/integration/controllers/imageexport-fixtures.ts';
import { byVerb, difference, scrapeRequestTotals, total, writes, type RequestTally } from './apiserver-requests.ts';
import { OperatorProcess, buildOperator, imageNodeFlags, sumMetric } from './operator-process.ts';
import { describeMachine, percentile, round, saveResult, table } from './report.ts';
import { benchThrottled, throttledRows } from './throttled.ts';
import { ReadyWatch, createAccounts, exportManifest, exportName, inParallel } from './workload.ts';

const { values: flags } = parseArgs({
  options: {
    exports: { type: 'string', default: '1000' },
    accounts: { type: 'string', default: '4' },
    images: { type: 'string', default: '5' },
    /** Operator workers per controller; absent: the operator's default (`labimage run --concurrency`). */
    concurrency: { type: 'string' },
    /** Objects the floor writes at once; 1 is a plain loop. */
    'floor-concurrency': { type: 'string', default: '1' },
    'idle-seconds': { type: 'string', default: '60' },
    'settle-seconds': { type: 'string', default: '5' },
    'replication-seconds': { type: 'string', default: '0.1' },
    'operation-seconds': { type: 'string', default: '0.1' },
    'create-concurrency': { type: 'string', default: '8' },
    'timeout-seconds': { type: 'string', default: '1800' },
    'memory-only': { type: 'boolean', default: false },
    /** floor: the ratio-to-floor run (ARM's buckets off); throttled429: exports in one subscription with them on; all: both. */
    scenario: { type: 'string', default: 'all' },
    objects: { type: 'string', default: '10000' },
    /** node flags for the operator, e.g. --operator-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
    'operator-node-args': { type: 'string', default: '' },
    /** dist (default): compiled as the container runs it; src: the .ts sources through type stripping. */
    'operator-from': { type: 'string', default: 'dist' },
    json: { type: 'boolean', default: false },
  },
});

const num = (name: keyof typeof flags): number => {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
  return n;
};

/** Progress for people goes to stderr, so that stdout's last line is the JSON. */
const say = (line: string) => process.stderr.write(`${line}\n`);

interface Setup {
  plane: ControlPlane;
  kc: KubeConfig;
  /** Absent: the sources, through type stripping. */
  operatorMain: string | undefined;
  emulator: RunningEmulator;
  caFile: string;
  client: ObjectClient;
  dir: string;
}

async function setUp(): Promise<Setup> {
  say('starting a local control plane...');
  const dir = await mkdtemp(join(tmpdir(), 'labimage-bench-'));
  let operatorMain: string | undefined;
  if (flags['operator-from'] !== 'src') {
    say('building the operator as the container image runs it...');
    // Inside the repo, so the compiled code finds its packages in node_modules.
    operatorMain = buildOperator(fileURLToPath(new URL('../node_modules/.cache/labimage-bench/dist', import.meta.url)));
  }
  const plane = await ControlPlane.start({ log: say });
  const kc = plane.kubeConfig();
  await installCrds(kc, customResourceDefinitions() as unknown as V1CustomResourceDefinition[]);
  // ARM's token buckets off: this scenario measures the operator against a floor of bare API writes, not ARM's budget.
  const config = { ...(defaultConfigDocument() as object), buckets: { enabled: false } };
  const emulator = await startEmulator({ replicationSeconds: num('replication-seconds'), operationSeconds: num('operation-seconds'), config });
  const caFile = join(dir, 'emulator-ca.pem');
  await writeFile(caFile, emulator.caPem);
  // The floor's writes go through the operator's own client (ObjectClient on one RestClient).
  return { plane, kc, operatorMain, emulator, caFile, client: new ObjectClient(plane.restConfig()), dir };
}

async function createNamespace(setup: Setup, name: string): Promise<string> {
  await setup.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

function startOperatorProcess(setup: Setup, namespace: string, emulator = { url: setup.emulator.url, caFile: setup.caFile }): Promise<OperatorProcess> {
  return OperatorProcess.start({
    kubeconfigPath: setup.plane.kubeconfigPath,
    emulatorUrl: emulator.url,
    emulatorCaFile: emulator.caFile,
    namespace,
    ...(flags.concurrency === undefined ? {} : { concurrency: num('concurrency') }),
    logLevel: 'warn',
    // The image's flags first, so that --operator-node-args can override them.
    nodeArgs: [...imageNodeFlags(), ...(flags['operator-node-args'] ? flags['operator-node-args'].split(' ') : [])],
    ...(setup.operatorMain ? { main: setup.operatorMain } : {}),
  });
}

const armRequests = async (emulator: RunningEmulator) => (await admin(emulator, 'GET', '/_emulator/requests')) as RequestCounts;

function armDifference(after: RequestCounts, before: RequestCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [route, n] of Object.entries(after.byRoute)) if (n - (before.byRoute[route] ?? 0) > 0) out[route] = n - (before.byRoute[route] ?? 0);
  return out;
}

const perExport = (counts: Record<string, number>, n: number) => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / n)]));

type Histories = Map<string, NonNullable<ImageExport['status']>[]>;

/** A ReadyWatch callback that notes every distinct status each export went through. */
function historyRecorder(histories: Histories): (e: ImageExport) => void {
  return (e) => {
    const list = histories.get(e.metadata.name ?? '') ?? [];
    const last = list.at(-1);
    if (e.status && e.status.observedGeneration !== -1 && JSON.stringify(last) !== JSON.stringify(e.status)) list.push(e.status);
    histories.set(e.metadata.name ?? '', list);
  };
}

/**
 * The floor: the status writes the operator made, replayed by a plain loop with the same client and
 * helper (`patchStatus`) on fresh objects, `concurrency` objects at a time, each object's writes in order.
 * It is timed as the operator is, until a watch has seen every object Ready, by the same watch doing
 * the same work per event, so both runs carry the same observer.
 */
async function measureFloor(setup: Setup, histories: Histories, shape: Parameters<typeof exportManifest>[2], concurrency: number): Promise<{ seconds: number; writes: number }> {
  const namespace = await createNamespace(setup, `bench-floor-${concurrency}`);
  const names = [...histories.keys()];
  const created = new Map<string, ImageExport>();
  await inParallel(names, num('create-concurrency'), async (name) => {
    const manifest = exportManifest(namespace, Number(name.slice('export-'.length)), shape);
    created.set(name, await setup.client.create(RESOURCES.ImageExport, manifest));
  });
  let count = 0;
  const watch = new ReadyWatch(setup.kc, setup.client, namespace, historyRecorder(new Map()));
  await watch.start();
  const started = performance.now();
  await inParallel(names, concurrency, async (name) => {
    let current = created.get(name) as ImageExport;
    for (const status of histories.get(name) ?? []) {
      const written = await patchStatus(setup.client, RESOURCES.ImageExport, current, status);
      if (written) {
        current = written;
        count += 1;
      }
    }
  });
  await watch.untilReady(names.length);
  const seconds = (performance.now() - started) / 1000;
  watch.stop();
  return { seconds, writes: count };
}

async function benchExports(setup: Setup): Promise<Record<string, unknown>> {
  const n = num('exports');
  const floorConcurrency = num('floor-concurrency');
  const kc = setup.kc;
  const namespace = await createNamespace(setup, 'bench');
  const operator = await startOperatorProcess(setup, namespace);
  try {
    await operator.synced();
    const startupRssMiB = await operator.rssMiB();
    say(`operator pid ${operator.pid} synced; creating ${num('accounts')} accounts with galleries...`);
    await createAccounts(setup.client, namespace, num('accounts'));
    const vmId = await createSourceVm(portFor(setup.emulator), namespace, 'bench-source-vm');
    const shape = { accounts: num('accounts'), images: num('images'), vmId };

    // Every status an export went through, as the watch saw it: the floor replays them.
    const histories: Histories = new Map();
    const watch = new ReadyWatch(kc, setup.client, namespace, historyRecorder(histories));
    await watch.start();
    const apiBefore = await scrapeRequestTotals(kc);
    const armBefore = await armRequests(setup.emulator);
    const cpuBefore = await operator.cpuSeconds();

    say(`creating ${n} ImageExports (${shape.accounts} accounts, ${shape.images} images, 3 regions each)...`);
    const createdAt = new Map<string, number>();
    const started = performance.now();
    const indexes = Array.from({ length: n }, (_, i) => i);
    const creating = inParallel(indexes, num('create-concurrency'), async (i) => {
      createdAt.set(exportName(i), Date.now());
      await setup.client.create(RESOURCES.ImageExport, exportManifest(namespace, i, shape));
    });
    const progress = setInterval(() => say(`  ${createdAt.size} created, ${watch.readyAt.size} Ready`), 10_000);
    const timeoutMs = num('timeout-seconds') * 1000;
    // An unref'd timer, so that the process exits when the run is over.
    const allReady = await Promise.race([watch.untilReady(n).then(() => true), sleep(timeoutMs, false, { ref: false })]);
    clearInterval(progress);
    await creating;
    if (!allReady) throw new Error(`only ${watch.readyAt.size} of ${n} exports Ready after ${timeoutMs / 1000} s`);
    const seconds = (performance.now() - started) / 1000;
    const cpuAtReady = (await operator.cpuSeconds()) - cpuBefore;
    // Work that follows the last Ready (its Event, the gallery catalogue refresh) belongs to the exports, not to the idle period.
    say(`all ${n} Ready after ${seconds.toFixed(1)} s; settling for ${num('settle-seconds')} s, then idle for ${num('idle-seconds')} s...`);
    await sleep(num('settle-seconds') * 1000);
    const own: RequestTally = { 'POST imageexports': n, 'LIST imageexports': watch.requests.list - 1, 'WATCH imageexports': watch.requests.watch - 1 };
    const apiSettled = await scrapeRequestTotals(kc);
    const armSettled = await armRequests(setup.emulator);
    const api = difference(apiSettled, apiBefore, own);
    const arm = armDifference(armSettled, armBefore);

    const watchesBeforeIdle = { ...watch.requests };
    await sleep(num('idle-seconds') * 1000);
    const ownIdle: RequestTally = { 'LIST imageexports': watch.requests.list - watchesBeforeIdle.list, 'WATCH imageexports': watch.requests.watch - watchesBeforeIdle.watch };
    const idle = difference(await scrapeRequestTotals(kc), apiSettled, ownIdle);
    const idleArm = armDifference(await armRequests(setup.emulator), armSettled);
    watch.stop();

    const operatorMetrics = await operator.metrics();
    const reconciles = sumMetric(operatorMetrics, 'controller_runtime_reconcile_total', { controller: 'imageexport' });
    const concurrency = sumMetric(operatorMetrics, 'controller_runtime_max_concurrent_reconciles', { controller: 'imageexport' });
    const reconcileErrors = sumMetric(operatorMetrics, 'controller_runtime_reconcile_total', { controller: 'imageexport', result: 'error' });
    const reconcileSeconds = Object.fromEntries(
      ['labaccount', 'galleryattachment', 'imageexport', 'labtemplate'].map((c) => [c, round(sumMetric(operatorMetrics, 'controller_runtime_reconcile_time_seconds_sum', { controller: c }))]),
    );
    const peakRssMiB = await operator.peakRssMiB();
    const cpuSeconds = (await operator.cpuSeconds()) - cpuBefore;
    await operator.stop();

    const statusWrites = api['PATCH imageexports/status'] ?? 0;
    say(`floor: replaying the ${statusWrites} status writes with ${floorConcurrency} worker(s), no controller logic...`);
    const floor = await measureFloor(setup, histories, shape, floorConcurrency);
    // The same replay as parallel as the operator's workers, for the ratio at equal parallelism.
    say(`floor again with ${concurrency} worker(s), as many as the operator had...`);
    const parallelFloor = concurrency === floorConcurrency ? floor : await measureFloor(setup, histories, shape, concurrency);

    const latencies = [...watch.readyAt].map(([name, at]) => at - (createdAt.get(name) ?? at));
    const apiByVerb = byVerb(api);
    return {
      exports: n,
      accounts: shape.accounts,
      images: shape.images,
      regionsPerExport: 3,
      concurrency,
      floorConcurrency,
      seconds: round(seconds),
      floorSeconds: round(floor.seconds),
      ratio: round(seconds / floor.seconds),
      floorStatusWrites: floor.writes,
      parallelFloorSeconds: round(parallelFloor.seconds),
      ratioAtEqualConcurrency: round(seconds / parallelFloor.seconds),
      p50ReadyMs: Math.round(percentile(latencies, 50)),
      p95ReadyMs: Math.round(percentile(latencies, 95)),
      apiRequestsPerExport: { total: round(total(api) / n), byVerb: perExport(apiByVerb, n), byResource: perExport(api, n) },
      statusWritesPerExport: round(statusWrites / n),
      reconcilesPerExport: round(reconciles / n),
      reconcileErrors,
      reconcileSeconds,
      armRequestsPerExport: { total: round(total(arm) / n), byRoute: perExport(arm, n) },
      idleSeconds: num('idle-seconds'),
      idleWrites: writes(idle),
      idleApiRequests: idle,
      idleArmRequests: total(idleArm),
      idleArmRequestsByRoute: idleArm,
      startupRssMiB: round(startupRssMiB, 1),
      peakRssMiB: round(peakRssMiB, 1),
      cpuSeconds: round(cpuSeconds),
      cpuSecondsToReady: round(cpuAtReady),
    };
  } finally {
    await operator.stop();
  }
}

async function benchMemory(setup: Setup): Promise<Record<string, unknown>> {
  const n = num('objects');
  const namespace = await createNamespace(setup, 'bench-memory');
  say(`creating ${n} ImageExports of an account that does not exist (the controller records that and waits)...`);
  const shape = { accounts: 1, images: num('images'), vmId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/labimages-bench-memory/providers/Microsoft.Compute/virtualMachines/absent' };
  let created = 0;
  const progress = setInterval(() => say(`  ${created} created`), 10_000);
  await inParallel(Array.from({ length: n }, (_, i) => i), num('create-concurrency'), async (i) => {
    await setup.client.create(RESOURCES.ImageExport, exportManifest(namespace, i, shape));
    created += 1;
  });
  clearInterval(progress);
  const operator = await startOperatorProcess(setup, namespace);
  try {
    const started = performance.now();
    await operator.synced(300_000);
    const syncSeconds = (performance.now() - started) / 1000;
    const cachedRssMiB = await operator.rssMiB();
    say(`operator pid ${operator.pid} has ${n} exports in its cache after ${syncSeconds.toFixed(1)} s; waiting for each to be reconciled once...`);
    for (;;) {
      const metrics = await operator.metrics();
      const reconciled = sumMetric(metrics, 'controller_runtime_reconcile_total', { controller: 'imageexport' });
      if (reconciled >= n && sumMetric(metrics, 'workqueue_depth', { name: 'imageexport' }) === 0) break;
      await sleep(2000);
    }
    return {
      objects: n,
      syncSeconds: round(syncSeconds),
      reconciledSeconds: round((performance.now() - started) / 1000),
      rssAfterSyncMiB: round(cachedRssMiB, 1),
      rssMiB: round(await operator.rssMiB(), 1),
      peakRssMiB: round(await operator.peakRssMiB(), 1),
      cpuSeconds: round(await operator.cpuSeconds()),
    };
  } finally {
    await operator.stop();
  }
}

function benchThrottledScenario(setup: Setup): Promise<Record<string, unknown>> {
  return benchThrottled({
    kc: setup.kc,
    client: setup.client,
    createNamespace: (name) => createNamespace(setup, name),
    startOperator: (namespace, emulator) => startOperatorProcess(setup, namespace, emulator),
    exports: num('exports'),
    accounts: num('accounts'),
    images: num('images'),
    createConcurrency: num('create-concurrency'),
    timeoutSeconds: num('timeout-seconds'),
    replicationSeconds: num('replication-seconds'),
    operationSeconds: num('operation-seconds'),
    say,
  });
}

async function main(): Promise<void> {
  const setup = await setUp();
  try {
    const machine = await describeMachine(setup.kc);
    const memoryOnly = flags['memory-only'];
    const scenario = flags.scenario;
    if (!['all', 'floor', 'throttled429'].includes(scenario)) throw new Error('--scenario must be all, floor or throttled429');
    const figures = memoryOnly ? await benchMemory(setup) : scenario === 'throttled429' ? {} : await benchExports(setup);
    const throttled = !memoryOnly && scenario !== 'floor' ? await benchThrottledScenario(setup) : undefined;
    const result = { mode: memoryOnly ? 'memory' : 'exports', at: new Date().toISOString(), machine, operatorFrom: setup.operatorMain ? 'dist' : 'src', operatorNodeFlags: imageNodeFlags(), operatorNodeArgs: flags['operator-node-args'], ...figures, ...(throttled ? { throttled429: throttled } : {}) };
    const file = await saveResult(result);
    const f = figures as Record<string, number | undefined>;
    const rows: Parameters<typeof table>[0] = scenario === 'throttled429' && !memoryOnly ? [] : memoryOnly
      ? [
          ['objects in cache', f.objects ?? 0],
          ['RSS after sync / after reconciling all (MiB)', `${f.rssAfterSyncMiB} / ${f.rssMiB}`],
          ['peak RSS (MiB)', f.peakRssMiB ?? 0, '< 150'],
          ['operator CPU (s)', f.cpuSeconds ?? 0],
        ]
      : [
          ['exports', f.exports ?? 0],
          [`create → all Ready, ${f.concurrency} workers (s)`, f.seconds ?? 0],
          [`floor, ${f.floorConcurrency} at a time (s)`, f.floorSeconds ?? 0],
          ['ratio', f.ratio ?? 0, '≤ 1.5'],
          [`floor, ${f.concurrency} at a time (s) / ratio`, `${f.parallelFloorSeconds} / ${f.ratioAtEqualConcurrency}`],
          ['p50 / p95 create → Ready (ms)', `${f.p50ReadyMs} / ${f.p95ReadyMs}`],
          ['API requests per export', (figures.apiRequestsPerExport as { total: number }).total],
          ['status writes per export', f.statusWritesPerExport ?? 0],
          ['reconciles per export', f.reconcilesPerExport ?? 0],
          ['ARM requests per export', (figures.armRequestsPerExport as { total: number }).total],
          [`writes while idle (${f.idleSeconds} s)`, f.idleWrites ?? 0, '0'],
          ['ARM requests while idle', f.idleArmRequests ?? 0],
          ['operator RSS at start / peak (MiB)', `${f.startupRssMiB} / ${f.peakRssMiB}`],
          ['operator CPU (s)', f.cpuSeconds ?? 0],
        ];
    process.stdout.write(`\n${table([...rows, ...(throttled ? throttledRows(throttled) : [])])}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryMiB} MiB, node ${machine.node}, kube-apiserver ${machine.kubeApiserver}, load ${machine.loadAverage}\nreport: ${file}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await setup.emulator.stop();
    await setup.plane.stop();
    await rm(setup.dir, { recursive: true, force: true });
  }
}

await main();
