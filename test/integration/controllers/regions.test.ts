// Default replication targets the available regions of the account's geography, against an emulator
// whose subscriptions are not enabled for restricted-access regions, as most subscriptions are not:
// an export there would be refused by ARM had the operator targeted one.
import { expect } from 'chai';
import { API_VERSION, RESOURCES, type GalleryAttachment, type LabAccount } from '../../../src/api/index.ts';
import { defaultToken } from '../../../src/emulator/index.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { condition, createSourceVm, exportManifest, isReady, portFor, untilExport } from './imageexport-fixtures.ts';
import { isReady as isAccountReady, stalledMessage } from './galleryattachment-helpers.ts';
import { namespaceAdmin, type Tenant } from '../tenant.ts';
import { eventually } from '../eventually.ts';

describe('available regions: an account in francecentral (France: francecentral, and francesouth with restricted access)', function () {
  let op: TestOperator;
  let tenant: Tenant;
  let vmId: string;

  before(async function () {
    await controlPlane().installCrds();
    const namespace = await createTestNamespace(controlPlane().kubeConfig, 'regions');
    tenant = await namespaceAdmin(controlPlane().kubeConfig, namespace);
    op = await startTestOperator({
      namespace,
      emulatorOptions: {
        // No subscription is enabled for restricted-access or coming-soon regions.
        config: { principals: [{ name: 'labimages-emulator', tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] }], subscriptions: { '*': { implicitResourceGroups: true } } },
      },
    });
    // The lab's people, as a namespace admin, make the account and its gallery; the operator does the rest.
    await tenant.client.create<LabAccount>(RESOURCES.LabAccount, { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs-dept', namespace }, spec: { location: 'francecentral' } });
    await tenant.client.create<GalleryAttachment>(RESOURCES.GalleryAttachment, {
      apiVersion: API_VERSION,
      kind: 'GalleryAttachment',
      metadata: { name: 'shared-images', namespace },
      spec: { labAccountRef: { name: 'cs-dept' }, gallery: { name: 'labgallery' } },
    });
    vmId = await createSourceVm(portFor(op.emulator), op.namespace, 'source-vm', 'Windows', 'francecentral');
  });

  after(async function () {
    await op?.stop();
    await tenant?.forget();
  });

  it('lists the available and the excluded regions of the geography, and why', async function () {
    const account = await eventually(async () => {
      const a = await tenant.client.get<LabAccount>(RESOURCES.LabAccount, tenant.namespace, 'cs-dept');
      return isAccountReady(a) && a?.status?.gallery?.id ? a : undefined;
    }, { what: 'cs-dept Ready with its gallery' });
    expect(account.status).to.deep.include({ geography: 'France', regions: ['francecentral', 'francesouth'], availableRegions: ['francecentral'] });
    expect(account.status?.excludedRegions).to.have.length(1);
    expect(account.status?.excludedRegions?.[0]).to.include({ name: 'francesouth', reason: 'RestrictedAccess' });
  });

  it('replicates an export to francecentral only by default, and it becomes Ready', async function () {
    await tenant.client.create(RESOURCES.ImageExport, exportManifest(tenant.namespace, 'by-default', { source: { virtualMachineId: vmId } }));
    const done = await untilExport(tenant.client, tenant.namespace, 'by-default', isReady, 'Ready');
    expect(done.status?.regions?.map((r) => r.name)).to.deep.equal(['francecentral']);
  });

  it('targets francesouth only when it is listed, and then ARM refuses it for this subscription', async function () {
    await tenant.client.create(RESOURCES.ImageExport, exportManifest(tenant.namespace, 'listed', { source: { virtualMachineId: vmId }, replication: { regions: ['francecentral', 'francesouth'] } }));
    const refused = await untilExport(tenant.client, tenant.namespace, 'listed', (e) => Boolean(stalledMessage(e, 'LocationNotAvailableForResourceType')), 'Stalled by ARM');
    expect(condition(refused, 'Stalled')?.message).to.contain('francesouth');
  });
});
