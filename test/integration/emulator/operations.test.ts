// src/azure/operations.ts follows ARM's two long-running-operation protocols through the operator's
// own client (pipeline, retries, auth): Azure-AsyncOperation, which every Compute operation gives,
// and Location alone, which a resource group's DELETE gives (as do Microsoft.Resources deployments).
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { armGalleryPort } from '../../../src/azure/gallery-port.ts';
import { createArmClient, staticTokenCredential, type ArmClient, type GalleryPort } from '../../../src/azure/index.ts';
import { handleFromInitialResponse, pollOperation, type OperationHandle, type OperationStatus } from '../../../src/azure/operations.ts';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { requestCounts, subscriptionId, untilDone } from './helpers.ts';

/** Polls as a controller does across reconciles, noting every answer. */
async function follow(client: ArmClient, handle: OperationHandle): Promise<OperationStatus[]> {
  const seen: OperationStatus[] = [];
  let current = handle;
  for (;;) {
    const status = await pollOperation(client, current);
    seen.push(status);
    if (status.state !== 'InProgress') return seen;
    await new Promise((resolve) => setTimeout(resolve, status.retryAfterMs));
    current = status.handle;
  }
}

describe('ARM long-running operations, followed by operations.ts against the emulator', function () {
  let emulator: RunningEmulator;
  let client: ArmClient;
  let port: GalleryPort;

  before(async () => {
    // Operations that take a while, so that a poll sees one running; groups exist only once created.
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 1.5, config: { principals: [{ name: 'ops', tokens: ['labimages-emulator'], roles: [{ scope: '/', access: 'write' }] }] } });
    client = createArmClient({ subscriptionId, credential: staticTokenCredential(), endpoint: emulator.url, caPem: emulator.caPem, registry: new Registry() });
    port = armGalleryPort(client);
  });
  after(async () => emulator?.stop());

  it('follows a Location-only DELETE of a resource group: 202 with Retry-After while it runs, then done, and the group is gone with what it held', async function () {
    await port.createResourceGroup('doomed-rg', { location: 'westeurope' });
    const created = await untilDone(port, await port.createGallery({ resourceGroup: 'doomed-rg', gallery: 'g' }, { location: 'westeurope' }));
    expect(created.state).to.equal('Succeeded');

    const response = await client.send('DELETE', `/subscriptions/${subscriptionId}/resourcegroups/doomed-rg?api-version=2024-11-01`);
    expect(response.status).to.equal(202);
    const handle = handleFromInitialResponse('resourceGroups.delete', `/subscriptions/${subscriptionId}/resourceGroups/doomed-rg`, response);
    expect(handle.pollVia).to.equal('Location');
    expect(handle.pollUrl).to.match(/\/subscriptions\/[^/]+\/operationresults\/[0-9A-F]+\?api-version=2024-11-01$/);

    const seen = await follow(client, handle);
    expect(seen.at(-1)).to.deep.equal({ state: 'Succeeded' });
    expect(seen.filter((status) => status.state === 'InProgress').length, 'looks that found it running').to.be.greaterThan(0);
    // Retry-After obeyed: the operation takes 1.5 s, and the poll URL was asked at most twice.
    const polls = (await requestCounts(emulator)).byRoute;
    expect(Object.entries(polls).filter(([route]) => route.includes('operationresults')).reduce((sum, [, n]) => sum + n, 0)).to.be.within(1, 2);
    expect(await port.observeGallery({ resourceGroup: 'doomed-rg', gallery: 'g' })).to.equal(undefined);
  });

  it('follows an Azure-AsyncOperation (a gallery DELETE gives both headers: that one is followed)', async function () {
    await port.createResourceGroup('kept-rg', { location: 'westeurope' });
    await untilDone(port, await port.createGallery({ resourceGroup: 'kept-rg', gallery: 'g' }, { location: 'westeurope' }));
    const handle = await port.deleteGallery({ resourceGroup: 'kept-rg', gallery: 'g' });
    expect(handle.pollVia).to.equal('Azure-AsyncOperation');
    const seen = await follow(client, handle);
    expect(seen.at(-1)).to.deep.equal({ state: 'Succeeded' });
    expect(seen.length).to.be.greaterThan(1);
  });

  it('refuses to make a group in a region the subscription may not use, with ARM\'s error', async function () {
    const refused = await port.createResourceGroup('nope-rg', { location: 'germanynorth' }).catch((err: unknown) => err);
    expect(refused).to.include({ code: 'LocationNotAvailableForResourceGroup', statusCode: 400, retryable: false });
  });
});
