import { RESOURCES } from '../../src/api/index.ts';
import { expect } from 'chai';

import { createAccounts, exportManifest, galleryName, imageName, inParallel } from '../../bench/workload.ts';
import { createSourceVm } from '../integration/controllers/imageexport-fixtures.ts';
import { controlPlane } from '../integration/harness.ts';
import { eventually } from '../integration/eventually.ts';
import { Rig, isReady, versionsByExport } from './rig.ts';

const shape = { accounts: 1, images: 3, vmId: '' };

describe('resilience: kube-apiserver restarts and etcd compaction', function () {
  let rig: Rig;

  before(async () => {
    rig = await Rig.start('apiserver', { emulator: { replicationSeconds: 2, operationSeconds: 0.3 } });
    await createAccounts(rig.client, rig.namespace, shape.accounts);
    shape.vmId = await createSourceVm(rig.port, rig.namespace, 'source-vm');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`operator log:\n${rig?.operator?.recentLog.join('\n')}`);
  });
  after(async () => rig?.stop());

  const create = (from: number, count: number) =>
    inParallel(Array.from({ length: count }, (_, i) => from + i), 8, async (i) => {
      const manifest = exportManifest(rig.namespace, i, shape);
      // A deleted export's version goes with it only when asked (the default is Retain).
      await rig.client.create(RESOURCES.ImageExport, { ...manifest, spec: { ...manifest.spec, deletionPolicy: 'Delete' } });
    });

  it('misses no change across an API server restart mid-run and a compaction that expires every watch (410 Gone)', async function () {
    await create(0, 20);
    await eventually(async () => (await rig.exports()).filter(isReady).length >= 3, { timeoutMs: 120_000, what: 'a few exports Ready' });
    // Restart with exports in every phase: every watch and request in flight breaks.
    await controlPlane().restartApiServer();
    await create(20, 10);
    await rig.untilEveryExport(isReady, 'Ready after the restart', 240_000);

    // Compact to the current revision and restart again: the operator's watches resume from a
    // resourceVersion etcd no longer has, are told 410 Gone, and must relist. Changes made meanwhile
    // (new exports, a deletion, a replication change) reach the operator only through that relist.
    await controlPlane().compactEtcd();
    await controlPlane().restartApiServer();
    await create(30, 5);
    await rig.client.delete(RESOURCES.ImageExport, rig.namespace, 'export-00000');
    await rig.client.mergePatch(RESOURCES.ImageExport, rig.namespace, 'export-00001', { spec: { replication: { regions: ['eastus', 'westus'] } } });

    await eventually(async () => !(await rig.exports()).some((e) => e.metadata.name === 'export-00000'), { timeoutMs: 120_000, what: 'export-00000 deleted' });
    const exports = await rig.untilEveryExport((e) => isReady(e) && e.status?.observedGeneration === e.metadata.generation, 'Ready at its generation', 240_000);
    expect(exports).to.have.length(34);
    const narrowed = exports.find((e) => e.metadata.name === 'export-00001');
    expect(narrowed?.status?.regions?.map((r) => r.name)).to.deep.equal(['eastus', 'westus']);

    const images = [0, 1, 2].map((i) => ({ resourceGroup: `labimages-${rig.namespace}`, gallery: galleryName(0), image: imageName(i) }));
    const versions = await versionsByExport(rig.port, images);
    expect([...versions.values()].filter((list) => list.length > 1), 'duplicated versions').to.deep.equal([]);
    expect([...versions.keys()].sort(), 'one version per export, none for the deleted one').to.deep.equal(exports.map((e) => e.metadata.uid).sort());
  });
});
