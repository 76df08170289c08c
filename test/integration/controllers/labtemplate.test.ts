import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { API_VERSION, GROUP, LAB_TEMPLATE, RESOURCES, VERSION, type ImageExport, type LabAccount, type LabTemplate, type LabTemplateSpec } from '../../../src/api/index.ts';
import { TEMPLATE_UID_TAG as templateUidTag, simulatedSubscriptionId, type GalleryPort, type GalleryRef } from '../../../src/azure/index.ts';
import { simulatedResourceGroup } from '../../../src/controllers/common/account-connector.ts';

import { vmName } from '../../../src/controllers/labtemplate/rules.ts';
import { raw } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { namespaceAdmin, type Tenant } from '../tenant.ts';
import { armPort, condition, createAccount, createAttachment, eventsAbout, getAccount, getAttachment, isReady, stalledMessage, uploadImage, waitingMessage } from './galleryattachment-helpers.ts';

const run = promisify(execFile);
const TEMPLATES = { group: GROUP, version: VERSION, plural: LAB_TEMPLATE.plural, kind: LAB_TEMPLATE.kind };
const ACCOUNT = 'cs-dept';
const GALLERY = 'labgallery';
const PASSWORD = 'Never-Logged-Passw0rd!';
const WINDOWS_11 = { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro' };
const WINDOWS_11_LATEST = { ...WINDOWS_11, version: 'latest' };
const ADMIN = { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'cs101-admin', key: 'password' } };

function createTemplate(op: TestOperator, name: string, spec: Partial<LabTemplateSpec> & Pick<LabTemplateSpec, 'image'>): Promise<LabTemplate> {
  return op.client.create<LabTemplate>(TEMPLATES, {
    apiVersion: API_VERSION,
    kind: 'LabTemplate',
    metadata: { name, namespace: op.namespace },
    spec: { labAccountRef: { name: ACCOUNT }, ...spec },
  });
}

const getTemplate = (op: TestOperator, name: string) => op.client.get<LabTemplate>(TEMPLATES, op.namespace, name);
const getExport = (op: TestOperator, name: string) => op.client.get<ImageExport>(RESOURCES.ImageExport, op.namespace, name);

async function untilTemplate(op: TestOperator, name: string, done: (t: LabTemplate) => unknown, what: string): Promise<LabTemplate> {
  return eventually(
    async () => {
      const t = await getTemplate(op, name);
      return t && done(t) ? t : undefined;
    },
    { what: `${name}: ${what}` },
  );
}

const untilReady = (op: TestOperator, name: string) => untilTemplate(op, name, (t) => isReady(t), 'Ready');

async function untilStalled(op: TestOperator, name: string, reason: string): Promise<string> {
  return eventually(async () => stalledMessage(await getTemplate(op, name), reason), { what: `${name} Stalled with ${reason}` });
}

function createExport(op: TestOperator, name: string, source: ImageExport['spec']['source'], image: string): Promise<ImageExport> {
  return op.client.create<ImageExport>(RESOURCES.ImageExport, {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name, namespace: op.namespace },
    spec: { labAccountRef: { name: ACCOUNT }, source, image: { name: image, osType: 'Windows' } },
  });
}

async function createSecret(op: TestOperator, name: string, password: string): Promise<void> {
  await op.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: op.namespace, body: { metadata: { name }, stringData: { password } } });
}

/** The westeurope account (geography Europe: northeurope + westeurope) with its gallery attached, both Ready. */
async function accountWithGallery(op: TestOperator, images?: Parameters<typeof createAttachment>[2]['images']): Promise<GalleryRef> {
  await createAccount(op, ACCOUNT);
  await createAttachment(op, 'shared-images', { gallery: { name: GALLERY }, ...(images ? { images } : {}) });
  await eventually(async () => {
    const account = await getAccount(op, ACCOUNT);
    return isReady(account) && account?.status?.gallery?.id;
  }, { what: 'the account Ready with its gallery' });
  return { resourceGroup: simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount), gallery: GALLERY };
}

/**
 * An image uploaded outside any lab: a definition, a VM from the marketplace (its OS disk of
 * `diskGiB`), and a version made from that VM, replicated to the whole geography.
 */
/** Every resource of one type (`Microsoft.Compute/disks`, NICs, VMs) in a resource group of the test's emulator, as ARM lists them. */
async function listIn(op: TestOperator, resourceGroup: string, type: string): Promise<unknown[]> {
  const apiVersions: Record<string, string> = { 'Microsoft.Network/networkInterfaces': '2024-05-01', 'Microsoft.Compute/disks': '2024-03-02', 'Microsoft.Compute/virtualMachines': '2024-07-01' };
  const apiVersion = apiVersions[type];
  const answer = await raw(op.emulator, 'GET', `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/${type}?api-version=${apiVersion}`);
  expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  return (answer.body as { value: unknown[] }).value;
}

