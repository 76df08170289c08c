import type { VirtualMachine } from '@azure/arm-compute';
import { expect } from 'chai';
import { defaultToken, startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { raw, subscriptionId } from './helpers.ts';
import { collect, marketplaceUbuntu, refusal, sdkFor, staticToken, type Sdk } from './sdk.ts';

// What real ARM does to a user, through the real SDK: each behaviour here is documented with its
// public source in docs/emulator.md.

const subnet = `/subscriptions/${subscriptionId}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/labs/subnets/default`;

function vmBody(name: string, deleteOption?: 'Delete' | 'Detach'): VirtualMachine {
  return {
    location: 'westeurope',
    hardwareProfile: { vmSize: 'Standard_D2s_v5' },
    storageProfile: {
      imageReference: marketplaceUbuntu,
      osDisk: { createOption: 'FromImage', ...(deleteOption ? { deleteOption } : {}) },
      dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 32, ...(deleteOption ? { deleteOption } : {}) }],
    },
    osProfile: { computerName: name, adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
    networkProfile: {
      networkApiVersion: '2020-11-01',
      networkInterfaceConfigurations: [{ name: `${name}-nic`, primary: true, ...(deleteOption ? { deleteOption } : {}), ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnet } }] }],
    },
  };
}

async function nicNames(sdk: Sdk, resourceGroup: string): Promise<string[]> {
  const answer = await sdk.send('GET', `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01`);
  return ((answer.json as { value: { name: string }[] }).value ?? []).map((nic) => nic.name);
}

describe('ARM emulator: disks and NICs live and die as deleteOption says', function () {
  let emulator: RunningEmulator;
  let sdk: Sdk;
  const poll = { updateIntervalInMs: 10 };

  before(async () => {
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 0.05 });
    sdk = sdkFor(emulator);
  });
  after(async () => emulator?.stop());

  it('a VM deleted without deleteOption leaves its OS disk, data disk and NIC behind, unattached', async () => {
    const vm = await sdk.compute.virtualMachines.createOrUpdate('keep-rg', 'keeper', vmBody('keeper'), poll);
    const osDiskId = vm.storageProfile?.osDisk?.managedDisk?.id ?? '';
    expect(osDiskId).to.match(/\/providers\/Microsoft\.Compute\/disks\/keeper_OsDisk_1_/);
    expect(vm.storageProfile?.osDisk?.deleteOption).to.equal('Detach');
    expect(vm.networkProfile?.networkInterfaces?.[0]?.id).to.match(/\/providers\/Microsoft\.Network\/networkInterfaces\/keeper-nic$/);
    const attached = await collect(sdk.compute.disks.listByResourceGroup('keep-rg'));
    expect(attached.map((disk) => disk.diskState)).to.deep.equal(['Attached', 'Attached']);
    expect(attached[0]?.managedBy).to.match(/virtualMachines\/keeper$/);

    await sdk.compute.virtualMachines.delete('keep-rg', 'keeper', poll);
    expect(await refusal(sdk.compute.virtualMachines.get('keep-rg', 'keeper'))).to.include({ statusCode: 404 });
    const left = await collect(sdk.compute.disks.listByResourceGroup('keep-rg'));
    expect(left.map((disk) => disk.diskState)).to.deep.equal(['Unattached', 'Unattached']);
    expect(left.every((disk) => disk.managedBy === undefined)).to.equal(true);
    expect(await nicNames(sdk, 'keep-rg')).to.deep.equal(['keeper-nic']);
    expect((await collect(sdk.compute.disks.list())).length).to.be.at.least(2);

    // What was left can be deleted on its own, as a user cleaning up would.
    for (const disk of left) await sdk.compute.disks.delete('keep-rg', disk.name ?? '', poll);
    expect(await collect(sdk.compute.disks.listByResourceGroup('keep-rg'))).to.deep.equal([]);
  });

  it('with deleteOption Delete the VM takes its disks and NIC along', async () => {
    await sdk.compute.virtualMachines.createOrUpdate('gone-rg', 'goner', vmBody('goner', 'Delete'), poll);
    const disk = (await collect(sdk.compute.disks.listByResourceGroup('gone-rg')))[0]!;
    expect(await refusal(sdk.compute.disks.delete('gone-rg', disk.name ?? '', poll))).to.include({ statusCode: 409, code: 'OperationNotAllowed' });
    const nicDelete = await sdk.send('DELETE', `/subscriptions/${subscriptionId}/resourceGroups/gone-rg/providers/Microsoft.Network/networkInterfaces/goner-nic?api-version=2024-05-01`);
    expect(nicDelete.status).to.equal(400);
    expect(nicDelete.json).to.have.nested.property('error.code', 'NicInUse');

    await sdk.compute.virtualMachines.delete('gone-rg', 'goner', poll);
    expect(await collect(sdk.compute.disks.listByResourceGroup('gone-rg'))).to.deep.equal([]);
    expect(await nicNames(sdk, 'gone-rg')).to.deep.equal([]);
  });

  it('an image version made from a VM with a data disk has a data disk image, and VMs made from it get the disk', async () => {
    await sdk.compute.virtualMachines.createOrUpdate('img-rg', 'source', vmBody('source'), poll);
    await sdk.compute.galleries.createOrUpdate('img-rg', 'g', { location: 'westeurope' }, poll);
    await sdk.compute.galleryImages.createOrUpdate('img-rg', 'g', 'linux', { location: 'westeurope', osType: 'Linux', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } }, poll);
    const version = await sdk.compute.galleryImageVersions.createOrUpdate(
      'img-rg',
      'g',
      'linux',
      '1.0.0',
      { location: 'westeurope', storageProfile: { source: { virtualMachineId: `/subscriptions/${subscriptionId}/resourceGroups/img-rg/providers/Microsoft.Compute/virtualMachines/source` } } },
      poll,
    );
    expect(version.storageProfile?.dataDiskImages?.map((image) => [image.lun, image.sizeInGB])).to.deep.equal([[0, 32]]);
    const copy = await sdk.compute.virtualMachines.createOrUpdate(
      'img-rg',
      'copy',
      { ...vmBody('copy'), storageProfile: { imageReference: { id: version.id }, osDisk: { createOption: 'FromImage' } } },
      poll,
    );
    expect(copy.storageProfile?.dataDisks?.map((disk) => [disk.lun, disk.createOption, disk.diskSizeGB])).to.deep.equal([[0, 'FromImage', 32]]);
  });
});

