import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ArmError, type GalleryPort, type ImageVersionObservation } from '../../../src/azure/index.ts';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { portFor, untilDone } from './helpers.ts';

// The whole gallery workflow through @azure/arm-compute and the port, on an emulator whose clock
// the test moves: replication progress is observed at chosen times, not raced against.

describe('gallery port against the ARM emulator', function () {
  let emulator: RunningEmulator;
  let port: GalleryPort;
  let now = Date.parse('2025-06-01T00:00:00Z');
  const registry = new Registry();
  const gallery = { resourceGroup: 'labs-rg', gallery: 'labgallery' };
  const image = { ...gallery, image: 'win11-cs101' };
  const version = { ...image, version: '1.0.0' };
  const vm = { resourceGroup: 'labs-rg', name: 'template-vm' };

  before(async () => {
    emulator = await startEmulator({ replicationSeconds: 100, operationSeconds: 1, pageSize: 1, clock: () => now });
    port = portFor(emulator, registry);
  });
  after(async () => emulator?.stop());

  // The port's sense of time moves with the emulator's, so waiting out a Retry-After is instant.
  const start = now;
  const clock = {
    now: () => Date.now() + (now - start),
    wait: async (ms: number) => {
      now += ms;
    },
  };

  /** Polls as reconciles would, moving both clocks by each Retry-After. */
  function complete(handle: Parameters<typeof untilDone>[1]) {
    return untilDone(port, handle, clock);
  }

  it('creates a gallery, an image definition and a VM from the marketplace', async () => {
    expect(await port.observeGallery(gallery)).to.equal(undefined);
    const handle = await port.createGallery(gallery, { location: 'West Europe', description: 'CS department' });
    const stored = JSON.parse(JSON.stringify(handle)) as typeof handle;
    expect((await port.observeGallery(gallery))?.provisioningState).to.equal('Creating');
    expect(await complete(stored)).to.deep.equal({ state: 'Succeeded' });
    expect(await port.observeGallery(gallery)).to.include({ location: 'westeurope', provisioningState: 'Succeeded', description: 'CS department' });

    await complete(
      await port.createImage(image, { location: 'westeurope', osType: 'Windows', osState: 'Specialized', hyperVGeneration: 'V2', identifier: { publisher: 'labs', offer: 'cs101', sku: 'win11' } }),
    );
    expect(await port.observeImage(image)).to.include({ osType: 'Windows', osState: 'Specialized', hyperVGeneration: 'V2', provisioningState: 'Succeeded' });

    await complete(
      await port.createVirtualMachine(vm, {
        location: 'westeurope',
        size: 'Standard_D2s_v5',
        image: { marketplace: { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro', version: 'latest' } },
        subnetId: '/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/labs/subnets/labs',
        admin: { username: 'labadmin', password: 'Secret-Passw0rd!' },
      }),
    );
    expect(await port.observeVirtualMachine(vm)).to.include({ osType: 'Windows', osDiskSizeGiB: 127, powerState: 'running', provisioningState: 'Succeeded' });
  });

  it('exports the VM into an image version in two regions and watches it replicate', async () => {
    const handle = await port.createImageVersion(version, {
      location: 'westeurope',
      source: { virtualMachineId: port.virtualMachineId(vm) },
      targetRegions: [{ name: 'West Europe' }, { name: 'northeurope', replicaCount: 2 }],
      exportUid: 'uid-1234',
    });
    const inProgress = await port.poll(handle, clock.now());
    expect(inProgress.state).to.equal('InProgress');
    expect(await complete(handle)).to.deep.equal({ state: 'Succeeded' });

    const started = (await port.observeImageVersion(version))!;
    expect(started).to.include({ provisioningState: 'Succeeded', exportUid: 'uid-1234', osDiskSizeGiB: 127 });
    expect(started.targetRegions).to.deep.equal([
      { name: 'westeurope', replicaCount: 1, storageAccountType: 'Standard_LRS', excludeFromLatest: false },
      { name: 'northeurope', replicaCount: 2, storageAccountType: 'Standard_LRS', excludeFromLatest: false },
    ]);
    expect(started.replication?.aggregatedState).to.equal('InProgress');

    now += 40_000;
    const midway = (await port.observeImageVersion(version))!;
    for (const region of midway.replication!.regions) {
      expect(region.state).to.equal('Replicating');
      expect(region.progress).to.be.greaterThan(0).and.lessThan(100);
    }
    now += 60_000;
    const done = (await port.observeImageVersion(version))!;
    expect(done.replication).to.deep.equal({
      aggregatedState: 'Completed',
      regions: [
        { region: 'westeurope', state: 'Completed', progress: 100, details: '' },
        { region: 'northeurope', state: 'Completed', progress: 100, details: '' },
      ],
    });
    expect((await port.findImageVersionByExportUid(image, 'uid-1234'))?.name).to.equal('1.0.0');
    expect(await port.findImageVersionByExportUid(image, 'someone-else')).to.equal(undefined);
  });

  it('refuses a VM from the version in a region it has not replicated to', async () => {
    const refused = await port
      .createVirtualMachine({ resourceGroup: 'labs-rg', name: 'in-sweden' }, { location: 'swedencentral', size: 'Standard_D2s_v5', image: { imageVersionId: port.imageVersionId(version) } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).to.be.instanceOf(ArmError);
    expect(refused).to.include({ code: 'GalleryImageNotFound', statusCode: 404, retryable: false });
  });

  it('adds and removes regions of the existing version', async () => {
    await complete(await port.updateImageVersion(version, { targetRegions: [{ name: 'westeurope' }, { name: 'swedencentral' }] }));
    const patched = (await port.observeImageVersion(version))!;
    expect(patched.targetRegions.map((region) => region.name)).to.deep.equal(['westeurope', 'swedencentral']);
    expect(patched.replication!.regions.map((region) => [region.region, region.state])).to.deep.equal([
      ['westeurope', 'Completed'],
      ['swedencentral', 'Replicating'],
    ]);
    now += 100_000;
    const replicated: ImageVersionObservation = (await port.observeImageVersion(version))!;
    expect(replicated.replication!.aggregatedState).to.equal('Completed');

    await complete(
      await port.createVirtualMachine({ resourceGroup: 'labs-rg', name: 'in-sweden' }, { location: 'swedencentral', size: 'Standard_D2s_v5', image: { imageVersionId: port.imageVersionId(version) } }),
    );
    expect((await port.observeVirtualMachine({ resourceGroup: 'labs-rg', name: 'in-sweden' }))?.image.id).to.equal(port.imageVersionId(version));
  });

  it('refuses to change the source of a version and duplicate target regions', async () => {
    const changed = await port
      .createImageVersion(version, { location: 'westeurope', source: { virtualMachineId: port.virtualMachineId({ resourceGroup: 'labs-rg', name: 'in-sweden' }) }, targetRegions: [{ name: 'westeurope' }] })
      .catch((error: unknown) => error);
    expect(changed).to.include({ code: 'PropertyChangeNotAllowed', retryable: false });
    const duplicate = await port.updateImageVersion(version, { targetRegions: [{ name: 'westeurope' }, { name: 'West Europe' }] }).catch((error: unknown) => error);
    expect(duplicate).to.include({ code: 'InvalidParameter', retryable: false });
    expect((duplicate as Error).message).to.equal('Duplicate regions are not allowed in target publishing regions.');
  });

  it('lists across pages (nextLink) and deletes everything', async () => {
    await complete(
      await port.createImageVersion({ ...image, version: '1.0.1' }, { location: 'westeurope', source: { virtualMachineId: port.virtualMachineId(vm) }, targetRegions: [{ name: 'westeurope' }] }),
    );
    await complete(await port.createGallery({ resourceGroup: 'labs-rg', gallery: 'othergallery' }, { location: 'northeurope' }));
    expect((await port.listImageVersions(image)).map((item) => item.name)).to.deep.equal(['1.0.0', '1.0.1']);
    expect((await port.listGalleries('labs-rg')).map((item) => item.name)).to.deep.equal(['labgallery', 'othergallery']);
    expect((await port.listGalleries()).length).to.equal(2);
    expect((await port.listImages(gallery)).map((item) => item.name)).to.deep.equal(['win11-cs101']);

    for (const ref of [version, { ...image, version: '1.0.1' }]) await complete(await port.deleteImageVersion(ref));
    await complete(await port.deleteImage(image));
    await complete(await port.deleteGallery(gallery));
    await complete(await port.deleteVirtualMachine(vm));
    expect(await port.observeImageVersion(version)).to.equal(undefined);
    expect(await port.observeGallery(gallery)).to.equal(undefined);
    expect(await port.observeVirtualMachine(vm)).to.equal(undefined);
    // Deleting what is gone is done at once.
    expect((await port.deleteGallery(gallery)).pollUrl).to.equal(undefined);
  });

  it('counted every ARM request by operation and status code', async () => {
    const metric = await registry.getSingleMetric('labimages_arm_requests_total')!.get();
    const count = (operation: string, code: string) => metric.values.find((value) => value.labels.operation === operation && value.labels.code === code)?.value ?? 0;
    expect(count('galleries.createOrUpdate', '201')).to.equal(2);
    expect(count('galleryImageVersions.update', '200')).to.equal(1);
    expect(count('virtualMachines.createOrUpdate', '404')).to.equal(1);
    expect(count('operations.get', '200')).to.be.greaterThan(0);
    expect(count('galleryImageVersions.list', '200')).to.be.greaterThan(1);
  });
});