/** The template VM as Azure has it. */
function observeTemplateVm(op: TestOperator, template: LabTemplate) {
  return armPort(op).observeVirtualMachine({ resourceGroup: simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount), name: vmName(template) });
}

describe('LabTemplate controller: the lab workflow', function () {
  let op: TestOperator;

  before(async function () {
    await controlPlane().installCrds();
    // Replication slow enough that a template created with its export is seen waiting for it.
    op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'labtmpl'), emulatorOptions: { replicationSeconds: 8 } });
    await accountWithGallery(op);
    await createSecret(op, 'cs101-admin', PASSWORD);
  });

  after(async function () {
    await op?.stop();
  });

  it('marketplace template → exported image → replicated across Europe → templates from the export and from the gallery by name; deletion in order', async function () {
    this.timeout(240_000);
    // 1. A brand-new lab starts from a marketplace image.
    const cs101 = await createTemplate(op, 'cs101', { image: { marketplace: WINDOWS_11 }, vm: ADMIN, title: 'CS101' });
    const ready = await untilReady(op, 'cs101');
    expect(ready.status).to.include({ phase: 'Ready', observedGeneration: 1 });
    expect(ready.status?.image).to.deep.equal({ version: 'latest', osState: 'Generalized' });
    expect(ready.status?.vm).to.include({ provisioningState: 'Succeeded', powerState: 'running' });
    const vm = await observeTemplateVm(op, cs101);
    expect(vm).to.include({ location: 'westeurope', id: ready.status?.vm?.id });
    expect(vm?.tags[templateUidTag]).to.equal(cs101.metadata.uid);
    expect(condition(ready, 'ImageResolved')?.status).to.equal('True');
    expect(condition(ready, 'ImageAvailable')?.status).to.equal('True');
    await eventually(async () => (await eventsAbout(op, cs101)).some((e) => e.type === 'Normal' && e.reason === 'VirtualMachineReady'), { what: 'a Ready Event' });

    // 2. The lab creator saves the customized template VM into the gallery (specialized by default),
    // and the template shows the export in progress where a lab creator looks: kubectl get.
    await createExport(op, 'cs101-v1', { labTemplateRef: { name: 'cs101' } }, 'win11-cs101');
    const exporting = await eventually(async () => {
      const { stdout } = await run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'get', 'labtemplate', 'cs101', '-n', op.namespace]);
      const [header = [], row = []] = stdout.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
      const cell = row[header.indexOf('EXPORTING')];
      return /^cs101-v1 \d+%$/.test(cell ?? '') && cell;
    }, { what: 'EXPORTING cs101-v1 with its progress in kubectl get labtemplate', timeoutMs: 60_000, intervalMs: 250 });
    expect((await getTemplate(op, 'cs101'))?.status?.exports?.[0]).to.deep.include({ name: 'cs101-v1' }).and.have.property('progress').that.is.a('number');
    console.log(`      kubectl get labtemplate cs101: EXPORTING ${exporting}`);
    // 3. A template in the other region of the geography from that export waits for the replica there.
    await createTemplate(op, 'cs101-north', { location: 'northeurope', image: { imageExportRef: { name: 'cs101-v1' } } });
    const waiting = await untilTemplate(op, 'cs101-north', (t) => condition(t, 'ImageAvailable')?.reason === 'ReplicationInProgress', 'waiting for replication');
    expect(waiting.status?.phase).to.equal('WaitingForImage');
    expect(condition(waiting, 'ImageAvailable')).to.include({ status: 'False' });
    expect(condition(waiting, 'ImageAvailable')?.message).to.match(/northeurope: \d+%/);
    expect(condition(waiting, 'Reconciling')?.status).to.equal('True');

    const exported = await eventually(async () => {
      const e = await getExport(op, 'cs101-v1');
      return isReady(e) && e;
    }, { what: 'the export Ready', timeoutMs: 120_000 });
    expect(exported.spec.image.osState).to.equal('Specialized');
    await untilTemplate(op, 'cs101', (t) => t.status?.exports === undefined && t.status?.exporting === undefined, 'no export in progress once it is done');
    expect(exported.status?.regions?.map((r) => [r.name, r.state])).to.have.deep.members([
      ['northeurope', 'Completed'],
      ['westeurope', 'Completed'],
    ]);
    const north = await untilReady(op, 'cs101-north');
    expect(north.status?.image).to.deep.equal({ versionId: exported.status?.imageVersionId, version: exported.status?.version, osState: 'Specialized' });
    expect(await observeTemplateVm(op, north)).to.include({ location: 'northeurope', provisioningState: 'Succeeded' });

    // 4. A third template from the gallery image by name, `latest`.
    await eventually(async () => (await getAttachment(op, 'shared-images'))?.status?.images?.find((i) => i.name === 'win11-cs101')?.latestVersion, { what: 'the image in the catalogue' });
    await createTemplate(op, 'cs101-latest', { image: { galleryImage: { name: 'win11-cs101', version: 'latest' } } });
    const latest = await untilReady(op, 'cs101-latest');
    expect(latest.status?.image).to.deep.equal(north.status?.image);

    // 5. The export cannot go while templates use it; once they are gone (VMs deleted first), it goes.
    await op.client.delete(RESOURCES.ImageExport, op.namespace, 'cs101-v1');
    const blocked = await eventually(async () => {
      const e = await getExport(op, 'cs101-v1');
      return condition(e, 'DeletionBlocked')?.status === 'True' && e;
    }, { what: 'the export blocked by its templates' });
    expect(condition(blocked, 'DeletionBlocked')?.message).to.contain('cs101-north').and.contain('cs101-latest');
    await op.client.delete(TEMPLATES, op.namespace, 'cs101-north');
    await op.client.delete(TEMPLATES, op.namespace, 'cs101-latest');
    await eventually(async () => !(await getTemplate(op, 'cs101-north')) && !(await getTemplate(op, 'cs101-latest')), { what: 'both templates gone' });
    expect(await observeTemplateVm(op, north)).to.equal(undefined);
    expect(await observeTemplateVm(op, latest)).to.equal(undefined);
    await eventually(async () => !(await getExport(op, 'cs101-v1')), { what: 'the export gone after its templates' });

    await op.client.delete(TEMPLATES, op.namespace, 'cs101');
    await eventually(async () => !(await getTemplate(op, 'cs101')), { what: 'cs101 gone' });
    expect(await observeTemplateVm(op, cs101)).to.equal(undefined);
  });
});

