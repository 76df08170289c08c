import { RESOURCES } from '../../src/api/index.ts';
import { expect } from 'chai';
import type { ImageExport } from '../../src/api/index.ts';
import { defaultArmRetryOptions } from '../../src/azure/retry.ts';

import type { Faults, RequestCounts } from '../../src/emulator/index.ts';
import { REGIONS, createAccounts, exportManifest, galleryName, imageName, inParallel } from '../../bench/workload.ts';
import { admin, createSourceVm } from '../integration/controllers/imageexport-fixtures.ts';
import { eventually } from '../integration/eventually.ts';
import { Rig, isReady, versionsByExport } from './rig.ts';

const shape = { accounts: 1, images: 2, vmId: '' };
/** Workers that may call ARM at once: one per controller (LabAccount, GalleryAttachment, ImageExport, LabTemplate) at --concurrency 1. */
const WORKERS = 4;

describe('resilience: Azure misbehaving', function () {
  let rig: Rig;
  let next = 0;

  before(async () => {
    rig = await Rig.start('azure', { emulator: { replicationSeconds: 4, operationSeconds: 0.3 }, regionRetries: 2 });
    await createAccounts(rig.client, rig.namespace, shape.accounts);
    shape.vmId = await createSourceVm(rig.port, rig.namespace, 'source-vm');
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`operator log:\n${rig?.operator?.recentLog.join('\n')}`);
    await rig.setFaults({ regionFailures: [], throttle: null });
  });
  after(async () => rig?.stop());

  async function create(count: number): Promise<string[]> {
    const indexes = Array.from({ length: count }, () => next++);
    await inParallel(indexes, 8, async (i) => {
      await rig.client.create(RESOURCES.ImageExport, exportManifest(rig.namespace, i, shape));
    });
    return indexes.map((i) => exportManifest(rig.namespace, i, shape).metadata.name ?? '');
  }

  const getExport = (name: string) => rig.client.get<ImageExport>(RESOURCES.ImageExport, rig.namespace, name);
  const requests = async () => ((await admin(rig.emulator, 'GET', '/_emulator/requests')) as RequestCounts).total;

  async function expectOneVersionEach(): Promise<void> {
    const exports = await rig.exports();
    const images = [0, 1].map((i) => ({ resourceGroup: `labimages-${rig.namespace}`, gallery: galleryName(0), image: imageName(i) }));
    const versions = await versionsByExport(rig.port, images);
    for (const e of exports) expect(versions.get(e.metadata.uid ?? ''), e.metadata.name).to.have.length(1);
  }

  it('rides out a 429 storm honouring Retry-After: the request rate stays bounded by the workers, not by the errors', async function () {
    const throttled = 60;
    const retryAfterSeconds = 1;
    await create(10);
    // Storm in the middle of the work: every export has a version under way.
    await eventually(async () => (await rig.exports()).every((e) => e.status?.version), { timeoutMs: 60_000, what: 'every export under way' });
    const before = await requests();
    const started = performance.now();
    await rig.setFaults({ throttle: { requests: throttled, retryAfterSeconds } });
    await eventually(async () => ((await admin(rig.emulator, 'GET', '/_emulator/faults')) as Faults).throttle?.requests === 0, { timeoutMs: 120_000, intervalMs: 200, what: 'the storm to pass' });
    const stormSeconds = (performance.now() - started) / 1000;
    const stormRequests = (await requests()) - before;

    // Each worker waits Retry-After before each of its in-call retries (maxRetries of them), then
    // requeues that key after Retry-After and may call once for another key. So per worker at most
    // (maxRetries + 1) requests per (maxRetries × Retry-After), plus one round to start with. Hammering
    // (retrying at once, or every key retrying on its own) would answer all 60 within a second or two.
    const attempts = defaultArmRetryOptions.maxRetries + 1;
    const bound = WORKERS * attempts * (stormSeconds / (defaultArmRetryOptions.maxRetries * retryAfterSeconds) + 1);
    console.log(`      ${stormRequests} ARM requests (${throttled} answered 429) in a ${stormSeconds.toFixed(1)} s storm; at most ${Math.floor(bound)} allowed`);
    expect(stormRequests, `ARM requests during a ${stormSeconds.toFixed(1)} s storm`).to.be.at.most(bound);

    await rig.untilEveryExport(isReady, 'Ready after the storm', 180_000);
    await expectOneVersionEach();
  });

  it('settles an export whose region fails for good as PartiallySucceeded, keeping the completed regions', async function () {
    await rig.setFaults({ regionFailures: [{ region: 'westus2', times: 1000 }] });
    const [name] = await create(1);
    const settled = await eventually(
      async () => {
        const e = await getExport(name ?? '');
        return e?.status?.phase === 'PartiallySucceeded' ? e : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `${name} PartiallySucceeded` },
    );
    const status = settled.status!;
    expect(status.regions?.map((r) => [r.name, r.state])).to.deep.equal(REGIONS.map((r) => [r, r === 'westus2' ? 'Failed' : 'Completed']));
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('False');
    expect(status.conditions?.find((c) => c.type === 'Stalled')).to.include({ status: 'True', reason: 'PartiallySucceeded' });
    expect(ready?.message).to.contain('westus2');
    expect(status.conditions?.find((c) => c.type === 'Reconciling')).to.equal(undefined);
  });

  it('finishes every export when the emulator is restarted mid-replication', async function () {
    const names = await create(5);
    // Wait until replication is under way (a region part-replicated), then take "Azure" down for a while.
    await eventually(
      async () => {
        const all = await Promise.all(names.map(getExport));
        return all.some((e) => e?.status?.regions?.some((r) => r.state === 'Replicating' && (r.progress ?? 0) > 0));
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'a region part-replicated' },
    );
    await rig.restartEmulator(3000);
    await rig.untilEveryExport((e) => !names.includes(e.metadata.name ?? '') || isReady(e), 'Ready after the emulator restart', 180_000);
    await expectOneVersionEach();
  });
});
