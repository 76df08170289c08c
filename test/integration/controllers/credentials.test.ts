// Many teams, one operator: which identity each LabAccount acts as in Azure, and where in Azure its
// objects may point. The tenant is a ServiceAccount with only what a namespace admin has (the
// `admin` ClusterRole bound in its namespace); the emulator tells its principals apart, and its
// request log (per principal) shows who acted.
import { expect } from 'chai';
import { API_VERSION, NAMESPACE_CREDENTIAL_SECRET, RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabAccountSpec } from '../../../src/api/index.ts';
import { defaultToken } from '../../../src/emulator/index.ts';
import { SECRETS } from '../../../src/runtime/index.ts';
import { raw, requestCounts, rsaCertificate } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { namespaceAdmin, type Tenant } from '../tenant.ts';
import { condition, isReady, stalledMessage, waitingMessage } from './galleryattachment-helpers.ts';

const TEAM_SUBSCRIPTION = '00000000-0000-0000-0000-0000000000c1';
const RESEARCH_SUBSCRIPTION = '00000000-0000-0000-0000-0000000000c2';
const TENANT_ID = '7a8b9c0d-1111-2222-3333-444455556666';
const RESEARCH_VM = `/subscriptions/${RESEARCH_SUBSCRIPTION}/resourceGroups/research/providers/Microsoft.Compute/virtualMachines/rstudio`;
const OPERATOR = 'labimages-emulator';

const principals = {
  team: { name: 'team-sp', clientId: '0c1d2e3f-0000-0000-0000-00000000000a', clientSecret: 'team-secret' },
  account: { name: 'account-sp', clientId: '0c1d2e3f-0000-0000-0000-00000000000b', clientSecret: 'account-secret' },
};

