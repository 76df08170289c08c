// `npm run bench`: the operator (a child process, `labimage run`; `--shards N`: N of them, each
// with its own shard key) against its own local control plane and a standalone emulator with
// near-instant replication. Measures N exports from create to Ready against two floors (the same
// exports created and their status writes replayed, or all their writes), the idle steady state,
// and the operator's RSS and CPU. `--memory-only` loads --objects exports into its cache (see
// memory.ts). bench/README.md states the goals.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { renderAllCrdsYaml, RESOURCES } from '../src/api/index.ts';
import { ControlPlane } from '../src/controlplane/controlplane.ts';
import { installCrds } from '../src/controlplane/install-crds.ts';

import type { RequestCounts } from '../src/emulator/index.ts';
import { ObjectClient } from '../src/runtime/index.ts';
import { admin, createSourceVm, portFor } from '../test/integration/controllers/imageexport-fixtures.ts';
import { byVerb, difference, scrapeRequestTotals, total, writes, type RequestTally } from './apiserver-requests.ts';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.ts';
import { measureFloor, recordEvents, statusRecorder, type WritePlan } from './floor.ts';
import { benchMemory } from './memory.ts';
import { OperatorProcess, buildOperator, buildOperatorAt, imageNodeFlags, sumMetric } from './operator-process.ts';
import { describeMachine, percentile, round, saveResult, table } from './report.ts';
import { benchThrottled, throttledRows } from './throttled.ts';
import { ReadyWatch, createAccounts, exportManifest, exportName, inParallel, shardOf, type ExportShape } from './workload.ts';

const { values: flags } = parseArgs({
  options: {
    exports: { type: 'string', default: '1000' },
    accounts: { type: 'string', default: '4' },
    images: { type: 'string', default: '5' },
    /** Operator workers per controller; absent: the operator's default (`labimage run --concurrency`). */
    concurrency: { type: 'string' },
    /** Objects the serial floor writes at once; 1 is a plain loop. */
    'floor-concurrency': { type: 'string', default: '1' },
    /** Operator processes sharing the work, each with its own shard key (shard 0: no key). */
    shards: { type: 'string', default: '1' },
    /** Rounds of the 1,000-export run and its floors, each with a fresh operator in namespaces of its own; timings are their medians. */
    rounds: { type: 'string', default: '3' },
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
    /** Namespaces the --memory-only exports are spread over; default one per 1,000 objects. */
    namespaces: { type: 'string' },
    /** node flags for the operator, e.g. --operator-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
    'operator-node-args': { type: 'string', default: '' },
    /** dist (default): compiled as the container runs it; src: the .ts sources through type stripping. */
    'operator-from': { type: 'string', default: 'dist' },
    /** Measure the operator of this git revision instead (e.g. main, for a before/after table); the benchmark stays this one. */
    'operator-rev': { type: 'string' },
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
  emulator: EmulatorProcess;
  caFile: string;
  client: ObjectClient;
  dir: string;
}

async function setUp(): Promise<Setup> {
  say('starting a local control plane...');
  const dir = await mkdtemp(join(tmpdir(), 'labimage-bench-'));
  let operatorMain: string | undefined;
  // Inside the repo, so the compiled code finds its packages in node_modules.
  const cache = (name: string) => fileURLToPath(new URL(`../node_modules/.cache/labimage-bench/${name}`, import.meta.url));
  if (flags['operator-rev']) {
    say(`building the operator of ${flags['operator-rev']} as the container image runs it...`);
    operatorMain = buildOperatorAt(flags['operator-rev'], cache('rev'));
  } else if (flags['operator-from'] !== 'src') {
    say('building the operator as the container image runs it...');
    operatorMain = buildOperator(cache('dist'));
  }
  const plane = await ControlPlane.start({ log: say });
  const kc = plane.kubeConfig();
  await installCrds(kc, renderAllCrdsYaml());
  const emulator = await startEmulatorProcess({ replicationSeconds: num('replication-seconds'), operationSeconds: num('operation-seconds'), buckets: false });
  const caFile = join(dir, 'emulator-ca.pem');
  await writeFile(caFile, emulator.caPem);
  // The floor's writes go through the operator's own client (ObjectClient on one RestClient).
  return { plane, kc, operatorMain, emulator, caFile, client: new ObjectClient(plane.restConfig()), dir };
}

async function createNamespace(setup: Setup, name: string): Promise<string> {
  await setup.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

function startOperatorProcess(setup: Setup, where: { namespace?: string; shard?: string; logLevel?: string; emulator?: { url: string; caFile: string } }): Promise<OperatorProcess> {
  const { emulator = { url: setup.emulator.url, caFile: setup.caFile }, ...rest } = where;
  return OperatorProcess.start({
    kubeconfigPath: setup.plane.kubeconfigPath,
    emulatorUrl: emulator.url,
    emulatorCaFile: emulator.caFile,
    ...rest,
    ...(flags.concurrency === undefined ? {} : { concurrency: num('concurrency') }),
    logLevel: where.logLevel ?? 'warn',
    // The image's flags first, so that --operator-node-args can override them.
    nodeArgs: [...imageNodeFlags(), ...(flags['operator-node-args'] ? flags['operator-node-args'].split(' ') : [])],
    ...(setup.operatorMain ? { main: setup.operatorMain } : {}),
  });
}

const armRequests = async (emulator: EmulatorProcess) => (await admin(emulator, 'GET', '/_emulator/requests')) as RequestCounts;

function armDifference(after: RequestCounts, before: RequestCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [route, n] of Object.entries(after.byRoute)) if (n - (before.byRoute[route] ?? 0) > 0) out[route] = n - (before.byRoute[route] ?? 0);
  return out;
}

const perExport = (counts: Record<string, number>, n: number) => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / n)]));