describe('LabTemplate controller: rules', function () {
  let op: TestOperator;
  let gallery: GalleryRef;
  let port: GalleryPort;

  before(async function () {
    await controlPlane().installCrds();
    // A short sync period, so the attachment's catalogue soon shows images uploaded outside a lab.
    op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'labtmplr'), operator: { syncPeriodMs: 2000 } });
    gallery = await accountWithGallery(op, { overrides: [{ name: 'blocked', enabled: false }] });
    port = armPort(op);
    await createSecret(op, 'cs101-admin', PASSWORD);
  });

  after(async function () {
    await op?.stop();
  });

  it('Stalls a location outside the account\'s geography, with a Warning Event', async function () {
    const t = await createTemplate(op, 'in-france', { location: 'francecentral', image: { marketplace: WINDOWS_11 }, vm: ADMIN });
    expect(await untilStalled(op, 'in-france', 'LocationOutsideGeography')).to.contain('francecentral').and.contain('Europe');
    expect((await getTemplate(op, 'in-france'))?.status?.phase).to.equal('Failed');
    await eventually(async () => (await eventsAbout(op, t)).some((e) => e.type === 'Warning' && e.reason === 'LocationOutsideGeography'), { what: 'a Warning Event' });
  });

  it('Stalls an unknown marketplace image with ARM\'s error', async function () {
    await createSecret(op, 'unknown-admin', PASSWORD);
    await createTemplate(op, 'no-such-image', {
      image: { marketplace: { publisher: 'nobody', offer: 'nothing', sku: 'none' } },
      vm: { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'unknown-admin', key: 'password' } },
    });
    expect(await untilStalled(op, 'no-such-image', 'PlatformImageNotFound')).to.contain('nobody:nothing:none');
  });

  it('leaves nothing billed behind: deleting a template deletes its VM with its OS disk and NIC', async function () {
    const resourceGroup = simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount);
    const subnetId = `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/labs/subnets/default`;
    const template = await createTemplate(op, 'billed', { image: { marketplace: WINDOWS_11 }, vm: { ...ADMIN, subnetId } });
    await untilReady(op, 'billed');
    const attachedTo = (kind: string) => listIn(op, resourceGroup, kind).then((items) => items.filter((item) => JSON.stringify(item).includes(vmName(template))));
    expect(await attachedTo('Microsoft.Compute/disks'), 'the OS disk while the VM runs').to.have.length(1);
    expect(await attachedTo('Microsoft.Network/networkInterfaces'), 'the NIC while the VM runs').to.have.length(1);
    await op.client.delete(TEMPLATES, op.namespace, 'billed');
    await eventually(async () => !(await getTemplate(op, 'billed')), { what: 'the template gone' });
    expect(await observeTemplateVm(op, template)).to.equal(undefined);
    expect(await attachedTo('Microsoft.Compute/disks'), 'disks left behind').to.deep.equal([]);
    expect(await attachedTo('Microsoft.Network/networkInterfaces'), 'NICs left behind').to.deep.equal([]);
  });

  it('requires admin credentials for a generalized image', async function () {
    await createTemplate(op, 'no-admin', { image: { marketplace: WINDOWS_11 } });
    expect(await untilStalled(op, 'no-admin', 'CredentialsRequired')).to.contain('spec.vm.adminUsername');
  });

  it('waits for a password Secret that does not exist yet (Stalled only after a minute), goes on once it exists, and never lets the password out', async function () {
    const t = await createTemplate(op, 'late-secret', { image: { marketplace: WINDOWS_11 }, vm: { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'late-admin', key: 'password' } } });
    const waiting = await eventually(async () => waitingMessage(await getTemplate(op, 'late-secret'), 'AdminPasswordSecretNotFound'), { what: 'late-secret Reconciling AdminPasswordSecretNotFound' });
    expect(waiting).to.contain('late-admin').and.contain('Stalled after that');
    await createSecret(op, 'late-admin', PASSWORD);
    const ready = await untilReady(op, 'late-secret');
    expect(JSON.stringify(ready)).not.to.contain(PASSWORD);
    expect(JSON.stringify(await eventsAbout(op, t))).not.to.contain(PASSWORD);
    // The emulator, as ARM, keeps no password on the VM it returns.
    expect(JSON.stringify(await observeTemplateVm(op, ready))).not.to.contain(PASSWORD);
  });

  it('refuses admin credentials with a specialized image', async function () {
    await uploadImage(port, gallery, 'special', { osState: 'Specialized' });
    await createTemplate(op, 'special-admin', { image: { galleryImage: { name: 'special', version: '1.0.0' } }, vm: ADMIN });
    expect(await untilStalled(op, 'special-admin', 'CredentialsNotAllowed')).to.contain('specialized');
    const t = await untilTemplate(op, 'special-admin', (x) => x.status?.image?.version, 'image resolved');
    expect(t.status?.image).to.include({ version: '1.0.0', osState: 'Specialized' });
  });

  it('Stalls a disabled image', async function () {
    await uploadImage(port, gallery, 'blocked');
    await eventually(async () => (await getAttachment(op, 'shared-images'))?.status?.images?.find((i) => i.name === 'blocked'), { what: 'blocked in the catalogue' });
    await createTemplate(op, 'uses-blocked', { image: { galleryImage: { name: 'blocked' } }, vm: ADMIN });
    expect(await untilStalled(op, 'uses-blocked', 'ImageDisabled')).to.contain('blocked');
  });

  it('Stalls an image whose OS disk is 128 GB or more', async function () {
    await uploadImage(port, gallery, 'huge', { diskGiB: 200 });
    await createTemplate(op, 'uses-huge', { image: { galleryImage: { name: 'huge', version: '1.0.0' } }, vm: ADMIN });
    expect(await untilStalled(op, 'uses-huge', 'ImageTooLarge')).to.contain('200 GB');
  });

  it('Stalls an image with data disks: lab templates take a single OS disk', async function () {
    // A VM made outside any lab, with a data disk beside its OS disk, exported as it is.
    const resourceGroup = simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount);
    const vmPath = `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/with-data-disk`;
    const put = await raw(op.emulator, 'PUT', `${vmPath}?api-version=2024-07-01`, {
      location: 'westeurope',
      properties: {
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        storageProfile: { imageReference: WINDOWS_11_LATEST, dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 32 }] },
        osProfile: { computerName: 'datadisk', adminUsername: 'labadmin', adminPassword: PASSWORD },
      },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    await eventually(async () => (await port.observeVirtualMachine({ resourceGroup, name: 'with-data-disk' }))?.provisioningState === 'Succeeded', { what: 'the VM made' });
    await createExport(op, 'with-data', { virtualMachineId: vmPath }, 'with-data');
    const exported = await eventually(async () => {
      const e = await getExport(op, 'with-data');
      return isReady(e) && e;
    }, { what: 'the export Ready', timeoutMs: 60_000 });
    expect(exported.status?.dataDisks).to.equal(1);
    await createTemplate(op, 'uses-data', { image: { imageExportRef: { name: 'with-data' } } });
    expect(await untilStalled(op, 'uses-data', 'DataDisksNotSupported')).to.contain('1 data disk');
    expect(await observeTemplateVm(op, (await getTemplate(op, 'uses-data'))!)).to.equal(undefined);
  });

  it('needs a subnet with provider Azure', async function () {
    await createAccount(op, 'azure-dept', { provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-0000000000ab', resourceGroup: 'labs-rg' } });
    await createTemplate(op, 'no-subnet', { labAccountRef: { name: 'azure-dept' }, image: { marketplace: WINDOWS_11 }, vm: ADMIN });
    expect(await untilStalled(op, 'no-subnet', 'SubnetRequired')).to.contain('spec.vm.subnetId');
  });

  it('keeps the version `latest` resolved to, while a new template gets the newer one', async function () {
    await uploadImage(port, gallery, 'ubuntu-lab', { version: '1.0.0' });
    const catalogued = (version: string) => async () => (await getAttachment(op, 'shared-images'))?.status?.images?.find((i) => i.name === 'ubuntu-lab' && i.latestVersion === version);
    await eventually(catalogued('1.0.0'), { what: 'ubuntu-lab 1.0.0 in the catalogue' });
    await createTemplate(op, 'ubuntu-first', { image: { galleryImage: { name: 'ubuntu-lab' } }, vm: ADMIN });
    const first = await untilReady(op, 'ubuntu-first');
    expect(first.status?.image).to.include({ version: '1.0.0', osState: 'Generalized' });

    await uploadImage(port, gallery, 'ubuntu-lab', { version: '1.0.1' });
    await eventually(catalogued('1.0.1'), { what: 'ubuntu-lab 1.0.1 in the catalogue' });
    await op.client.mergePatch(TEMPLATES, op.namespace, 'ubuntu-first', { spec: { title: 'changed' } });
    const again = await untilTemplate(op, 'ubuntu-first', (t) => t.status?.observedGeneration === 2 && isReady(t), 'generation 2 Ready');
    expect(again.status?.image).to.deep.equal(first.status?.image);

    await createTemplate(op, 'ubuntu-second', { image: { galleryImage: { name: 'ubuntu-lab' } }, vm: ADMIN });
    expect((await untilReady(op, 'ubuntu-second')).status?.image?.version).to.equal('1.0.1');
  });
});

