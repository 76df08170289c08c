import { expect } from 'chai';
import { ArmError, type GalleryPort } from '../../../src/azure/index.ts';
import { replicationFailedMessage, startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { eventually, portFor, requestCounts, setFaults, untilDone } from './helpers.ts';

describe('gallery port under injected ARM faults', function () {
  let emulator: RunningEmulator;
  let port: GalleryPort;
  const gallery = { resourceGroup: 'rg', gallery: 'faulty' };
  const image = { ...gallery, image: 'linux' };
  const vm = { resourceGroup: 'rg', name: 'source' };

  before(async () => {
    emulator = await startEmulator({ replicationSeconds: 0.3, operationSeconds: 0 });
    port = portFor(emulator);
    await untilDone(port, await port.createGallery(gallery, { location: 'westeurope' }));
    await untilDone(port, await port.createImage(image, { location: 'westeurope', osType: 'Linux', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } }));
    await untilDone(
      port,
      await port.createVirtualMachine(vm, {
        location: 'westeurope',
        size: 'Standard_B2s',
        image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
        admin: { username: 'labadmin', password: 'Secret-Passw0rd!' },
      }),
    );
  });
  afterEach(async () => setFaults(emulator, { throttle: null, serverErrors: null, regionFailures: [] }));
  after(async () => emulator?.stop());

  it('rides out a 429 storm as Retry-After says, sending only the requests the storm needs', async () => {
    // Five throttled answers: one call sends four (three inline retries, each after Retry-After)
    // and hands the wait back; the call after that wait meets the fifth 429, then success.
    await setFaults(emulator, { throttle: { requests: 5, retryAfterSeconds: 1 } });
    const before = (await requestCounts(emulator)).total;
    const first = await port.observeGallery(gallery).catch((error: unknown) => error);
    expect(first).to.be.instanceOf(ArmError);
    expect(first).to.include({ code: 'OperationNotAllowed', statusCode: 429, retryable: true, retryAfterMs: 1000 });
    expect((await requestCounts(emulator)).total - before).to.equal(4);

    await new Promise((resolve) => setTimeout(resolve, (first as ArmError).retryAfterMs));
    expect((await port.observeGallery(gallery))?.name).to.equal('faulty');
    expect((await requestCounts(emulator)).total - before).to.equal(6); // the storm's five, and one success
  });

  it('hands a long Retry-After back to the caller instead of holding it', async () => {
    await setFaults(emulator, { throttle: { requests: 1, retryAfterSeconds: 120 } });
    const before = (await requestCounts(emulator)).total;
    const error = await port.observeImage(image).catch((caught: unknown) => caught);
    expect(error).to.include({ code: 'OperationNotAllowed', retryable: true, retryAfterMs: 120_000 });
    expect((await requestCounts(emulator)).total - before).to.equal(1);
  });

  it('retries a 500', async () => {
    await setFaults(emulator, { serverErrors: { requests: 2 } });
    const before = await requestCounts(emulator);
    expect((await port.observeImage(image))?.name).to.equal('linux');
    const after = await requestCounts(emulator);
    expect(after.byRoute['GET resourceGroups/{}/galleries/{}/images/{}']! - (before.byRoute['GET resourceGroups/{}/galleries/{}/images/{}'] ?? 0)).to.equal(3);
  });

  it('reports a failed region with Azure message, and replicates it once it is removed and added back', async () => {
    await setFaults(emulator, { regionFailures: [{ region: 'North Europe', times: 1 }] });
    const version = { ...image, version: '2.0.0' };
    const regions = [{ name: 'westeurope' }, { name: 'northeurope' }];
    await untilDone(port, await port.createImageVersion(version, { location: 'westeurope', source: { virtualMachineId: port.virtualMachineId(vm) }, targetRegions: regions }));
    const failed = await eventually(
      () => port.observeImageVersion(version),
      (observed) => observed?.replication?.regions.every((region) => region.state !== 'Replicating') === true,
      'replication to settle',
    );
    expect(failed!.replication!.aggregatedState).to.equal('Failed');
    const [west, north] = failed!.replication!.regions;
    expect(west).to.include({ region: 'westeurope', state: 'Completed', progress: 100 });
    expect(north).to.include({ region: 'northeurope', state: 'Failed' });
    expect(north!.details).to.contain(replicationFailedMessage).and.to.match(/^Gallery replication jobs failed in one or more regions/);

    await untilDone(port, await port.updateImageVersion(version, { targetRegions: [regions[0]!] }));
    await untilDone(port, await port.updateImageVersion(version, { targetRegions: regions }));
    const healed = await eventually(
      () => port.observeImageVersion(version),
      (observed) => observed?.replication?.aggregatedState === 'Completed',
      'replication to complete',
    );
    expect(healed!.provisioningState).to.equal('Succeeded');
  });
});
