import { RESOURCES } from '../../../src/api/index.ts';
import { simulatedSubscriptionId } from '../../../src/azure/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { defaultTenantId, demoPrincipal } from '../../../src/emulator/config.ts';
import { defaultToken } from '../../../src/emulator/index.ts';
import { raw, requestCounts, setFaults } from '../emulator/helpers.ts';
import { namespaceAdmin, type Tenant } from '../tenant.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { condition, createAccount, createAttachment, eventsAbout, getAccount, getAttachment, isReady, reconcileCount, stalledMessage, waitingMessage } from './galleryattachment-helpers.ts';

const SYNC_PERIOD_MS = 2000;

describe('LabAccount controller', function () {
  let op: TestOperator;

  before(async function () {
    await controlPlane().installCrds();
    op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'lacct'), operator: { syncPeriodMs: SYNC_PERIOD_MS } });
  });

  after(async function () {
    await op?.stop();
  });

  it('gives a Simulated account its geography and regions, checks ARM, and becomes Ready with an Event', async function () {
    const created = await createAccount(op, 'cs-dept');
    const account = await eventually(async () => {
      const a = await getAccount(op, 'cs-dept');
      return isReady(a) && a;
    }, { what: 'cs-dept Ready' });
    expect(account.status).to.include({ geography: 'Europe', observedGeneration: 1 });
    expect(account.status?.regions).to.deep.equal(['northeurope', 'westeurope']);
    expect(condition(account, 'Ready')?.reason).to.equal('AccountReady');
    expect(condition(account, 'Reconciling')).to.equal(undefined);
    expect(condition(account, 'Stalled')).to.equal(undefined);
    // The credential check is one ARM read in the account's resource group.
    expect((await requestCounts(op.emulator)).byMethod.GET).to.be.greaterThan(0);
    await eventually(async () => (await eventsAbout(op, created)).some((e) => e.type === 'Normal' && e.reason === 'AccountReady'), { what: 'an AccountReady Event' });
  });

  it('Stalls an account in an unknown location, naming spec.location', async function () {
    const created = await createAccount(op, 'nowhere', { location: 'moonbase1' });
    const message = await eventually(async () => stalledMessage(await getAccount(op, 'nowhere'), 'UnknownLocation'), { what: 'UnknownLocation' });
    expect(message).to.contain('spec.location').and.contain('moonbase1');
    expect(condition(await getAccount(op, 'nowhere'), 'Ready')).to.include({ status: 'False', reason: 'UnknownLocation' });
    await eventually(async () => (await eventsAbout(op, created)).some((e) => e.type === 'Warning' && e.reason === 'UnknownLocation'), { what: 'a Warning Event' });
  });

  it('Stalls replication defaults outside the geography, naming the region, and recovers when they are fixed', async function () {
    await createAccount(op, 'eu-only', { replication: { regions: ['westeurope', 'francecentral'] } });
    const message = await eventually(async () => stalledMessage(await getAccount(op, 'eu-only'), 'RegionOutsideGeography'), { what: 'RegionOutsideGeography' });
    expect(message).to.contain('spec.replication.regions').and.contain('francecentral').and.contain('Europe');

    await op.client.mergePatch(RESOURCES.LabAccount, op.namespace, 'eu-only', { spec: { replication: { regions: ['westeurope', 'northeurope'] } } });
    const fixed = await eventually(async () => {
      const a = await getAccount(op, 'eu-only');
      return isReady(a) && a;
    }, { what: 'eu-only Ready after the fix' });
    expect(fixed.status?.observedGeneration).to.equal(2);
    expect(condition(fixed, 'Stalled')).to.equal(undefined);
  });

  it('waits with CredentialsNotFound for a Secret that does not exist yet (a sync may create it alongside; Stalled after a minute), and goes on when it appears', async function () {
    await createAccount(op, 'with-secret', {
      azure: { subscriptionId: simulatedSubscriptionId, resourceGroup: 'labs-rg', credentials: { secretRef: { name: 'labs-sp' } } },
    });
    const message = await eventually(async () => waitingMessage(await getAccount(op, 'with-secret'), 'CredentialsNotFound'), { what: 'Reconciling CredentialsNotFound' });
    expect(condition(await getAccount(op, 'with-secret'), 'Stalled')).to.equal(undefined);
    expect(message).to.contain('labs-sp').and.contain('spec.azure.credentials.secretRef');
    expect(message).not.to.match(/AZURE_CLIENT_SECRET=/);

    // Nothing the operator watches changes: it finds the Secret by looking again on its own.
    // The emulator's demo principal: its token endpoint issues a token for it.
    await op.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: op.namespace,
      body: { metadata: { name: 'labs-sp' }, stringData: { AZURE_TENANT_ID: defaultTenantId, AZURE_CLIENT_ID: demoPrincipal.clientId, AZURE_CLIENT_SECRET: demoPrincipal.clientSecret } },
    });
    const ready = await eventually(async () => {
      const a = await getAccount(op, 'with-secret');
      return isReady(a) && a;
    }, { what: 'with-secret Ready once the Secret exists' });
    expect(JSON.stringify(ready.status)).not.to.contain(demoPrincipal.clientSecret);
    expect(condition(ready, 'Ready')?.message).to.contain('ARM accepts the service principal in Secret labs-sp (spec.azure.credentials.secretRef)');
  });

  it('shows the attachment that holds the account and its gallery id', async function () {
    await createAccount(op, 'shows-gallery');
    await createAttachment(op, 'shared-images', { labAccountRef: { name: 'shows-gallery' }, gallery: { name: 'showsgallery' } });
    const attachment = await eventually(async () => {
      const a = await getAttachment(op, 'shared-images');
      return isReady(a) && a;
    }, { what: 'shared-images Ready' });
    const account = await eventually(async () => {
      const a = await getAccount(op, 'shows-gallery');
      return a?.status?.gallery?.id ? a : undefined;
    }, { what: 'status.gallery on the account' });
    expect(account.status?.gallery).to.deep.equal({ attachment: 'shared-images', id: attachment.status?.galleryId });
    expect(account.status?.gallery?.id).to.match(/\/providers\/Microsoft\.Compute\/galleries\/showsgallery$/);
  });

  it('writes nothing to a Ready account while reconciling it again and again', async function () {
    const before = await getAccount(op, 'cs-dept');
    expect(isReady(before)).to.equal(true);
    const reconciles = await reconcileCount(op, 'labaccount');
    // Several sync periods: each one reconciles (and reads ARM) without a write.
    await sleep(3 * SYNC_PERIOD_MS);
    expect(await reconcileCount(op, 'labaccount')).to.be.greaterThan(reconciles);
    expect((await getAccount(op, 'cs-dept'))?.metadata.resourceVersion).to.equal(before?.metadata.resourceVersion);
  });

  it('gives CredentialsRejected when Azure refuses the credentials, and recovers when it accepts them', async function () {
    // Last in this suite: while Azure refuses, every account here is refused too.
    await setFaults(op.emulator, { authorizationFailures: { requests: 1_000_000 } });
    try {
      await createAccount(op, 'refused');
      const message = await eventually(async () => stalledMessage(await getAccount(op, 'refused'), 'CredentialsRejected'), { what: 'CredentialsRejected' });
      expect(message).to.contain('AuthorizationFailed');
    } finally {
      await setFaults(op.emulator, { authorizationFailures: null });
    }
    await eventually(async () => isReady(await getAccount(op, 'refused')), { what: 'refused Ready once Azure accepts the credentials' });
  });
});

