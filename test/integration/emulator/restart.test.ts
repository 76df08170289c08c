import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClientSecretCredential } from '@azure/identity';
import type { OperationHandle } from '../../../src/azure/index.ts';
import { eventually, portFor, raw, subscriptionId, untilDone, type Target } from './helpers.ts';
import { collect, marketplaceUbuntu, sdkFor } from './sdk.ts';

const script = new URL('./fixtures/emulator-process.ts', import.meta.url).pathname;

interface Child {
  process: ChildProcess;
  target: Target & { port: number };
}

async function spawnEmulator(stateFile: string, port: number, operationSeconds: number): Promise<Child> {
  const child = spawn(process.execPath, [script, stateFile, String(port), '3', String(operationSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const started = JSON.parse(line) as { url: string; port: number; caFile: string };
  return { process: child, target: { url: started.url, port: started.port, caPem: await readFile(started.caFile, 'utf8') } };
}

function kill(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

describe('ARM emulator killed and restarted from its state file', function () {
  let directory: string;
  let child: Child | undefined;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'labimages-emulator-'));
  });
  after(async () => {
    await kill(child);
    await rm(directory, { recursive: true, force: true });
  });

  it('resumes replication, and a stored operation handle is resumed by a new port', async () => {
    const stateFile = join(directory, 'state.json');
    child = await spawnEmulator(stateFile, 0, 0);
    const firstPort = portFor(child.target);
    const gallery = { resourceGroup: 'rg', gallery: 'g' };
    const image = { ...gallery, image: 'img' };
    const vm = { resourceGroup: 'rg', name: 'vm' };
    await untilDone(firstPort, await firstPort.createGallery(gallery, { location: 'westeurope' }));
    await untilDone(firstPort, await firstPort.createImage(image, { location: 'westeurope', osType: 'Linux', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } }));
    await untilDone(
      firstPort,
      await firstPort.createVirtualMachine(vm, {
        location: 'westeurope',
        size: 'Standard_B2s',
        image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
        admin: { username: 'labadmin', password: 'Secret-Passw0rd!' },
      }),
    );
    const replicating = { ...image, version: '1.0.0' };
    await untilDone(firstPort, await firstPort.createImageVersion(replicating, { location: 'westeurope', source: { virtualMachineId: firstPort.virtualMachineId(vm) }, targetRegions: [{ name: 'westeurope' }, { name: 'northeurope' }] }));
    const midway = await eventually(
      () => firstPort.observeImageVersion(replicating),
      (observed) => observed?.replication?.regions.some((region) => region.progress > 0) === true,
      'replication to start',
    );
    expect(midway!.replication!.aggregatedState).to.equal('InProgress');

    // A second emulator run whose operations take a while, so a handle outlives the process.
    await kill(child);
    child = await spawnEmulator(stateFile, child.target.port, 2);
    const started = await portFor(child.target).createImageVersion(
      { ...image, version: '1.0.1' },
      { location: 'westeurope', source: { virtualMachineId: firstPort.virtualMachineId(vm) }, targetRegions: [{ name: 'westeurope' }] },
    );
    const stored = JSON.stringify(started);
    await kill(child);

    child = await spawnEmulator(stateFile, child.target.port, 2);
    const secondPort = portFor(child.target);
    expect(await untilDone(secondPort, JSON.parse(stored) as OperationHandle)).to.deep.equal({ state: 'Succeeded' });
    const resumed = await eventually(
      () => secondPort.observeImageVersion(replicating),
      (observed) => observed?.replication?.aggregatedState === 'Completed',
      'replication to complete after the restart',
    );
    expect(resumed!.replication!.regions.map((region) => region.state)).to.deep.equal(['Completed', 'Completed']);
    expect((await secondPort.listImageVersions(image)).map((version) => version.name)).to.deep.equal(['1.0.0', '1.0.1']);
  });

  it('keeps resource groups, disks and NICs, principals added through the admin endpoint, and the tokens it issued', async () => {
    const stateFile = join(directory, 'access-state.json');
    await kill(child);
    child = await spawnEmulator(stateFile, 0, 0);
    const tenantId = '7a8b9c0d-1111-2222-3333-444455556666';
    const clientId = '0c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff';
    const added = await raw(child.target, 'POST', '/_emulator/config', {
      principals: [{ name: 'lab-sp', tenantId, clientId, clientSecret: 's3cret', roles: [{ scope: `/subscriptions/${subscriptionId}/resourceGroups/kept-rg`, access: 'write' }] }],
    });
    expect(added.status, JSON.stringify(added.body)).to.equal(200);
    const credential = new ClientSecretCredential(tenantId, clientId, 's3cret', { authorityHost: child.target.url, disableInstanceDiscovery: true, tlsOptions: { ca: child.target.caPem } });
    const sdk = sdkFor(child.target, credential);
    await sdk.compute.virtualMachines.createOrUpdate(
      'kept-rg',
      'vm',
      {
        location: 'westeurope',
        hardwareProfile: { vmSize: 'Standard_B2s' },
        storageProfile: { imageReference: marketplaceUbuntu },
        osProfile: { computerName: 'vm', adminUsername: 'labadmin', adminPassword: 'Secret-Passw0rd!' },
        networkProfile: { networkApiVersion: '2020-11-01', networkInterfaceConfigurations: [{ name: 'vm-nic', primary: true, ipConfigurations: [{ name: 'ip' }] }] },
      },
      { updateIntervalInMs: 10 },
    );
    await sdk.compute.virtualMachines.delete('kept-rg', 'vm', { updateIntervalInMs: 10 });

    await kill(child);
    child = await spawnEmulator(stateFile, child.target.port, 0);
    // The same credential object: its cached token was issued before the restart.
    const after = sdkFor(child.target, credential);
    expect((await collect(after.compute.disks.listByResourceGroup('kept-rg'))).map((disk) => disk.diskState)).to.deep.equal(['Unattached']);
    const nics = await after.send('GET', `/subscriptions/${subscriptionId}/resourceGroups/kept-rg/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01`);
    expect((nics.json as { value: { name: string }[] }).value.map((nic) => nic.name)).to.deep.equal(['vm-nic']);
    const groups = await raw(child.target, 'GET', `/subscriptions/${subscriptionId}/resourcegroups?api-version=2025-04-01`);
    expect((groups.body as { value: { name: string }[] }).value.map((group) => group.name)).to.deep.equal(['kept-rg']);
  });

  it('writes a deletion to the state file before it answers 404 for the resource deleted', async () => {
    const stateFile = join(directory, 'deleted-state.json');
    await kill(child);
    child = await spawnEmulator(stateFile, 0, 0.3);
    const port = portFor(child.target);
    const vm = { resourceGroup: 'rg', name: 'gone-vm' };
    const marketplace = { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' };
    await untilDone(port, await port.createVirtualMachine(vm, { location: 'westeurope', size: 'Standard_B2s', image: { marketplace }, admin: { username: 'labadmin', password: 'Secret-Passw0rd!' } }));
    await port.deleteVirtualMachine(vm);
    const stored = async () => Object.keys((JSON.parse(await readFile(stateFile, 'utf8')) as { virtualMachines: object }).virtualMachines);
    expect(await stored(), 'while the deletion runs').to.have.length(1);
    // Nobody polls the deletion: the GET that first finds it done settles it, and what it reports is on disk.
    await eventually(async () => (await port.observeVirtualMachine(vm)) === undefined, (gone) => gone, 'the VM gone');
    expect(await stored(), 'once a GET has answered 404').to.deep.equal([]);
  });
});
