import { expect } from 'chai';
import { Registry } from 'prom-client';
import { API_VERSION, type LabAccount } from '../../../src/api/index.ts';
import { ArmError, simulatedSubscriptionId } from '../../../src/azure/index.ts';
import { defaultTenantId, demoPrincipal } from '../../../src/emulator/config.ts';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { AccountConnector } from '../../../src/controllers/common/account-connector.ts';
import { setFaults } from '../emulator/helpers.ts';

describe('account connector against the emulator', function () {
  let emulator: RunningEmulator;

  before(async function () {
    emulator = await startEmulator({ replicationSeconds: 1, operationSeconds: 0 });
  });

  after(async function () {
    await emulator?.stop();
  });

  it('keeps one client per account generation, and drops it by itself when ARM refuses its credentials', async function () {
    let secretReads = 0;
    // The emulator's demo principal, whose token its Entra endpoint issues.
    const values = { AZURE_TENANT_ID: defaultTenantId, AZURE_CLIENT_ID: demoPrincipal.clientId, AZURE_CLIENT_SECRET: demoPrincipal.clientSecret };
    const data = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));
    const client = {
      get: async <T>() => {
        secretReads++;
        return { metadata: { name: 'sp', resourceVersion: '1' }, data } as T;
      },
    };
    const connector = new AccountConnector({ client, emulator: { url: emulator.url, caPem: emulator.caPem }, registry: new Registry() });
    const account: LabAccount = {
      apiVersion: API_VERSION,
      kind: 'LabAccount',
      metadata: { name: 'cs', namespace: 'ns', uid: 'u1', generation: 1 },
      spec: { location: 'westeurope', azure: { subscriptionId: simulatedSubscriptionId, resourceGroup: 'rg', credentials: { secretRef: { name: 'sp' } } } },
    };
    const first = await connector.connect(account);
    await first.port.listGalleries('rg');
    await connector.connect(account);
    expect(secretReads, 'cached').to.equal(1);

    await setFaults(emulator, { authorizationFailures: { requests: 1 } });
    const refused = await first.port.listGalleries('rg').catch((err: unknown) => err);
    expect(refused).to.be.instanceOf(ArmError).and.include({ statusCode: 403 });
    const again = await connector.connect(account);
    expect(secretReads, 'read again after the refusal').to.equal(2);
    expect(await again.port.listGalleries('rg')).to.deep.equal([]);

    await connector.connect({ ...account, metadata: { ...account.metadata, generation: 2 } });
    expect(secretReads, 'a new generation builds afresh').to.equal(3);
  });
});
