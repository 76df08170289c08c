// Default replication targets the available regions of the account's geography, against an emulator
// whose subscriptions are not enabled for restricted-access regions, as most subscriptions are not:
// an export there would be refused by ARM had the operator targeted one.
import { expect } from 'chai';
import { API_VERSION, RESOURCES, type LabAccount } from '../../../src/api/index.ts';
import { defaultToken } from '../../../src/emulator/index.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { condition, createSourceVm, exportManifest, isReady, portFor, untilExport } from './imageexport-fixtures.ts';
import { createAttachment, getAccount, isReady as isAccountReady, stalledMessage } from './galleryattachment-helpers.ts';
import { eventually } from '../eventually.ts';

describe('available regions: an account in francecentral (France: francecentral, and francesouth with restricted access)', function () {
  let op: TestOperator;
  let vmId: string;

  before(async function () {
    await controlPlane().installCrds();
    op = await startTestOperator({
      namespace: await createTestNamespace(controlPlane().kubeConfig, 'regions'),
      emulatorOptions: {
        // No subscription is enabled for restricted-access or coming-soon regions.
        config: { principals: [{ name: 'labimages-emulator', tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] }], subscriptions: { '*': { implicitResourceGroups: true } } },
      },
    });
    await op.client.create<LabAccount>(RESOURCES.LabAccount, { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs-dept', namespace: op.namespace }, spec: { location: 'francecentral' } });
    await createAttachment(op, 'shared-images', { gallery: { name: 'labgallery' } });
    vmId = await createSourceVm(portFor(op.emulator), op.namespace, 'source-vm', 'Windows', 'francecentral');
  });

  after(async function () {
    await op?.stop();
  });

  it('lists the available and the excluded regions of the geography, and why', async function () {
    const account = await eventually(async () => {
      const a = await getAccount(op, 'cs-dept');
      return isAccountReady(a) && a?.status?.gallery?.id ? a : undefined;
    }, { what: 'cs-dept Ready with its gallery' });
    expect(account.status).to.deep.include({ geography: 'France', regions: ['francecentral', 'francesouth'], availableRegions: ['francecentral'] });
    expect(account.status?.excludedRegions).to.have.length(1);
    expect(account.status?.excludedRegions?.[0]).to.include({ name: 'francesouth', reason: 'RestrictedAccess' });
  });

  it('replicates an export to francecentral only by default, and it becomes Ready', async function () {
    await op.client.create(RESOURCES.ImageExport, exportManifest(op.namespace, 'by-default', { source: { virtualMachineId: vmId } }));
    const done = await untilExport(op.client, op.namespace, 'by-default', isReady, 'Ready');
    expect(done.status?.regions?.map((r) => r.name)).to.deep.equal(['francecentral']);
  });

  it('targets francesouth only when it is listed, and then ARM refuses it for this subscription', async function () {
    await op.client.create(RESOURCES.ImageExport, exportManifest(op.namespace, 'listed', { source: { virtualMachineId: vmId }, replication: { regions: ['francecentral', 'francesouth'] } }));
    const refused = await untilExport(op.client, op.namespace, 'listed', (e) => Boolean(stalledMessage(e, 'LocationNotAvailableForResourceType')), 'Stalled by ARM');
    expect(condition(refused, 'Stalled')?.message).to.contain('francesouth');
  });
});