/** A metric summed over every operator process. */
async function sumOver(operators: readonly OperatorProcess[], name: string, labels: Record<string, string>): Promise<number> {
  const texts = await Promise.all(operators.map((o) => o.metrics()));
  return texts.reduce((sum, text) => sum + sumMetric(text, name, labels), 0);
}

const sumAsync = async (values: Promise<number>[]) => (await Promise.all(values)).reduce((a, b) => a + b, 0);

/** One round: the exports run, the idle period (the first round only), then the floors. */
async function benchExports(setup: Setup, roundIndex: number): Promise<Record<string, unknown>> {
  const n = num('exports');
  const suffix = roundIndex === 0 ? '' : `-r${roundIndex + 1}`;
  const idleSeconds = roundIndex === 0 ? num('idle-seconds') : 0;
  const shards = Math.max(1, num('shards'));
  const floorConcurrency = num('floor-concurrency');
  const createConcurrency = num('create-concurrency');
  const kc = setup.kc;
  const namespace = await createNamespace(setup, `bench${suffix}`);
  const operators: OperatorProcess[] = [];
  for (let s = 0; s < shards; s++) {
    const shard = shardOf(s, shards);
    operators.push(await startOperatorProcess(setup, { namespace, ...(shard === undefined ? {} : { shard }) }));
  }
  try {
    await Promise.all(operators.map((o) => o.synced()));
    const startupRssMiB = await sumAsync(operators.map((o) => o.rssMiB()));
    say(`operator pid ${operators.map((o) => o.pid).join(', ')} synced; creating ${num('accounts')} accounts with galleries...`);
    await createAccounts(setup.client, namespace, num('accounts'), undefined, shards);
    const vmId = await createSourceVm(portFor(setup.emulator), namespace, 'bench-source-vm');
    const shape: ExportShape = { accounts: num('accounts'), images: num('images'), vmId, shards };

    // Every status an export went through, as the watch saw it, and later its Events: the floors replay them.
    const plan: WritePlan = new Map();
    const watch = new ReadyWatch(kc, setup.client, namespace, statusRecorder(plan));
    await watch.start();
    const apiBefore = await scrapeRequestTotals(kc);
    const armBefore = await armRequests(setup.emulator);
    const cpuBefore = await sumAsync(operators.map((o) => o.cpuSeconds()));

    say(`creating ${n} ImageExports (${shape.accounts} accounts, ${shape.images} images, 3 regions each${shards > 1 ? `, ${shards} shards` : ''})...`);
    const createdAt = new Map<string, number>();
    const started = performance.now();
    const indexes = Array.from({ length: n }, (_, i) => i);
    let createSeconds = 0;
    const creating = inParallel(indexes, createConcurrency, async (i) => {
      createdAt.set(exportName(i), Date.now());
      await setup.client.create(RESOURCES.ImageExport, exportManifest(namespace, i, shape));
    }).then(() => void (createSeconds = (performance.now() - started) / 1000));
    const progress = setInterval(() => say(`  ${createdAt.size} created, ${watch.readyAt.size} Ready`), 10_000);
    const timeoutMs = num('timeout-seconds') * 1000;
    // An unref'd timer, so that the process exits when the run is over.
    const allReady = await Promise.race([watch.untilReady(n).then(() => true), sleep(timeoutMs, false, { ref: false })]);
    clearInterval(progress);
    await creating;
    if (!allReady) throw new Error(`only ${watch.readyAt.size} of ${n} exports Ready after ${timeoutMs / 1000} s`);
    const seconds = (performance.now() - started) / 1000;
    const cpuAtReady = (await sumAsync(operators.map((o) => o.cpuSeconds()))) - cpuBefore;
    // Work that follows the last Ready (its Event, the gallery catalogue refresh) belongs to the exports, not to the idle period.
    say(`all ${n} Ready after ${seconds.toFixed(1)} s; settling for ${num('settle-seconds')} s${idleSeconds > 0 ? `, then idle for ${idleSeconds} s` : ''}...`);
    await sleep(num('settle-seconds') * 1000);
    const own: RequestTally = { 'POST imageexports': n, 'LIST imageexports': watch.requests.list - 1, 'WATCH imageexports': watch.requests.watch - 1 };
    const apiSettled = await scrapeRequestTotals(kc);
    const armSettled = await armRequests(setup.emulator);
    const api = difference(apiSettled, apiBefore, own);
    const arm = armDifference(armSettled, armBefore);

    const watchesBeforeIdle = { ...watch.requests };
    await sleep(idleSeconds * 1000);
    const ownIdle: RequestTally = { 'LIST imageexports': watch.requests.list - watchesBeforeIdle.list, 'WATCH imageexports': watch.requests.watch - watchesBeforeIdle.watch };
    const idle = difference(await scrapeRequestTotals(kc), apiSettled, ownIdle);
    const idleArm = armDifference(await armRequests(setup.emulator), armSettled);
    watch.stop();
    await recordEvents(setup.client, namespace, plan);

    const metric = (name: string, labels: Record<string, string>) => sumOver(operators, name, labels);
    const reconciles = await metric('controller_runtime_reconcile_total', { controller: 'imageexport' });
    const concurrency = await metric('controller_runtime_max_concurrent_reconciles', { controller: 'imageexport' });
    const reconcileErrors = await metric('controller_runtime_reconcile_total', { controller: 'imageexport', result: 'error' });
    const reconcileSeconds: Record<string, number> = {};
    for (const c of ['labaccount', 'galleryattachment', 'imageexport', 'labtemplate']) reconcileSeconds[c] = round(await metric('controller_runtime_reconcile_time_seconds_sum', { controller: c }));
    // Each shard's share of the exports' reconciles: proof that they split the work.
    const reconcilesByShard = await Promise.all(operators.map(async (o) => sumMetric(await o.metrics(), 'controller_runtime_reconcile_total', { controller: 'imageexport' })));
    const peakRssMiB = Math.max(...(await Promise.all(operators.map((o) => o.peakRssMiB()))));
    const cpuSeconds = (await sumAsync(operators.map((o) => o.cpuSeconds()))) - cpuBefore;
    await Promise.all(operators.map((o) => o.stop()));

    const statusWrites = api['PATCH imageexports/status'] ?? 0;
    const floor = (concurrency: number, writes: 'status' | 'all') =>
      measureFloor({
        kc,
        client: setup.client,
        namespace: `bench-floor-${writes}-${concurrency}${suffix}`,
        manifest: (name) => exportManifest(`bench-floor-${writes}-${concurrency}${suffix}`, Number(name.slice('export-'.length)), { ...shape, shards: 1 }),
        plan,
        createConcurrency,
        concurrency,
        writes,
      });
    const floorNamespaces = new Set([`bench-floor-status-${floorConcurrency}${suffix}`, `bench-floor-status-${concurrency}${suffix}`, `bench-floor-all-${concurrency}${suffix}`]);
    for (const ns of floorNamespaces) await createNamespace(setup, ns);
    say(`floor: the ${n} exports created and their ${statusWrites} status writes replayed, ${floorConcurrency} at a time, no controller logic...`);
    const serialFloor = await floor(floorConcurrency, 'status');
    say(`floor again with ${concurrency} at a time, as many as the operator's workers...`);
    const parallelFloor = concurrency === floorConcurrency ? serialFloor : await floor(concurrency, 'status');
    say(`floor with all the operator's writes (finalizer, status, Events), ${concurrency} at a time...`);
    const allWritesFloor = await floor(concurrency, 'all');

    const latencies = [...watch.readyAt].map(([name, at]) => at - (createdAt.get(name) ?? at));
    const apiByVerb = byVerb(api);
    return {
      exports: n,
      accounts: shape.accounts,
      images: shape.images,
      regionsPerExport: 3,
      shards,
      concurrency,
      floorConcurrency,
      seconds: round(seconds),
      createSeconds: round(createSeconds),
      exportsPerSecond: round(n / seconds, 1),
      floorSeconds: round(serialFloor.seconds),
      ratio: round(seconds / serialFloor.seconds),
      floorStatusWrites: serialFloor.writes,
      parallelFloorSeconds: round(parallelFloor.seconds),
      ratioAtEqualConcurrency: round(seconds / parallelFloor.seconds),
      allWritesFloorSeconds: round(allWritesFloor.seconds),
      allWritesFloorWrites: allWritesFloor.writes,
      ratioAllWritesAtEqualConcurrency: round(seconds / allWritesFloor.seconds),
      p50ReadyMs: Math.round(percentile(latencies, 50)),
      p95ReadyMs: Math.round(percentile(latencies, 95)),
      apiWritesPerExport: round(writes(api) / n),
      apiRequestsPerExport: { total: round(total(api) / n), byVerb: perExport(apiByVerb, n), byResource: perExport(api, n) },
      statusWritesPerExport: round(statusWrites / n),
      reconcilesPerExport: round(reconciles / n),
      reconcilesByShard,
      reconcileErrors,
      reconcileSeconds,
      armRequestsPerExport: round(total(arm) / n),
      armRequestsPerExportByRoute: perExport(arm, n),
      idleSeconds,
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
    await Promise.all(operators.map((o) => o.stop()));
  }
}

/** What varies from round to round: each is the median of the rounds, and the rounds are listed. */
const TIMINGS = [
  'seconds',
  'createSeconds',
  'exportsPerSecond',
  'floorSeconds',
  'ratio',
  'parallelFloorSeconds',
  'ratioAtEqualConcurrency',
  'allWritesFloorSeconds',
  'ratioAllWritesAtEqualConcurrency',
  'p50ReadyMs',
  'p95ReadyMs',
  'cpuSeconds',
] as const;

/**
 * Runs the rounds. One round's ratios swing by a fifth or more on a 2-core machine (a floor of
 * 4.0 s in one round, 5.4 s in the next), so each ratio is the median of the rounds' own (each
 * round's run against its own floors, measured a few seconds apart); the counts and the idle
 * figures are the first round's.
 */
async function benchExportRounds(setup: Setup): Promise<Record<string, unknown>> {
  const rounds: Record<string, unknown>[] = [];
  const count = Math.max(1, num('rounds'));
  for (let r = 0; r < count; r++) {
    if (count > 1) say(`round ${r + 1} of ${count}...`);
    rounds.push(await benchExports(setup, r));
  }
  const [first] = rounds as [Record<string, unknown>];
  const median = (key: string) => percentile(rounds.map((r) => Number(r[key])), 50);
  return {
    ...first,
    ...Object.fromEntries(TIMINGS.map((key) => [key, key.endsWith('Ms') ? Math.round(median(key)) : round(median(key))])),
    rounds: rounds.map((r) => Object.fromEntries(TIMINGS.map((key) => [key, r[key]]))),
  };
}

function memory(setup: Setup): Promise<Record<string, unknown>> {
  const objects = num('objects');
  return benchMemory(
    { plane: setup.plane, kc: setup.kc, client: setup.client, startOperator: () => startOperatorProcess(setup, { logLevel: 'info' }), say },
    { objects, namespaces: flags.namespaces === undefined ? Math.max(1, Math.ceil(objects / 1000)) : num('namespaces'), images: num('images'), createConcurrency: num('create-concurrency') },
  );
}

function benchThrottledScenario(setup: Setup): Promise<Record<string, unknown>> {
  return benchThrottled({
    kc: setup.kc,
    client: setup.client,
    createNamespace: (name) => createNamespace(setup, name),
    startOperator: (namespace, emulator) => startOperatorProcess(setup, { namespace, emulator }),
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
    const figures = memoryOnly ? await memory(setup) : scenario === 'throttled429' ? {} : await benchExportRounds(setup);
    const throttled = !memoryOnly && scenario !== 'floor' ? await benchThrottledScenario(setup) : undefined;
    const result = {
      mode: memoryOnly ? 'memory' : 'exports',
      at: new Date().toISOString(),
      machine,
      operatorFrom: setup.operatorMain ? 'dist' : 'src',
      operatorRev: flags['operator-rev'] ?? 'working tree',
      operatorNodeFlags: imageNodeFlags(),
      operatorNodeArgs: flags['operator-node-args'],
      ...figures,
      ...(throttled ? { throttled429: throttled } : {}),
    };
    const file = await saveResult(result);
    const f = figures as Record<string, number | undefined>;
    const relist = (figures as Record<string, unknown>).relist as Record<string, number> | undefined;
    const rounds = (figures as Record<string, unknown>).rounds as Record<string, number>[] | undefined;
    const firstStart = (figures as Record<string, unknown>).firstStart as Record<string, number> | undefined;
    const rows: Parameters<typeof table>[0] = scenario === 'throttled429' && !memoryOnly ? [] : memoryOnly
      ? [
          ['objects in cache / namespaces', `${f.objects} / ${f.namespaces}`],
          ['first start: full sync / all reconciled once (s)', `${firstStart?.syncSeconds} / ${firstStart?.reconciledSeconds}`],
          ['restart: full sync / all reconciled once (s)', `${f.syncSeconds} / ${f.reconciledSeconds}`],
          ['writes once synced (restart)', f.writesOnceSynced ?? 0, '0'],
          ['RSS after sync / after reconciling all (MiB)', `${f.rssAfterSyncMiB} / ${f.rssMiB}`],
          ['peak RSS (MiB)', f.peakRssMiB ?? 0, '< 512 at 100,000'],
          ['relist after compaction: objects / seconds', `${relist?.objects} / ${relist?.seconds}`],
          ['relist: RSS before / peak during / after (MiB)', `${relist?.rssBeforeMiB} / ${relist?.peakRssMiB} / ${relist?.rssAfterMiB}`],
          ['writes after the relist', relist?.writes ?? 0, '0'],
          ['operator CPU (s)', f.cpuSeconds ?? 0],
        ]
      : [
          ['exports', f.exports ?? 0],
          [`create → all Ready, ${f.concurrency} workers${(f.shards ?? 1) > 1 ? ` over ${f.shards} shards` : ''} (s)`, f.seconds ?? 0],
          ['exports Ready per second', f.exportsPerSecond ?? 0],
          ['the last create answered after (s)', f.createSeconds ?? 0],
          [`floor (create + status writes), ${f.floorConcurrency} at a time (s) / ratio`, `${f.floorSeconds} / ${f.ratio}`],
          [`floor (create + status writes), ${f.concurrency} at a time (s) / ratio`, `${f.parallelFloorSeconds} / ${f.ratioAtEqualConcurrency}`, '≤ 1.5'],
          [`floor (create + all writes), ${f.concurrency} at a time (s) / ratio`, `${f.allWritesFloorSeconds} / ${f.ratioAllWritesAtEqualConcurrency}`, '≤ 1.2'],
          ...(rounds && rounds.length > 1
            ? [['each round: s / ratio at equal concurrency / all writes', rounds.map((r) => `${r.seconds} / ${r.ratioAtEqualConcurrency} / ${r.ratioAllWritesAtEqualConcurrency}`).join(', ')] as [string, string]]
            : []),
          ['p50 / p95 create → Ready (ms)', `${f.p50ReadyMs} / ${f.p95ReadyMs}`],
          ['API writes per export', f.apiWritesPerExport ?? 0, '≤ 3'],
          ['status writes per export', f.statusWritesPerExport ?? 0],
          ['reconciles per export', f.reconcilesPerExport ?? 0],
          ['ARM requests per export', f.armRequestsPerExport ?? 0, '≤ 3'],
          [`writes while idle (${f.idleSeconds} s)`, f.idleWrites ?? 0, '0'],
          ['ARM requests while idle', f.idleArmRequests ?? 0, '0'],
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
