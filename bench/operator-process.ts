// `labimage run` in a child process, as a Deployment runs it: the benchmark reads its own RSS and
// CPU time from /proc, and the resilience suite SIGKILLs it at any line.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../src/net/ports.ts';

const sourceMain = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const ticksPerSecond = 100;

export interface OperatorProcessOptions {
  kubeconfigPath: string;
  emulatorUrl: string;
  emulatorCaFile: string;
  /** The one namespace to watch; absent: all. */
  namespace?: string;
  /** `--shard`: absent, the replica without a key. */
  shard?: string;
  /** Workers per controller; absent: the operator's default. */
  concurrency?: number;
  syncPeriod?: string;
  regionRetries?: number;
  logLevel?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];

  /** The CLI's entry point; default: src/cli/main.ts, run by Node's type stripping. */
  main?: string;
}

/**
 * Compiles src/ into `outDir` as the container image does (`npm run build`), and returns its CLI entry
 * point. Measure this, not the sources: Node's type stripping alone adds over 100 MiB of RSS.
 */
/** The node flags of the container image's ENTRYPOINT (between `node` and the script), so the benchmark runs the operator the same way. */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../Dockerfile', import.meta.url)), 'utf8');
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  return argv.slice(1).filter((arg) => arg.startsWith('--'));
}

export function buildOperator(outDir: string, project = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))): string {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  rmSync(outDir, { recursive: true, force: true });
  const built = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir, '--sourceMap', 'false'], { encoding: 'utf8' });
  // tsc emits despite type errors; only a missing entry point stops the run.
  if (built.status !== 0) process.stderr.write(`tsc reported errors (the operator was still emitted):\n${built.stdout}`);
  const entry = join(outDir, 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`building the operator produced no ${entry}:\n${built.stdout}${built.stderr}`);
  return entry;
}

/**
 * The operator as git revision `rev` had it (`--operator-rev main`), built as `buildOperator` does,
 * so a change is measured against what it changes on the same machine, minutes apart. `dir` must lie
 * inside the repository, so the compiled code finds its packages in node_modules.
 */
export function buildOperatorAt(rev: string, dir: string): string {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('git', ['archive', '--format=tar', rev, 'src', 'tsconfig.json', 'tsconfig.build.json'], { cwd: repo, maxBuffer: 512 * 2 ** 20 });
  if (archive.status !== 0) throw new Error(`git archive ${rev}: ${archive.stderr.toString()}`);
  const extracted = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (extracted.status !== 0) throw new Error(`extracting ${rev}: ${extracted.stderr.toString()}`);
  const entry = buildOperator(join(dir, 'dist'), join(dir, 'tsconfig.build.json'));
  // tsc emits no JSON module it finds below node_modules, which this folder is: copy them over.
  cpSync(join(dir, 'src'), join(dir, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.ts') });
  return entry;
}

export class OperatorProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it logged, to explain a failure. */
  readonly recentLog: string[] = [];
  readonly #logWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  readonly #metricsUrl: string;
  readonly #healthUrl: string;

  private constructor(child: ChildProcessByStdio<null, Readable, Readable>, metricsUrl: string, healthUrl: string) {
    this.child = child;
    this.#metricsUrl = metricsUrl;
    this.#healthUrl = healthUrl;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stderr }).on('line', (line) => this.#onLog(line));
    child.stdout.resume();
  }

  /** Starts it on two free loopback ports: /metrics, and /readyz (200 once its caches have synced). */
  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const metricsPort = await freeLoopbackPort();
    let healthPort = await freeLoopbackPort();
    while (healthPort === metricsPort) healthPort = await freeLoopbackPort();
    const args = [
      ...(options.nodeArgs ?? []),
      options.main ?? sourceMain,
      'run',
      '--kubeconfig', options.kubeconfigPath,
      ...(options.namespace === undefined ? [] : ['--namespace', options.namespace]),
      ...(options.shard === undefined ? [] : ['--shard', options.shard]),
      // Its accounts name no credentials: they act as the emulator's default principal, as the operator's own identity.
      '--operator-identity-namespaces', options.namespace ?? '*',
      '--emulator', options.emulatorUrl,
      '--emulator-ca', options.emulatorCaFile,
      '--metrics-bind-address', `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address', `127.0.0.1:${healthPort}`,
      ...(options.concurrency === undefined ? [] : ['--concurrency', String(options.concurrency)]),
      '--sync-period', options.syncPeriod ?? '10m',
      '--region-retries', String(options.regionRetries ?? 3),
      '--log-level', options.logLevel ?? 'warn',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new OperatorProcess(child, `http://127.0.0.1:${metricsPort}`, `http://127.0.0.1:${healthPort}`);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Resolves once the operator's caches have synced (its workers start right after). */
  async synced(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`operator exited before its caches synced:\n${this.recentLog.join('\n')}`);
      const ready = await httpGet(`${this.#healthUrl}/readyz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`operator not ready after ${timeoutMs / 1000} s:\n${this.recentLog.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Peak resident set size (VmHWM) in MiB, read while the process is alive. */
  peakRssMiB(): Promise<number> {
    return this.#memory('VmHWM');
  }

  /** Resident set size now (VmRSS) in MiB. */
  rssMiB(): Promise<number> {
    return this.#memory('VmRSS');
  }

  async #memory(field: 'VmHWM' | 'VmRSS'): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
  }

  /** User + system CPU time so far, in seconds. */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  }

  /** The operator's own Prometheus metrics (reconciles, ARM requests). */
  async metrics(): Promise<string> {
    const res = await httpGet(`${this.#metricsUrl}/metrics`);
    if (res.status !== 200) throw new Error(`operator /metrics answered ${res.status}`);
    return res.body;
  }

  /** Sends the signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  /** Resolves with the next line it logs that matches `pattern`. */
  nextLog(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => this.#logWaiters.push({ pattern, resolve }));
  }

  /**
   * Resets its peak RSS (VmHWM) to what it holds now (Linux's clear_refs), so that `peakRssMiB`
   * answers for what happens from here on.
   */
  async resetPeakRss(): Promise<void> {
    await writeFile(`/proc/${this.pid}/clear_refs`, '5');
  }

  #onLog(line: string): void {
    this.recentLog.push(line);
    if (this.recentLog.length > 40) this.recentLog.shift();
    for (const waiter of this.#logWaiters.filter((w) => w.pattern.test(line))) {
      this.#logWaiters.splice(this.#logWaiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

/** Sums the samples of one Prometheus metric whose labels include all of `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