const vmBody = {
  location: 'westeurope',
  properties: {
    hardwareProfile: { vmSize: 'Standard_D2s_v5' },
    storageProfile: { imageReference: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
    osProfile: { computerName: 'rstudio', adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
  },
};

describe('credentials and tenancy: each team acts as its own principal, inside its account\'s scope', function () {
  let op: TestOperator;
  let tenant: Tenant;

  before(async function () {
    const { kubeConfig, installCrds } = controlPlane();
    await installCrds();
    const namespace = await createTestNamespace(kubeConfig, 'tenancy');
    tenant = await namespaceAdmin(kubeConfig, namespace);
    op = await startTestOperator({
      namespace,
      emulatorOptions: {
        config: {
          tenantId: TENANT_ID,
          principals: [
            // The operator's own identity for Simulated accounts (and this suite's view of the emulator).
            { name: OPERATOR, tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] },
            { ...principals.team, roles: [{ scope: `/subscriptions/${TEAM_SUBSCRIPTION}`, access: 'write' }] },
            {
              ...principals.account,
              roles: [
                { scope: `/subscriptions/${TEAM_SUBSCRIPTION}`, access: 'write' },
                { scope: `/subscriptions/${RESEARCH_SUBSCRIPTION}/resourceGroups/research`, access: 'read' },
              ],
            },
          ],
          subscriptions: { '*': { regions: ['*'], implicitResourceGroups: true } },
          seeds: [{ id: `/subscriptions/${RESEARCH_SUBSCRIPTION}/resourceGroups/research`, body: { location: 'westeurope' } }, { id: RESEARCH_VM, body: vmBody }],
        },
      },
      // No namespace may act as the operator: the platform team's default.
      operator: { operatorIdentityNamespaces: [] },
    });
  });

  after(async function () {
    await op?.stop();
  });

  function credentialSecret(name: string, principal: { clientId: string }, clientSecret: string) {
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: tenant.namespace }, stringData: { AZURE_TENANT_ID: TENANT_ID, AZURE_CLIENT_ID: principal.clientId, AZURE_CLIENT_SECRET: clientSecret } };
  }

  function account(name: string, azure: Partial<NonNullable<LabAccountSpec['azure']>> = {}): LabAccount {
    return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name, namespace: tenant.namespace }, spec: { location: 'westeurope', azure: { subscriptionId: TEAM_SUBSCRIPTION, resourceGroup: 'labs', ...azure } } };
  }

  const get = <T extends LabAccount | ImageExport>(resource: (typeof RESOURCES)['LabAccount' | 'ImageExport'], name: string) => tenant.client.get<T>(resource, tenant.namespace, name);
  const readyAccount = (name: string) => eventually(async () => {
    const found = await get<LabAccount>(RESOURCES.LabAccount, name);
    return isReady(found) && found;
  }, { what: `LabAccount ${name} Ready` });
  const stalled = <T extends LabAccount | ImageExport>(resource: (typeof RESOURCES)['LabAccount' | 'ImageExport'], name: string, reason: string) =>
    eventually(async () => stalledMessage(await get<T>(resource, name), reason), { what: `${name} Stalled ${reason}` });
  const byPrincipal = async () => (await requestCounts(op.emulator)).byPrincipal;

  it('Stalls an account with no credentials in a namespace the operator does not list, and acts as nobody', async function () {
    this.timeout(180_000);
    await tenant.client.create(RESOURCES.LabAccount, account('no-creds'));
    // A sync may create the namespace's credential Secret alongside: waited for (Reconciling) for a minute first.
    const waiting = await eventually(async () => waitingMessage(await get<LabAccount>(RESOURCES.LabAccount, 'no-creds'), 'NoCredentials'), { what: 'no-creds waiting for its credentials' });
    expect(waiting).to.contain(NAMESPACE_CREDENTIAL_SECRET);
    const message = await eventually(async () => stalledMessage(await get<LabAccount>(RESOURCES.LabAccount, 'no-creds'), 'NoCredentials'), {
      timeoutMs: 120_000,
      what: 'no-creds Stalled NoCredentials once the minute is over',
    });
    expect(message).to.contain('spec.azure.credentials.secretRef').and.contain(NAMESPACE_CREDENTIAL_SECRET).and.contain('--operator-identity-namespaces');
    // Rechecked every second (its cause may be a Secret): still nothing in ARM as the operator.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await stalledMessage(await get(RESOURCES.LabAccount, 'no-creds'), 'NoCredentials')).to.be.a('string');
    expect((await byPrincipal())[OPERATOR]).to.equal(undefined);
  });

  it('uses the namespace credential, then the account\'s own Secret once it names one, each as its own principal', async function () {
    await tenant.client.create(SECRETS, credentialSecret(NAMESPACE_CREDENTIAL_SECRET, principals.team, principals.team.clientSecret));
    const viaNamespace = await readyAccount('no-creds');
    expect(condition(viaNamespace, 'Ready')?.message).to.contain(`ARM accepts the service principal in the namespace's credential Secret ${NAMESPACE_CREDENTIAL_SECRET}`);
    const first = await byPrincipal();
    expect(first[principals.team.name]).to.be.greaterThan(0);
    expect(first[principals.account.name]).to.equal(undefined);

    await tenant.client.create(SECRETS, credentialSecret('lab-sp', principals.account, principals.account.clientSecret));
    await tenant.client.mergePatch(RESOURCES.LabAccount, tenant.namespace, 'no-creds', { spec: { azure: { credentials: { secretRef: { name: 'lab-sp' } } } } });
    const viaAccount = await eventually(async () => {
      const found = await get<LabAccount>(RESOURCES.LabAccount, 'no-creds');
      return found?.metadata.generation === 2 && isReady(found) && found;
    }, { what: 'no-creds Ready with its own Secret' });
    expect(condition(viaAccount, 'Ready')?.message).to.contain('ARM accepts the service principal in Secret lab-sp (spec.azure.credentials.secretRef)');
    const second = await byPrincipal();
    expect(second[principals.account.name]).to.be.greaterThan(0);
    expect(second[OPERATOR]).to.equal(undefined);
    expect(JSON.stringify(viaAccount.status)).not.to.contain(principals.account.clientSecret);
  });

  it('heals a credential Secret fixed after CredentialsRejected within one recheck, without a restart', async function () {
    await tenant.client.create(SECRETS, credentialSecret('rotating', principals.account, 'an-expired-secret'));
    await tenant.client.create(RESOURCES.LabAccount, account('healing', { credentials: { secretRef: { name: 'rotating' } } }));
    // Entra's own refusal of a wrong secret, through @azure/identity: a credential rejection, not an unknown error.
    const message = await stalled(RESOURCES.LabAccount, 'healing', 'CredentialsRejected');
    expect(message).to.contain('Microsoft Entra ID gave no token for the service principal in Secret rotating').and.contain('invalid_client').and.contain('AADSTS7000215');
    expect(message).not.to.contain('an-expired-secret');

    const fixedAt = Date.now();
    await tenant.client.replace(SECRETS, credentialSecret('rotating', principals.account, principals.account.clientSecret));
    await readyAccount('healing');
    // The recheck is a second here; allow the reconcile and the token request around it.
    expect(Date.now() - fixedAt).to.be.lessThan(4000);
  });

  it('takes a client certificate (AZURE_CLIENT_CERTIFICATE, PEM with its key) as well as a client secret', async function () {
    const certificate = await rsaCertificate();
    const principal = { name: 'cert-sp', clientId: '0c1d2e3f-0000-0000-0000-00000000000c' };
    const added = await raw(op.emulator, 'POST', '/_emulator/config', { principals: [{ ...principal, certificate: certificate.certPem, roles: [{ scope: `/subscriptions/${TEAM_SUBSCRIPTION}`, access: 'write' }] }] });
    expect(added.status).to.equal(200);
    await tenant.client.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cert-sp', namespace: tenant.namespace },
      stringData: { AZURE_TENANT_ID: TENANT_ID, AZURE_CLIENT_ID: principal.clientId, AZURE_CLIENT_CERTIFICATE: `${certificate.certPem}\n${certificate.keyPem}` },
    });
    await tenant.client.create(RESOURCES.LabAccount, account('with-certificate', { credentials: { secretRef: { name: 'cert-sp' } } }));
    await readyAccount('with-certificate');
    expect((await byPrincipal())[principal.name]).to.be.greaterThan(0);
  });

  it('Stalls an export of a VM in another subscription, or a resource group outside the account\'s scope, before any ARM call', async function () {
    await tenant.client.create(RESOURCES.LabAccount, account('scoped', { allowedScopes: [`/subscriptions/${TEAM_SUBSCRIPTION}/resourceGroups/images`] }));
    await readyAccount('scoped');
    const vmReadsBefore = (await requestCounts(op.emulator)).byRoute['GET resourceGroups/{}/virtualmachines/{}'] ?? 0;
    const exportOf = (name: string, virtualMachineId: string): ImageExport => ({
      apiVersion: API_VERSION,
      kind: 'ImageExport',
      metadata: { name, namespace: tenant.namespace },
      spec: { labAccountRef: { name: 'scoped' }, source: { virtualMachineId }, image: { name, osType: 'Linux' } },
    });
    await tenant.client.create(RESOURCES.ImageExport, exportOf('other-subscription', RESEARCH_VM));
    await tenant.client.create(RESOURCES.ImageExport, exportOf('other-group', `/subscriptions/${TEAM_SUBSCRIPTION}/resourceGroups/elsewhere/providers/Microsoft.Compute/virtualMachines/vm`));
    const subscription = await stalled(RESOURCES.ImageExport, 'other-subscription', 'OutOfScope');
    expect(subscription).to.match(/^spec\.source\.virtualMachineId \/subscriptions\/[-0]+c2\/.* lies outside LabAccount scoped's scope/).and.contain('spec.azure.allowedScopes');
    expect(await stalled(RESOURCES.ImageExport, 'other-group', 'OutOfScope')).to.contain('/resourceGroups/elsewhere/');
    expect((await requestCounts(op.emulator)).byRoute['GET resourceGroups/{}/virtualmachines/{}'] ?? 0, 'no VM was looked up').to.equal(vmReadsBefore);
  });

  it('takes a VM in another subscription the account allows where its id says, and reports Azure\'s 403 where the credential cannot read it', async function () {
    const crossScopes = [`/subscriptions/${TEAM_SUBSCRIPTION}`, `/subscriptions/${RESEARCH_SUBSCRIPTION}/resourceGroups/research`];
    await tenant.client.create(SECRETS, credentialSecret('reader-sp', principals.account, principals.account.clientSecret));
    await tenant.client.create(SECRETS, credentialSecret('writer-sp', principals.team, principals.team.clientSecret));
    await tenant.client.create(RESOURCES.LabAccount, account('cross', { allowedScopes: crossScopes, credentials: { secretRef: { name: 'reader-sp' } } }));
    // team-sp may not read the research group.
    await tenant.client.create(RESOURCES.LabAccount, account('cross-denied', { resourceGroup: 'labs-denied', allowedScopes: crossScopes, credentials: { secretRef: { name: 'writer-sp' } } }));
    for (const name of ['cross', 'cross-denied']) {
      await tenant.client.create<GalleryAttachment>(RESOURCES.GalleryAttachment, {
        apiVersion: API_VERSION,
        kind: 'GalleryAttachment',
        metadata: { name: `${name}-gallery`, namespace: tenant.namespace },
        spec: { labAccountRef: { name }, gallery: { name: `${name.replace('-', '')}gallery` } },
      });
      await tenant.client.create<ImageExport>(RESOURCES.ImageExport, {
        apiVersion: API_VERSION,
        kind: 'ImageExport',
        metadata: { name: `${name}-rstudio`, namespace: tenant.namespace },
        spec: { labAccountRef: { name }, source: { virtualMachineId: RESEARCH_VM }, image: { name: 'rstudio', osType: 'Linux', osState: 'Generalized' }, replication: { regions: ['westeurope'] } },
      });
    }
    const made = await eventually(async () => {
      const found = await get<ImageExport>(RESOURCES.ImageExport, 'cross-rstudio');
      return isReady(found) && found;
    }, { what: 'cross-rstudio Ready', timeoutMs: 90_000 });
    expect(made.status?.imageVersionId).to.match(new RegExp(`^/subscriptions/${TEAM_SUBSCRIPTION}/resourceGroups/labs/providers/Microsoft.Compute/galleries/crossgallery/images/rstudio/versions/1.0.0$`, 'i'));

    const denied = await stalled(RESOURCES.ImageExport, 'cross-denied-rstudio', 'CredentialsRejected');
    expect(denied).to.contain('AuthorizationFailed').and.contain("The client 'team-sp'").and.contain(`over scope '/subscriptions/${RESEARCH_SUBSCRIPTION}/resourceGroups/research/`);
  });
});