describe('ARM emulator: principals and role assignments', function () {
  let emulator: RunningEmulator;

  before(async () => {
    emulator = await startEmulator({
      replicationSeconds: 0,
      operationSeconds: 0,
      config: {
        principals: [
          { name: 'admin', tokens: ['admin-token'], roles: [{ scope: '/', access: 'write' }] },
          { name: 'lab-a', tokens: ['lab-a-token'], roles: [{ scope: `/subscriptions/${subscriptionId}/resourceGroups/rg-a`, access: 'write' }] },
          { name: 'auditor', objectId: '11111111-2222-3333-4444-555555555555', tokens: ['auditor-token'], roles: [{ scope: `/subscriptions/${subscriptionId}`, access: 'read' }] },
        ],
        subscriptions: { '*': { implicitResourceGroups: true } },
      },
    });
  });
  after(async () => emulator?.stop());

  it('a principal scoped to one resource group writes there and gets 403 AuthorizationFailed in another', async () => {
    const labA = sdkFor(emulator, staticToken('lab-a-token'));
    await labA.compute.galleries.createOrUpdate('rg-a', 'gallery', { location: 'westeurope' }, { updateIntervalInMs: 10 });
    const denied = await refusal(labA.compute.galleries.createOrUpdate('rg-b', 'gallery', { location: 'westeurope' }));
    expect(denied).to.include({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(denied.message).to.match(
      /^The client 'lab-a' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft\.Compute\/galleries\/write' over scope '\/subscriptions\/[^/]+\/resourceGroups\/rg-b\/providers\/Microsoft\.Compute\/galleries\/gallery' or the scope is invalid\./,
    );
    // Listing the whole subscription needs a role there too.
    expect(await refusal(collect(labA.compute.galleries.list()))).to.include({ statusCode: 403 });
  });

  it('read access reads and may not write; an unknown token is 401', async () => {
    const auditor = sdkFor(emulator, staticToken('auditor-token'));
    expect((await collect(auditor.compute.galleries.list())).map((gallery) => gallery.name)).to.deep.equal(['gallery']);
    const denied = await refusal(auditor.compute.galleries.delete('rg-a', 'gallery'));
    expect(denied).to.include({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(denied.message).to.include("with object id '11111111-2222-3333-4444-555555555555'").and.include("action 'Microsoft.Compute/galleries/delete'");
    expect(await refusal(sdkFor(emulator, staticToken('nobody')).compute.galleries.get('rg-a', 'gallery'))).to.include({ statusCode: 401, code: 'InvalidAuthenticationToken' });
  });

  it('the admin endpoint adds principals and role assignments; only an administrator may use it', async () => {
    const refused = await raw(emulator, 'POST', '/_emulator/config', { principals: [] }, 'lab-a-token');
    expect(refused.status).to.equal(403);
    const added = await raw(emulator, 'POST', '/_emulator/config', { principals: [{ name: 'late', tokens: ['late-token'], roles: [{ scope: `/subscriptions/${subscriptionId}/resourceGroups/rg-a`, access: 'read' }] }] }, 'admin-token');
    expect(added.status, JSON.stringify(added.body)).to.equal(200);
    expect((added.body as { principals: { name: string }[] }).principals.map((principal) => principal.name)).to.include.members(['admin', 'lab-a', 'auditor', 'late']);
    const late = sdkFor(emulator, staticToken('late-token'));
    expect((await late.compute.galleries.get('rg-a', 'gallery')).name).to.equal('gallery');
    const invalid = await raw(emulator, 'POST', '/_emulator/config', { principals: [{ name: 'x', roles: [{ scope: 'everything', access: 'write' }] }] }, 'admin-token');
    expect(invalid.status).to.equal(400);
    expect(invalid.body).to.have.nested.property('error.message').that.match(/principals\.0\.roles\.0\.scope/);
  });
});

describe("ARM emulator: ARM's token buckets", function () {
  let emulator: RunningEmulator;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const galleries = `/subscriptions/${subscriptionId}/resourceGroups/burst-rg/providers/Microsoft.Compute/galleries`;

  before(async () => {
    emulator = await startEmulator({
      replicationSeconds: 0,
      operationSeconds: 0,
      clock: () => now,
      config: {
        principals: [
          { name: 'labimages-emulator', tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] },
          { name: 'reader', tokens: ['reader-token'], roles: [{ scope: '/', access: 'read' }] },
        ],
        subscriptions: { '*': { implicitResourceGroups: true } },
      },
    });
    expect((await raw(emulator, 'PUT', `${galleries}/g?api-version=2025-12-03`, { location: 'westeurope' })).status).to.equal(201);
  });
  after(async () => emulator?.stop());

  it('300 reads in a burst: 250 answered with the budget counting down, then 429 with Retry-After until tokens refill', async () => {
    const reader = sdkFor(emulator, staticToken('reader-token'));
    const remaining: number[] = [];
    const refused: { statusCode?: number; code?: string; message: string }[] = [];
    for (let read = 0; read < 300; read += 1) {
      try {
        await reader.compute.galleries.get('burst-rg', 'g', { onResponse: (response) => remaining.push(Number(response.headers.get('x-ms-ratelimit-remaining-subscription-reads'))) });
      } catch (error) {
        refused.push(error as (typeof refused)[number]);
      }
    }
    expect(remaining.slice(0, 250)).to.deep.equal(Array.from({ length: 250 }, (_, index) => 249 - index));
    expect(refused).to.have.length(50);
    expect(refused[0]).to.include({ statusCode: 429, code: 'SubscriptionRequestsThrottled' });
    expect(refused[0]?.message).to.match(/^Number of 'read' requests for subscription '[^']+' actor '[^']+' exceeded\. Please try again after '1' seconds after additional tokens are available\./);

    const throttled = await reader.send('GET', `${galleries}?api-version=2025-12-03`);
    expect(throttled.status).to.equal(429);
    expect(throttled.headers.get('retry-after')).to.equal('1');
    expect(throttled.headers.get('x-ms-ratelimit-remaining-subscription-reads')).to.equal('0');
    // Another principal has buckets of its own; the subscription-wide bucket is 15 times as large.
    const other = await raw(emulator, 'GET', `${galleries}?api-version=2025-12-03`);
    expect(other.status).to.equal(200);
    expect(other.headers['x-ms-ratelimit-remaining-subscription-reads']).to.equal('249');
    expect(other.headers['x-ms-ratelimit-remaining-subscription-global-reads']).to.equal(String(15 * 250 - 251));
    // Writes have a bucket of their own.
    const write = await raw(emulator, 'PUT', `/subscriptions/${subscriptionId}/resourcegroups/burst-rg?api-version=2025-04-01`, { location: 'westeurope' });
    expect(write.headers['x-ms-ratelimit-remaining-subscription-writes']).to.equal('198');

    now += 1000; // 25 tokens refill in a second
    const refilled = await reader.send('GET', `${galleries}?api-version=2025-12-03`);
    expect(refilled.status).to.equal(200);
    expect(refilled.headers.get('x-ms-ratelimit-remaining-subscription-reads')).to.equal('24');
  });

  it('the buckets can be scaled and switched off', async () => {
    expect((await raw(emulator, 'POST', '/_emulator/config', { buckets: { scale: 0.02 } })).status).to.equal(200);
    const first = await raw(emulator, 'GET', `${galleries}?api-version=2025-12-03`);
    expect(first.headers['x-ms-ratelimit-remaining-subscription-reads']).to.equal('4');
    await raw(emulator, 'POST', '/_emulator/config', { buckets: { enabled: false } });
    const off = await raw(emulator, 'GET', `${galleries}?api-version=2025-12-03`);
    expect(off.status).to.equal(200);
    expect(off.headers).to.not.have.property('x-ms-ratelimit-remaining-subscription-reads');
  });
});

describe('ARM emulator: regions, resource groups, long-running deletes, hangs and seeds', function () {
  let emulator: RunningEmulator;
  const enabled = '00000000-0000-0000-0000-0000000000cc';

  before(async () => {
    emulator = await startEmulator({
      replicationSeconds: 0,
      operationSeconds: 0.05,
      config: {
        principals: [{ name: 'admin', tokens: ['admin-token'], roles: [{ scope: '/', access: 'write' }] }],
        subscriptions: { [enabled]: { regions: ['germanynorth'] } },
        seeds: [
          { id: `/subscriptions/${subscriptionId}/resourceGroups/research-rg`, body: { location: 'westeurope' } },
          { id: `/subscriptions/${enabled}/resourceGroups/de-rg`, body: { location: 'germanywestcentral' } },
          {
            id: `/subscriptions/${subscriptionId}/resourceGroups/research-rg/providers/Microsoft.Compute/virtualMachines/rstudio-vm`,
            body: {
              location: 'westeurope',
              properties: {
                hardwareProfile: { vmSize: 'Standard_D2s_v5' },
                storageProfile: { imageReference: marketplaceUbuntu },
                osProfile: { computerName: 'rstudio', adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
              },
            },
          },
        ],
      },
    });
  });
  after(async () => emulator?.stop());

  it('seeds exist from the start: the group, the VM made outside any lab and its disk', async () => {
    const sdk = sdkFor(emulator, staticToken('admin-token'));
    const vm = await sdk.compute.virtualMachines.get('research-rg', 'rstudio-vm');
    expect(vm.provisioningState).to.equal('Succeeded');
    expect((await collect(sdk.compute.disks.listByResourceGroup('research-rg'))).map((disk) => disk.diskState)).to.deep.equal(['Attached']);
  });

  it('refuses a resource group that does not exist with ResourceGroupNotFound, until it is created', async () => {
    const sdk = sdkFor(emulator, staticToken('admin-token'));
    const missing = await refusal(sdk.compute.galleries.createOrUpdate('new-rg', 'g', { location: 'westeurope' }));
    expect(missing).to.include({ statusCode: 404, code: 'ResourceGroupNotFound' });
    expect(missing.message).to.equal("Resource group 'new-rg' could not be found.");
    const created = await sdk.send('PUT', `/subscriptions/${subscriptionId}/resourcegroups/new-rg?api-version=2025-04-01`, { location: 'westeurope' });
    expect(created.status).to.equal(201);
    await sdk.compute.galleries.createOrUpdate('new-rg', 'g', { location: 'westeurope' }, { updateIntervalInMs: 10 });
  });

  it("deletes a resource group as ARM does: 202 with only a Location to poll, and everything in it goes", async () => {
    const sdk = sdkFor(emulator, staticToken('admin-token'));
    const deleting = await sdk.send('DELETE', `/subscriptions/${subscriptionId}/resourcegroups/new-rg?api-version=2025-04-01`);
    expect(deleting.status).to.equal(202);
    expect(deleting.headers.get('azure-asyncoperation')).to.equal(undefined);
    const location = deleting.headers.get('location') ?? '';
    expect(location).to.match(/\/subscriptions\/[^/]+\/operationresults\/[0-9A-F]+\?api-version=2025-04-01$/);
    let poll = await sdk.send('GET', location.slice(emulator.url.length));
    expect(poll.status).to.equal(202);
    expect(poll.headers.get('retry-after')).to.equal('1');
    while (poll.status === 202) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      poll = await sdk.send('GET', location.slice(emulator.url.length));
    }
    expect(poll.status).to.equal(200);
    expect(await refusal(sdk.compute.galleries.get('new-rg', 'g'))).to.include({ code: 'ResourceGroupNotFound' });
  });

  it('refuses restricted-access regions to a subscription that has not enabled them, for locations and target regions', async () => {
    const sdk = sdkFor(emulator, staticToken('admin-token'));
    const refused = await refusal(sdk.compute.galleries.createOrUpdate('research-rg', 'g', { location: 'germanynorth' }));
    expect(refused).to.include({ statusCode: 400, code: 'LocationNotAvailableForResourceType' });
    expect(refused.message).to.match(/^The provided location 'germanynorth' is not available for resource type 'Microsoft\.Compute\/galleries'\. List of available regions for the resource type is '[a-z0-9,]+'\.$/);
    const listed = /type is '([^']+)'/.exec(refused.message)?.[1]?.split(',') ?? [];
    expect(listed).to.include.members(['westeurope', 'germanywestcentral']).and.not.include.members(['germanynorth']);

    const german = sdkFor(emulator, staticToken('admin-token'), enabled);
    await german.compute.galleries.createOrUpdate('de-rg', 'g', { location: 'germanynorth' }, { updateIntervalInMs: 10 });
    const coming = await refusal(german.compute.galleries.createOrUpdate('de-rg', 'g2', { location: 'denmarkeast' }));
    expect(coming).to.include({ code: 'LocationNotAvailableForResourceType' });

    await sdk.compute.galleries.createOrUpdate('research-rg', 'g', { location: 'westeurope' }, { updateIntervalInMs: 10 });
    await sdk.compute.galleryImages.createOrUpdate('research-rg', 'g', 'linux', { location: 'westeurope', osType: 'Linux', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } }, { updateIntervalInMs: 10 });
    const target = await refusal(
      sdk.compute.galleryImageVersions.createOrUpdate('research-rg', 'g', 'linux', '1.0.0', {
        location: 'westeurope',
        publishingProfile: { targetRegions: [{ name: 'westeurope' }, { name: 'Switzerland West' }] },
        storageProfile: { source: { virtualMachineId: `/subscriptions/${subscriptionId}/resourceGroups/research-rg/providers/Microsoft.Compute/virtualMachines/rstudio-vm` } },
      }),
    );
    expect(target).to.include({ statusCode: 400, code: 'LocationNotAvailableForResourceType' });
    expect(target.message).to.include("'Switzerland West'");
  });

  it('a hang fault holds a request until the client gives up; the next one is answered', async () => {
    const sdk = sdkFor(emulator, staticToken('admin-token'));
    await raw(emulator, 'POST', '/_emulator/faults', { hang: { requests: 1, seconds: 30 } }, 'admin-token');
    const started = Date.now();
    const hung = await refusal(sdk.compute.virtualMachines.get('research-rg', 'rstudio-vm', { abortSignal: AbortSignal.timeout(300) }));
    expect(hung.message).to.match(/abort/i);
    expect(Date.now() - started).to.be.lessThan(5000);
    expect((await sdk.compute.virtualMachines.get('research-rg', 'rstudio-vm')).name).to.equal('rstudio-vm');
  });
});