describe('LabTemplate controller: nothing billed left behind', function () {
  let op: TestOperator;
  let tenant: Tenant;

  before(async function () {
    await controlPlane().installCrds();
    const namespace = await createTestNamespace(controlPlane().kubeConfig, 'labtmplb');
    tenant = await namespaceAdmin(controlPlane().kubeConfig, namespace);
    // Everything is made and deleted by the namespace's admin, not the cluster's.
    op = { ...(await startTestOperator({ namespace })), client: tenant.client, kubeConfig: tenant.kubeConfig };
    await accountWithGallery(op);
    await createSecret(op, 'cs101-admin', PASSWORD);
  });

  after(async function () {
    await op?.stop();
    await tenant?.forget();
  });

  it('20 templates created and deleted leave no VM, disk or NIC', async function () {
    this.timeout(180_000);
    const resourceGroup = simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount);
    const subnetId = `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/labs/subnets/default`;
    const names = Array.from({ length: 20 }, (_, i) => `lab-${i}`);
    await Promise.all(names.map((name) => createTemplate(op, name, { image: { marketplace: WINDOWS_11 }, vm: { ...ADMIN, subnetId } })));
    await eventually(async () => (await Promise.all(names.map((name) => getTemplate(op, name)))).every((t) => isReady(t)), { what: 'all 20 templates Ready', timeoutMs: 120_000 });
    const types = ['Microsoft.Compute/virtualMachines', 'Microsoft.Compute/disks', 'Microsoft.Network/networkInterfaces'];
    for (const type of types) expect(await listIn(op, resourceGroup, type), `${type} while the templates exist`).to.have.length(20);

    await Promise.all(names.map((name) => op.client.delete(TEMPLATES, op.namespace, name)));
    await eventually(async () => (await Promise.all(names.map((name) => getTemplate(op, name)))).every((t) => t === undefined), { what: 'all 20 templates gone', timeoutMs: 120_000 });
    for (const type of types) expect(await listIn(op, resourceGroup, type), `${type} left behind`).to.deep.equal([]);
  });
});
