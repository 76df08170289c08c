// What every resilience scenario runs on: the shared real control plane, a standalone emulator
// keeping its state in a file (so it can be restarted), and `labimage run` in a child process
// (so it can be SIGKILLed), watching one namespace.
import { RESOURCES } from '../../src/api/index.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ImageExport } from '../../src/api/index.ts';
import type { GalleryPort } from '../../src/azure/index.ts';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.ts';

import { ObjectClient } from '../../src/runtime/index.ts';
import { OperatorProcess } from '../../bench/operator-process.ts';
import { admin, portFor } from '../integration/controllers/imageexport-fixtures.ts';
import { eventually } from '../integration/eventually.ts';
import { controlPlane, createTestNamespace } from '../integration/harness.ts';

export interface RigOptions {
  emulator: Omit<EmulatorOptions, 'stateFile' | 'port'>;
  regionRetries?: number;
  syncPeriod?: string;
}

export class Rig {
  readonly namespace: string;
  readonly client: ObjectClient;
  readonly stateFile: string;
  emulator: RunningEmulator;
  operator: OperatorProcess | undefined;
  readonly #dir: string;
  readonly #options: RigOptions;

  private constructor(init: { namespace: string; dir: string; emulator: RunningEmulator; options: RigOptions }) {
    this.namespace = init.namespace;
    this.#dir = init.dir;
    this.stateFile = join(init.dir, 'emulator-state.json');
    this.emulator = init.emulator;
    this.#options = init.options;
    this.client = new ObjectClient(controlPlane().restConfig);
  }

  static async start(prefix: string, options: RigOptions): Promise<Rig> {
    await controlPlane().installCrds();
    const namespace = await createTestNamespace(controlPlane().kubeConfig, prefix);
    const dir = await mkdtemp(join(tmpdir(), `labimage-${prefix}-`));
    const emulator = await startEmulator({ ...options.emulator, stateFile: join(dir, 'emulator-state.json') });
    const rig = new Rig({ namespace, dir, emulator, options });
    await rig.startOperator();
    return rig;
  }

  /** A gallery port on the emulator, as a test's view of "Azure". */
  get port(): GalleryPort {
    return portFor(this.emulator);
  }

  async startOperator(): Promise<OperatorProcess> {
    const operator = await OperatorProcess.start({
      kubeconfigPath: controlPlane().kubeconfigPath,
      emulatorUrl: this.emulator.url,
      emulatorCaFile: this.emulator.caFile ?? '',
      namespace: this.namespace,
      // One worker per controller: the 429 storm test bounds the request rate by the workers.
      concurrency: 1,
      regionRetries: this.#options.regionRetries ?? 3,
      syncPeriod: this.#options.syncPeriod ?? '10m',
      logLevel: process.env.TEST_LOG_LEVEL ?? 'warn',
    });
    this.operator = operator;
    await operator.synced();
    return operator;
  }

  /** SIGKILL: no graceful shutdown, no finished writes; then a fresh process. */
  async killAndRestartOperator(): Promise<void> {
    await this.operator?.stop('SIGKILL');
    await this.startOperator();
  }

  /** Stops the emulator (connections dropped, state flushed) and starts it again on the same port and state file. */
  async restartEmulator(downMs: number): Promise<void> {
    const port = this.emulator.port;
    await this.emulator.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.emulator = await startEmulator({ ...this.#options.emulator, stateFile: this.stateFile, port });
  }

  setFaults(faults: unknown): Promise<unknown> {
    return admin(this.emulator, 'POST', '/_emulator/faults', faults);
  }

  /** The emulator's state as its file has it (written atomically after every change). */
  async emulatorState(): Promise<{ virtualMachines: Record<string, unknown>; versions: Record<string, { tags: Record<string, string> }> }> {
    return JSON.parse(await readFile(this.stateFile, 'utf8'));
  }

  async exports(): Promise<ImageExport[]> {
    return (await this.client.list<ImageExport>(RESOURCES.ImageExport, this.namespace)).items;
  }

  /** Waits until every export of the namespace passes `done`; the message names those that do not. */
  async untilEveryExport(done: (e: ImageExport) => boolean, what: string, timeoutMs: number): Promise<ImageExport[]> {
    return eventually(
      async () => {
        const all = await this.exports();
        const pending = all.filter((e) => !done(e));
        if (pending.length === 0) return all;
        throw new Error(`${pending.length} of ${all.length} not yet: ${pending.slice(0, 3).map((e) => `${e.metadata.name} ${e.status?.phase} ${JSON.stringify(e.status?.conditions?.find((c) => c.type === 'Ready'))}`).join('; ')}`);
      },
      { timeoutMs, intervalMs: 1000, what: `every export ${what}` },
    );
  }

  async stop(): Promise<void> {
    await this.operator?.stop();
    await this.emulator.stop();
    await controlPlane().kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name: this.namespace }).catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }
}

export const isReady = (e: ImageExport) => e.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Image versions per export uid, over every image of every gallery given. */
export async function versionsByExport(port: GalleryPort, images: { resourceGroup: string; gallery: string; image: string }[]): Promise<Map<string, string[]>> {
  const byUid = new Map<string, string[]>();
  for (const ref of images) {
    for (const v of await port.listImageVersions(ref)) {
      const uid = v.exportUid ?? '(untagged)';
      byUid.set(uid, [...(byUid.get(uid) ?? []), `${ref.gallery}/${ref.image}/${v.name}`]);
    }
  }
  return byUid;
}