describe('LabAccount controller: resource groups, where ARM has only the groups someone created', function () {
  let op: TestOperator;
  let tenant: Tenant;

  before(async function () {
    await controlPlane().installCrds();
    const namespace = await createTestNamespace(controlPlane().kubeConfig, 'lacctrg');
    tenant = await namespaceAdmin(controlPlane().kubeConfig, namespace);
    const operator = await startTestOperator({
      namespace,
      // A strict emulator: no resource group exists until it is created (ARM's behaviour).
      emulatorOptions: { config: { principals: [{ name: 'labimages-emulator', tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] }] } },
    });
    // Accounts are made and read by the namespace's admin, not the cluster's.
    op = { ...operator, client: tenant.client };
  });

  after(async function () {
    await op?.stop();
    await tenant?.forget();
  });

  it('creates labimages-<namespace> for a Simulated account that names no group, with an Event', async function () {
    const created = await createAccount(op, 'own-group');
    await eventually(async () => isReady(await getAccount(op, 'own-group')), { what: 'own-group Ready' });
    const group = await raw(op.emulator, 'GET', `/subscriptions/${simulatedSubscriptionId}/resourcegroups/labimages-${op.namespace}?api-version=2024-11-01`);
    expect(group.status).to.equal(200);
    expect(group.body).to.deep.include({ location: 'westeurope' });
    await eventually(async () => (await eventsAbout(op, created)).some((e) => e.reason === 'ResourceGroupCreated'), { what: 'a ResourceGroupCreated Event' });
  });

  it('Stalls ResourceGroupNotFound for a group it names, saying what to create, and recovers once it exists', async function () {
    const subscriptionId = '11111111-2222-3333-4444-555555555555';
    await createAccount(op, 'named-group', { azure: { subscriptionId, resourceGroup: 'labs-rg' } });
    const message = await eventually(async () => stalledMessage(await getAccount(op, 'named-group'), 'ResourceGroupNotFound'), { what: 'ResourceGroupNotFound' });
    expect(message).to.contain('labs-rg').and.contain('spec.azure.resourceGroup').and.contain('az group create --name labs-rg');
    // The operator does not make a group the user named.
    expect((await raw(op.emulator, 'GET', `/subscriptions/${subscriptionId}/resourcegroups/labs-rg?api-version=2024-11-01`)).status).to.equal(404);

    const made = await raw(op.emulator, 'PUT', `/subscriptions/${subscriptionId}/resourcegroups/labs-rg?api-version=2024-11-01`, { location: 'westeurope' });
    expect(made.status).to.equal(201);
    await eventually(async () => isReady(await getAccount(op, 'named-group')), { what: 'named-group Ready once the group exists (rechecked)' });
  });
});
