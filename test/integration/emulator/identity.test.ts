import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { expect } from 'chai';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { rsaCertificate, subscriptionId } from './helpers.ts';
import { collect, refusal, sdkFor } from './sdk.ts';

// The emulator as Microsoft Entra ID: @azure/identity's own ClientSecretCredential, pointed at it
// (authorityHost), gets a token that stands for the principal configured with that client id.
describe('ARM emulator: tokens for service principals through @azure/identity', function () {
  const tenantId = '7a8b9c0d-1111-2222-3333-444455556666';
  const clientId = '0c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff';
  const certificateClientId = '0c1d2e3f-aaaa-bbbb-cccc-000000000001';
  let emulator: RunningEmulator;
  let certificate: { certPem: string; keyPem: string };

  before(async () => {
    certificate = await rsaCertificate();
    emulator = await startEmulator({
      replicationSeconds: 0,
      operationSeconds: 0,
      config: {
        tenantId,
        principals: [
          { name: 'lab-sp', clientId, clientSecret: 'the-right-secret', roles: [{ scope: `/subscriptions/${subscriptionId}/resourceGroups/rg-a`, access: 'write' }] },
          { name: 'lab-cert-sp', clientId: certificateClientId, certificate: certificate.certPem, roles: [{ scope: `/subscriptions/${subscriptionId}`, access: 'read' }] },
        ],
        subscriptions: { '*': { implicitResourceGroups: true } },
      },
    });
  });
  after(async () => emulator?.stop());

  function credential(secret: string, tenant = tenantId): ClientSecretCredential {
    return new ClientSecretCredential(tenant, clientId, secret, { authorityHost: emulator.url, disableInstanceDiscovery: true, tlsOptions: { ca: emulator.caPem } });
  }

  it('issues a token for the client id and secret, which ARM maps to that principal and its role assignments', async () => {
    const sdk = sdkFor(emulator, credential('the-right-secret'));
    await sdk.compute.galleries.createOrUpdate('rg-a', 'gallery', { location: 'westeurope' }, { updateIntervalInMs: 10 });
    expect((await collect(sdk.compute.galleries.listByResourceGroup('rg-a'))).map((gallery) => gallery.name)).to.deep.equal(['gallery']);
    const denied = await refusal(sdk.compute.galleries.get('rg-b', 'gallery'));
    expect(denied).to.include({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(denied.message).to.match(/^The client 'lab-sp' with object id '[0-9a-f-]{36}' does not have authorization/);
  });

  it("refuses a wrong secret with Entra's invalid_client AADSTS7000215, and an unknown tenant with AADSTS700016", async () => {
    const wrong = await refusal(credential('not-the-secret').getToken('https://management.azure.com/.default'));
    expect(wrong.message).to.include('AADSTS7000215').and.include('invalid_client');
    const elsewhere = await refusal(credential('the-right-secret', '99999999-1111-2222-3333-444455556666').getToken('https://management.azure.com/.default'));
    expect(elsewhere.message).to.include('AADSTS700016');
  });

  it('issues a token for a client assertion signed with the configured certificate, and refuses another key', async () => {
    const options = { authorityHost: emulator.url, disableInstanceDiscovery: true, tlsOptions: { ca: emulator.caPem } };
    const withCertificate = new ClientCertificateCredential(tenantId, certificateClientId, { certificate: `${certificate.certPem}\n${certificate.keyPem}` }, options);
    const reader = sdkFor(emulator, withCertificate);
    expect(await collect(reader.compute.galleries.list())).to.have.length(1);
    expect(await refusal(reader.compute.galleries.delete('rg-a', 'gallery'))).to.include({ statusCode: 403, code: 'AuthorizationFailed' });
    const other = await rsaCertificate();
    const impostor = new ClientCertificateCredential(tenantId, certificateClientId, { certificate: `${other.certPem}\n${other.keyPem}` }, options);
    expect((await refusal(impostor.getToken('https://management.azure.com/.default'))).message).to.include('AADSTS700027');
  });
});
