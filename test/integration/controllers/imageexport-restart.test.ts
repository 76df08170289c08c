import { RESOURCES } from '../../../src/api/index.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { GalleryPort } from '../../../src/azure/index.ts';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { eventually } from '../eventually.ts';
import {
  createAccountWithGallery,
  createSourceVm,
  exportManifest,
  getExport,
  imageRef,
  isReady,
  portFor,
  untilExport,
  versionsOf,
} from './imageexport-fixtures.ts';

describe('ImageExport progress while replicating', function () {
  let op: TestOperator;
  let ns: string;

  before(async () => {
    await controlPlane().installCrds();
    ns = await createTestNamespace(controlPlane().kubeConfig, 'imgexp-slow');
    op = await startTestOperator({ namespace: ns, emulatorOptions: { replicationSeconds: 15, operationSeconds: 0.2 } });
    await createAccountWithGallery(op.client, ns);
  });
  after(async () => op?.stop());

  it('shows progress strictly between 0 and 100 while replicating, then 100 when Ready', async () => {
    const vmId = await createSourceVm(portFor(op.emulator), ns, 'slow-vm');
    await op.client.create(RESOURCES.ImageExport, exportManifest(ns, 'slow', { source: { virtualMachineId: vmId }, replication: { regions: ['eastus'] } }));
    const midway = await untilExport(op.client, ns, 'slow', (e) => (e.status?.progress ?? 0) > 0 && (e.status?.progress ?? 100) < 100, 'progress between 0 and 100');
    expect(midway.status?.phase).to.equal('Replicating');
    expect(midway.status?.regions?.[0]).to.include({ name: 'eastus', state: 'Replicating' });
    expect(midway.status?.regionsReady).to.equal('0/1');
    const done = await untilExport(op.client, ns, 'slow', isReady, 'Ready');
    expect(done.status).to.deep.include({ progress: 100, regionsReady: '1/1', phase: 'Succeeded' });
  });
});

describe('ImageExport exactly once across operator kills', function () {
  let emulator: RunningEmulator;
  let stateDir: string;
  let ns: string;
  let client: ObjectClient;
  let port: GalleryPort;
  let child: ChildProcess | undefined;

  /** `labimage run` as its own process against the standalone emulator. */
  function startOperatorProcess(): void {
    child = spawn(
      process.execPath,
      [
        join(repoRoot, 'src/cli/main.ts'),
        'run',
        '--kubeconfig', controlPlane().kubeconfigPath,
        '--namespace', ns,
        // The suite's accounts name no credentials: they act as the emulator's default principal.
        '--operator-identity-namespaces', ns,
        '--emulator', emulator.url,
        '--emulator-ca', emulator.caFile ?? '',
        '--metrics-bind-address', '0',
        '--health-probe-bind-address', '0',
        '--log-level', process.env.TEST_LOG_LEVEL ?? 'silent',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  before(async () => {
    await controlPlane().installCrds();
    ns = await createTestNamespace(controlPlane().kubeConfig, 'imgexp-kill');
    stateDir = await mkdtemp(join(tmpdir(), 'imgexp-emulator-'));
    emulator = await startEmulator({ replicationSeconds: 3, operationSeconds: 1, stateFile: join(stateDir, 'state.json') });
    client = new ObjectClient(controlPlane().restConfig);
    port = portFor(emulator);
    startOperatorProcess();
    await createAccountWithGallery(client, ns);
  });
  after(async () => {
    await kill();
    await emulator?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('makes one image version though killed right after the PUT, while exporting and while replicating', async () => {
    const vmId = await createSourceVm(port, ns, 'kill-vm');
    const created = await client.create(RESOURCES.ImageExport, exportManifest(ns, 'killed', { source: { virtualMachineId: vmId } }));
    const uid = created.metadata?.uid ?? '';

    // 1: as soon as Azure has the version, before the operator can have written status.
    await eventually(async () => (await versionsOf(port, ns, 'killed', uid)).length > 0, { what: 'the version PUT', intervalMs: 10 });
    await kill();
    startOperatorProcess();
    // 2: once status shows the version being exported or replicated.
    await untilExport(client, ns, 'killed', (e) => e.status?.version !== undefined, 'status.version written');
    await kill();
    startOperatorProcess();
    // 3: while regions replicate.
    await untilExport(client, ns, 'killed', (e) => e.status?.regions?.some((r) => r.state === 'Replicating' || r.state === 'Completed') ?? false, 'replicating');
    await kill();
    startOperatorProcess();

    const ready = await untilExport(client, ns, 'killed', isReady, 'Ready', 90_000);
    expect(ready.status?.regionsReady).to.equal('3/3');
    const all = await port.listImageVersions(imageRef(ns, 'killed'));
    expect(all.map((v) => [v.name, v.exportUid])).to.deep.equal([[ready.status?.version, uid]]);
  });

  it('adopts the version a killed operator PUT but never recorded, instead of making another', async () => {
    await kill();
    const vmId = await createSourceVm(port, ns, 'adopt-vm');
    const created = await client.create(RESOURCES.ImageExport, exportManifest(ns, 'adopted', { source: { virtualMachineId: vmId }, replication: { regions: ['eastus'] } }));
    const uid = created.metadata?.uid ?? '';
    // What a process killed between the ARM PUT and the status write leaves behind: a tagged version, no status.
    const image = imageRef(ns, 'adopted');
    const definition = await port.createImage(image, { location: 'eastus', osType: 'Windows', osState: 'Specialized', hyperVGeneration: 'V2', identifier: { publisher: 'labimages', offer: 'cs-dept', sku: 'adopted' } });
    await eventually(async () => (await port.poll(definition)).state === 'Succeeded', { what: 'image definition' });
    await port.createImageVersion({ ...image, version: '7.0.0' }, { location: 'eastus', source: { virtualMachineId: vmId }, targetRegions: [{ name: 'eastus' }], exportUid: uid });
    expect((await getExport(client, ns, 'adopted'))?.status?.version).to.equal(undefined);

    startOperatorProcess();
    const ready = await untilExport(client, ns, 'adopted', isReady, 'Ready', 90_000);
    expect(ready.status?.version).to.equal('7.0.0');
    expect((await port.listImageVersions(image)).map((v) => v.name)).to.deep.equal(['7.0.0']);
  });
});
