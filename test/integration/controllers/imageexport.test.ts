import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { API_VERSION, RESOURCES, type ImageExport, type LabTemplate } from '../../../src/api/index.ts';
import type { GalleryPort } from '../../../src/azure/index.ts';

import { judge, kubectlWait } from '../deploy/judges.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { eventually } from '../eventually.ts';
import {
  DEFAULT_REGIONS,
  condition,
  createAccountWithGallery,
  createSourceVm,
  exportManifest,
  getExport,
  imageRef,
  isReady,
  portFor,
  setFaults,
  untilExport,
  versionsOf,
} from './imageexport-fixtures.ts';

const run = promisify(execFile);

describe('ImageExport controller', function () {
  let op: TestOperator;
  let ns: string;
  let port: GalleryPort;
  let vmId: string;

  before(async () => {
    await controlPlane().installCrds();
    ns = await createTestNamespace(controlPlane().kubeConfig, 'imgexp');
    op = await startTestOperator({ namespace: ns, emulatorOptions: { replicationSeconds: 2, operationSeconds: 0.2 }, operator: { regionRetries: 2 } });
    port = portFor(op.emulator);
    await createAccountWithGallery(op.client, ns);
    vmId = await createSourceVm(port, ns, 'template-vm');
  });
  after(async () => op?.stop());
  afterEach(async () => setFaults(op.emulator, { regionFailures: [], throttle: null }));

  const create = (name: string, spec: Partial<ImageExport['spec']> = {}) =>
    op.client.create(RESOURCES.ImageExport, exportManifest(ns, name, { source: { virtualMachineId: vmId }, ...spec }));

  it('exports and replicates to every target region; kubectl wait returns once all are Completed', async () => {
    await create('win11-cs101');
    const { stdout } = await run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'wait', '-n', ns, '--for=condition=Ready', 'imageexport/win11-cs101', '--timeout=90s']);
    expect(stdout).to.contain('condition met');
    const e = (await getExport(op.client, ns, 'win11-cs101'))!;
    const status = e.status!;
    expect(status).to.deep.include({ phase: 'Succeeded', version: '1.0.0', progress: 100, regionsReady: '3/3', sizeGiB: 127 });
    expect(status.regions?.map((r) => [r.name, r.state, r.progress, r.replicaCount])).to.deep.equal(DEFAULT_REGIONS.map((r) => [r, 'Completed', 100, 1]));
    expect(status.imageVersionId).to.match(/\/galleries\/labgallery\/images\/win11-cs101\/versions\/1\.0\.0$/);
    expect(status.estimatedMonthlyCost).to.deep.equal({ amount: (3 * 127 * 0.05).toFixed(2), currency: 'USD' });
    expect(status.startTime).to.be.a('string');
    expect(status.completionTime).to.be.a('string');
    expect(condition(e, 'Exported')?.status).to.equal('True');
    expect(condition(e, 'Replicated')?.status).to.equal('True');
    expect(condition(e, 'Reconciling')).to.equal(undefined);
    expect(condition(e, 'Stalled')).to.equal(undefined);
    expect(status.observedGeneration).to.equal(e.metadata.generation);
    const { stdout: table } = await run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'get', 'imgexp', 'win11-cs101', '-n', ns]);
    const [header = [], row = []] = table.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(row[header.indexOf('PROGRESS')], table).to.equal('100%');

    // The image definition was made with an identifier from the account and image names.
    const image = await port.observeImage(imageRef(ns, 'win11-cs101'));
    expect(image).to.deep.include({ osType: 'Windows', osState: 'Specialized', hyperVGeneration: 'V2' });
    expect(image?.identifier).to.deep.equal({ publisher: 'labimages', offer: 'cs-dept', sku: 'win11-cs101' });
    expect(await versionsOf(port, ns, 'win11-cs101', e.metadata.uid!)).to.have.length(1);
  });

  it('writes no status while idle after Ready, even when reconciled again', async () => {
    const ready = await untilExport(op.client, ns, 'win11-cs101', isReady, 'Ready');
    // Related objects changing enqueue the export; each such reconcile observes Azure and finds nothing new.
    for (let i = 0; i < 3; i++) {
      await op.client.mergePatch(RESOURCES.LabAccount, ns, 'cs-dept', { metadata: { annotations: { touch: String(i) } } });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const later = (await getExport(op.client, ns, 'win11-cs101'))!;
    expect(later.metadata.resourceVersion).to.equal(ready.metadata.resourceVersion);
  });

  it('gives exports of one image created together distinct versions, one each', async () => {
    await Promise.all(['a', 'b', 'c'].map((suffix) => op.client.create(RESOURCES.ImageExport, { ...exportManifest(ns, `shared-${suffix}`, { source: { virtualMachineId: vmId } }), spec: { ...exportManifest(ns, `shared-${suffix}`, { source: { virtualMachineId: vmId } }).spec, image: { name: 'shared', osType: 'Windows' } } })));
    const done = await Promise.all(['a', 'b', 'c'].map((suffix) => untilExport(op.client, ns, `shared-${suffix}`, isReady, 'Ready')));
    expect(done.map((e) => e.status?.version).sort()).to.deep.equal(['1.0.0', '1.0.1', '1.0.2']);
    const all = await port.listImageVersions(imageRef(ns, 'shared'));
    expect(all.map((v) => v.exportUid).sort()).to.deep.equal(done.map((e) => e.metadata.uid).sort());
  });

  it('chooses past a version uploaded after it last listed the image, and Stalls a spec.version an upload holds', async () => {
    const first = await create('upload-first', { image: { name: 'uploads', osType: 'Windows' } });
    expect((await untilExport(op.client, ns, 'upload-first', isReady, 'Ready')).status?.version).to.equal('1.0.0');
    // Uploaded outside the operator, after it listed the image for the first export: no export-uid tag.
    const image = imageRef(ns, 'uploads');
    const upload = await port.createImageVersion({ ...image, version: '1.0.1' }, { location: 'eastus', source: { virtualMachineId: vmId }, targetRegions: [{ name: 'eastus' }] });
    await eventually(async () => (await port.poll(upload)).state === 'Succeeded', { what: 'the upload' });

    await create('upload-second', { image: { name: 'uploads', osType: 'Windows' } });
    const second = await untilExport(op.client, ns, 'upload-second', isReady, 'Ready');
    expect(second.status?.version).to.equal('1.0.2');
    await create('upload-pinned', { image: { name: 'uploads', osType: 'Windows' }, version: '1.0.1' });
    const pinned = await untilExport(op.client, ns, 'upload-pinned', (e) => condition(e, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(pinned, 'Stalled')?.reason).to.equal('VersionInUse');

    const versions = await port.listImageVersions(image);
    expect(versions.map((v) => [v.name, v.exportUid]).sort()).to.deep.equal([
      ['1.0.0', first.metadata?.uid],
      ['1.0.1', undefined],
      ['1.0.2', second.metadata.uid],
    ]);
  });

  it('narrows and widens the regions of the existing version', async () => {
    const ready = await untilExport(op.client, ns, 'win11-cs101', isReady, 'Ready');
    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'win11-cs101', { spec: { replication: { regions: ['eastus'] } } });
    const narrowed = await untilExport(op.client, ns, 'win11-cs101', (e) => isReady(e) && e.status?.regionsReady === '1/1', 'narrowed to one region');
    expect((await port.observeImageVersion({ ...imageRef(ns, 'win11-cs101'), version: '1.0.0' }))?.targetRegions.map((r) => r.name)).to.deep.equal(['eastus']);

    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'win11-cs101', { spec: { replication: { regions: ['eastus', 'eastus2', 'centralus'], replicaCount: 2 } } });
    const widened = await untilExport(op.client, ns, 'win11-cs101', (e) => isReady(e) && e.status?.regionsReady === '3/3' && e.metadata.generation === e.status.observedGeneration, 'widened to three regions');
    expect(widened.status?.regions?.map((r) => [r.name, r.replicaCount])).to.deep.equal([['eastus', 2], ['eastus2', 2], ['centralus', 2]]);
    const observed = await port.observeImageVersion({ ...imageRef(ns, 'win11-cs101'), version: '1.0.0' });
    expect(observed?.targetRegions.map((r) => [r.name, r.replicaCount]).sort()).to.deep.equal([['centralus', 2], ['eastus', 2], ['eastus2', 2]]);
    // The same version, never another one.
    expect(widened.status?.version).to.equal(ready.status?.version);
    expect(narrowed.status?.imageVersionId).to.equal(ready.status?.imageVersionId);
    expect(await versionsOf(port, ns, 'win11-cs101', ready.metadata.uid!)).to.have.length(1);
  });

  it('applies excludeFromLatest and endOfLifeDate to the existing version', async () => {
    await untilExport(op.client, ns, 'win11-cs101', isReady, 'Ready');
    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'win11-cs101', { spec: { excludeFromLatest: true, endOfLifeDate: '2030-01-31T00:00:00Z' } });
    const observed = await eventually(
      async () => {
        const version = await port.observeImageVersion({ ...imageRef(ns, 'win11-cs101'), version: '1.0.0' });
        return version?.excludeFromLatest && version.endOfLifeDate ? version : undefined;
      },
      { what: 'the version published with the new flags' },
    );
    expect(observed.endOfLifeDate?.toISOString()).to.equal('2030-01-31T00:00:00.000Z');
    await untilExport(op.client, ns, 'win11-cs101', (e) => isReady(e) && e.metadata.generation === e.status?.observedGeneration, 'Ready again');
  });

  it('retries a region that fails once, the way Azure advises, and succeeds', async () => {
    await setFaults(op.emulator, { regionFailures: [{ region: 'westus2', times: 1 }] });
    await create('retry-once');
    const e = await untilExport(op.client, ns, 'retry-once', isReady, 'Ready after one retry');
    expect(e.status?.phase).to.equal('Succeeded');
    expect(e.status?.regions?.find((r) => r.name === 'westus2')).to.include({ state: 'Completed', attempts: 1 });
  });

  it('settles as PartiallySucceeded when a region keeps failing, keeping the completed regions: Failed to kstatus, Degraded to Argo CD, kubectl wait gives up', async () => {
    await setFaults(op.emulator, { regionFailures: [{ region: 'westus2', times: 100 }] });
    await create('retry-always');
    const e = await untilExport(op.client, ns, 'retry-always', (x) => x.status?.phase === 'PartiallySucceeded', 'PartiallySucceeded');
    const [judged] = await judge([e]);
    expect(judged!.kstatus.status).to.equal('Failed');
    expect(judged!.argocd.status).to.equal('Degraded');
    expect(judged!.argocd.message).to.contain('PartiallySucceeded: Replication of image version 1.0.0 to westus2 failed');
    expect(await kubectlWait(controlPlane().kubeconfigPath, { kind: 'ImageExport', metadata: { name: 'retry-always', namespace: ns } }, 2)).to.equal('keeps waiting');
    expect(condition(e, 'Ready')).to.include({ status: 'False', reason: 'PartiallySucceeded' });
    expect(condition(e, 'Stalled')).to.include({ status: 'True', reason: 'PartiallySucceeded' });
    expect(condition(e, 'Stalled')?.message).to.contain('to westus2 failed after every retry; usable in eastus, westus');
    expect(condition(e, 'Reconciling')).to.equal(undefined);
    expect(e.status?.regions?.find((r) => r.name === 'westus2')).to.include({ state: 'Failed', attempts: 2 });
    expect(e.status?.regions?.filter((r) => r.state === 'Completed').map((r) => r.name)).to.deep.equal(['eastus', 'westus']);
    expect(e.status?.regionsReady).to.equal('2/3');
  });

  it('rides out a 429 storm', async () => {
    await create('throttled');
    await setFaults(op.emulator, { throttle: { requests: 25, retryAfterSeconds: 1 } });
    const e = await untilExport(op.client, ns, 'throttled', isReady, 'Ready despite throttling', 90_000);
    expect(e.status?.phase).to.equal('Succeeded');
    expect(await versionsOf(port, ns, 'throttled', e.metadata.uid!)).to.have.length(1);
  });

  it('stalls on an existing image definition of another kind, naming the fields', async () => {
    await create('mismatch', { image: { name: 'win11-cs101', osType: 'Windows', osState: 'Generalized', hyperVGeneration: 'V1' } });
    const e = await untilExport(op.client, ns, 'mismatch', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(e, 'Stalled')?.reason).to.equal('ImageDefinitionMismatch');
    expect(condition(e, 'Stalled')?.message).to.contain('osState').and.contain('hyperVGeneration');
    expect(condition(e, 'Ready')?.status).to.equal('False');
  });

  it('refuses a region outside the account\'s geography', async () => {
    await create('outside', { replication: { regions: ['eastus', 'westeurope'] } });
    const e = await untilExport(op.client, ns, 'outside', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(e, 'Stalled')?.reason).to.equal('RegionOutsideGeography');
    expect(condition(e, 'Stalled')?.message).to.contain('westeurope');
  });

  it('recreates a version deleted behind its back from the source', async () => {
    await create('drift', { replication: { regions: ['eastus'] } });
    const ready = await untilExport(op.client, ns, 'drift', isReady, 'Ready');
    const ref = { ...imageRef(ns, 'drift'), version: ready.status!.version! };
    await port.deleteImageVersion(ref);
    await eventually(async () => (await port.observeImageVersion(ref)) === undefined, { what: 'the version gone' });
    // Drift is found at the next reconcile: a spec change makes one now rather than at the sync period.
    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'drift', { spec: { replication: { regions: ['eastus'], replicaCount: 2 } } });
    await eventually(async () => (await port.observeImageVersion(ref))?.exportUid === ready.metadata.uid, { what: 'the version recreated' });
    const again = await untilExport(op.client, ns, 'drift', (x) => isReady(x) && x.status?.observedGeneration === x.metadata.generation, 'Ready again');
    expect(again.status?.version).to.equal(ready.status?.version);
  });

  it('waits for a LabTemplate\'s VM as its source', async () => {
    await create('from-template', { source: { labTemplateRef: { name: 'no-such-template' } } });
    const e = await untilExport(op.client, ns, 'from-template', (x) => condition(x, 'Reconciling')?.reason === 'SourceNotReady', 'SourceNotReady');
    expect(e.status?.phase).to.equal('Pending');
    expect(condition(e, 'Ready')?.status).to.equal('Unknown');
  });

  it('exports a LabTemplate\'s VM once the template reports one', async () => {
    const linuxVm = await createSourceVm(port, ns, 'linux-template-vm', 'Linux');
    const template: LabTemplate = {
      apiVersion: API_VERSION,
      kind: 'LabTemplate',
      metadata: { name: 'ubuntu-template', namespace: ns },
      spec: { labAccountRef: { name: 'cs-dept' }, image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } },
    };
    await op.client.create(RESOURCES.LabTemplate, template);
    await create('from-ubuntu', { source: { labTemplateRef: { name: 'ubuntu-template' } }, image: { name: 'ubuntu-cs101', osType: 'Linux' }, replication: { regions: ['eastus'] } });
    await untilExport(op.client, ns, 'from-ubuntu', (x) => condition(x, 'Reconciling')?.reason === 'SourceNotReady', 'SourceNotReady');
    // The template's status changing is what wakes the export (no LabTemplate controller writes it in this suite).
    await op.client.mergePatchStatus(RESOURCES.LabTemplate, ns, 'ubuntu-template', { status: { vm: { id: linuxVm, provisioningState: 'Succeeded' } } });
    const e = await untilExport(op.client, ns, 'from-ubuntu', isReady, 'Ready');
    // The LabTemplate controller may have given the template a VM of its own meanwhile: either is the template's.
    const current = (await op.client.get<LabTemplate>(RESOURCES.LabTemplate, ns, 'ubuntu-template'))?.status?.vm?.id;
    const source = (await port.observeImageVersion({ ...imageRef(ns, 'ubuntu-cs101'), version: e.status!.version! }))?.source.virtualMachineId;
    expect([linuxVm, current]).to.include(source);
    await op.client.delete(RESOURCES.LabTemplate, ns, 'ubuntu-template');
  });

  it('blocks deletion while a LabTemplate uses the export, then deletes the version (deletionPolicy Delete)', async () => {
    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'win11-cs101', { spec: { deletionPolicy: 'Delete' } });
    const ready = await untilExport(op.client, ns, 'win11-cs101', (x) => isReady(x) && x.status?.observedGeneration === x.metadata.generation, 'Ready, Delete seen');
    const template: LabTemplate = {
      apiVersion: API_VERSION,
      kind: 'LabTemplate',
      metadata: { name: 'cs101-template', namespace: ns },
      spec: { labAccountRef: { name: 'cs-dept' }, image: { imageExportRef: { name: 'win11-cs101' } } },
    };
    await op.client.create(RESOURCES.LabTemplate, template);
    await op.client.delete(RESOURCES.ImageExport, ns, 'win11-cs101');
    const blocked = await untilExport(op.client, ns, 'win11-cs101', (x) => condition(x, 'DeletionBlocked')?.status === 'True', 'DeletionBlocked');
    expect(blocked.status?.phase).to.equal('Deleting');
    expect(condition(blocked, 'DeletionBlocked')).to.include({ reason: 'InUse' });
    expect(condition(blocked, 'DeletionBlocked')?.message).to.contain('cs101-template');
    expect(await versionsOf(port, ns, 'win11-cs101', ready.metadata.uid!)).to.have.length(1);

    await op.client.delete(RESOURCES.LabTemplate, ns, 'cs101-template');
    await eventually(async () => (await getExport(op.client, ns, 'win11-cs101')) === undefined, { what: 'the export gone', timeoutMs: 60_000 });
    expect(await versionsOf(port, ns, 'win11-cs101', ready.metadata.uid!)).to.have.length(0);
  });

  it('deletes only its own version with deletionPolicy Delete, and keeps it with Retain, the default', async () => {
    const [a, b] = await Promise.all([getExport(op.client, ns, 'shared-a'), getExport(op.client, ns, 'shared-b')]);
    expect(b?.spec.deletionPolicy).to.equal('Retain');
    await op.client.mergePatch(RESOURCES.ImageExport, ns, 'shared-a', { spec: { deletionPolicy: 'Delete' } });
    await untilExport(op.client, ns, 'shared-a', (x) => x.status?.observedGeneration === x.metadata.generation, 'saw Delete');
    await op.client.delete(RESOURCES.ImageExport, ns, 'shared-a');
    await op.client.delete(RESOURCES.ImageExport, ns, 'shared-b');
    await eventually(async () => !(await getExport(op.client, ns, 'shared-a')) && !(await getExport(op.client, ns, 'shared-b')), { what: 'both exports gone' });
    const left = await port.listImageVersions(imageRef(ns, 'shared'));
    expect(left.map((v) => v.exportUid).sort()).to.deep.equal([b!.metadata.uid, (await getExport(op.client, ns, 'shared-c'))!.metadata.uid].sort());
    expect(left.some((v) => v.exportUid === a!.metadata.uid)).to.equal(false);
  });
});
