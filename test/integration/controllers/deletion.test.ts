// Deletion that never surprises, on the real control plane with tenants as namespace admins: a
// LabAccount waits for what was made through it, and deleting a whole namespace leaves nothing
// billed behind in Azure and deletes no image version another namespace uses.
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { API_VERSION, RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { simulatedSubscriptionId, type GalleryPort } from '../../../src/azure/index.ts';
import type { ObjectClient } from '../../../src/runtime/index.ts';
import { raw } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { namespaceAdmin, type Tenant } from '../tenant.ts';
import { armPort, condition, isReady, uploadImage } from './galleryattachment-helpers.ts';
import { createSourceVm } from './imageexport-fixtures.ts';

const WINDOWS_11 = { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro' };
const KINDS = [RESOURCES.LabTemplate, RESOURCES.ImageExport, RESOURCES.GalleryAttachment, RESOURCES.LabAccount];

const manifest = <T>(kind: string, namespace: string, name: string, spec: unknown): T => ({ apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec }) as T;

async function secretFor(tenant: Tenant): Promise<{ name: string; key: string }> {
  await tenant.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: tenant.namespace, body: { metadata: { name: 'admin-password' }, stringData: { password: 'Not-A-Real-Passw0rd!' } } });
  return { name: 'admin-password', key: 'password' };
}

async function readyAll(client: ObjectClient, namespace: string, kinds = KINDS): Promise<void> {
  await eventually(
    async () => {
      const waiting: string[] = [];
      for (const kind of kinds) {
        const items = (await client.list<LabAccount>(kind, namespace)).items;
        if (items.length === 0) waiting.push(`no ${kind.kind}`);
        for (const obj of items.filter((o) => !isReady(o))) waiting.push(`${kind.kind} ${obj.metadata.name}: ${JSON.stringify(condition(obj, 'Ready') ?? null)}`);
      }
      // Thrown, so that a timeout says what was not Ready.
      if (waiting.length > 0) throw new Error(waiting.join('; '));
      return true;
    },
    { what: `everything in ${namespace} Ready`, timeoutMs: 120_000 },
  );
}

/** Every resource of `type` in a resource group of the emulator. */
async function resourcesIn(op: TestOperator, resourceGroup: string, type: string): Promise<string[]> {
  const apiVersion = { 'Microsoft.Compute/virtualMachines': '2024-07-01', 'Microsoft.Compute/disks': '2024-03-02', 'Microsoft.Network/networkInterfaces': '2024-05-01' }[type];
  const answer = await raw(op.emulator, 'GET', `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/${type}?api-version=${apiVersion}`);
  if (answer.status === 404) return [];
  expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  return (answer.body as { value: { name: string }[] }).value.map((r) => r.name);
}

/** What template VMs are made with: the VM (labtmpl-<template>-<uid>), its OS disk and its NIC, all named after it. */
async function templateResourcesIn(op: TestOperator, resourceGroup: string, type: string): Promise<string[]> {
  return (await resourcesIn(op, resourceGroup, type)).filter((name) => name.startsWith('labtmpl-'));
}

const versionNames = async (port: GalleryPort, gallery: { resourceGroup: string; gallery: string }, image: string) =>
  (await port.listImageVersions({ ...gallery, image })).map((v) => v.name).sort();

describe('deletion that never surprises (tenants as namespace admins)', function () {
  this.timeout(300_000);
  let op: TestOperator;
  let a: Tenant;
  let b: Tenant;
  let port: GalleryPort;

  before(async function () {
    const admin = controlPlane().kubeConfig;
    await controlPlane().installCrds();
    const [nsA, nsB] = [await createTestNamespace(admin, 'del-a'), await createTestNamespace(admin, 'del-b')];
    a = await namespaceAdmin(admin, nsA);
    b = await namespaceAdmin(admin, nsB);
    op = await startTestOperator({ namespace: nsA, alsoWatch: [nsB], emulatorOptions: { replicationSeconds: 1 } });
    port = armPort(op);
  });

  after(async function () {
    await op?.stop();
    await a?.forget();
    await b?.forget();
  });

  it('a LabAccount being deleted waits for its attachment, exports and templates, naming them, and goes after them', async function () {
    const client = a.client;
    const ns = a.namespace;
    await client.create(RESOURCES.LabAccount, manifest<LabAccount>('LabAccount', ns, 'waits', { location: 'westeurope' }));
    await client.create(RESOURCES.GalleryAttachment, manifest<GalleryAttachment>('GalleryAttachment', ns, 'waits-gallery', { labAccountRef: { name: 'waits' }, gallery: { name: 'waitsgallery' } }));
    await readyAll(client, ns, [RESOURCES.LabAccount, RESOURCES.GalleryAttachment]);
    await client.create(RESOURCES.ImageExport, manifest<ImageExport>('ImageExport', ns, 'waits-export', { labAccountRef: { name: 'waits' }, source: { labTemplateRef: { name: 'nobody' } }, image: { name: 'img', osType: 'Linux' } }));

    await client.delete(RESOURCES.LabAccount, ns, 'waits');
    const blocked = await eventually(async () => {
      const account = await client.get<LabAccount>(RESOURCES.LabAccount, ns, 'waits');
      return condition(account, 'DeletionBlocked')?.status === 'True' && account;
    }, { what: 'the account DeletionBlocked' });
    expect(condition(blocked, 'DeletionBlocked')).to.include({ reason: 'InUse' });
    expect(condition(blocked, 'DeletionBlocked')?.message).to.contain('GalleryAttachment waits-gallery').and.contain('ImageExport waits-export');

    await client.delete(RESOURCES.ImageExport, ns, 'waits-export');
    await client.delete(RESOURCES.GalleryAttachment, ns, 'waits-gallery');
    await eventually(async () => (await client.get(RESOURCES.LabAccount, ns, 'waits')) === undefined, { what: 'the account gone after its dependents' });
  });

  it('deleting a namespace leaves no VM, disk or NIC, and deletes no image version another namespace (or no lab) uses', async function () {
    const [nsA, nsB] = [a.namespace, b.namespace];
    const groupA = `labimages-${nsA}`;
    const gallery = { resourceGroup: groupA, gallery: 'shared' };
    const subnetId = `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${groupA}/providers/Microsoft.Network/virtualNetworks/labs/subnets/default`;
    const passwordA = await secretFor(a);

    // Namespace A: an account and its gallery, a template from the marketplace, an export of its VM
    // (used by a second template of A), and an export of a VM made outside any lab (used in B).
    await a.client.create(RESOURCES.LabAccount, manifest<LabAccount>('LabAccount', nsA, 'dept', { location: 'westeurope' }));
    await a.client.create(RESOURCES.GalleryAttachment, manifest<GalleryAttachment>('GalleryAttachment', nsA, 'shared', { labAccountRef: { name: 'dept' }, gallery: { name: 'shared' } }));
    await a.client.create(RESOURCES.LabTemplate, manifest<LabTemplate>('LabTemplate', nsA, 'base', { labAccountRef: { name: 'dept' }, image: { marketplace: WINDOWS_11 }, vm: { adminUsername: 'labadmin', adminPasswordSecretRef: passwordA, subnetId } }));
    const outsideVm = await createSourceVm(port, 'outside', 'research-vm');
    const lab = { labAccountRef: { name: 'dept' }, deletionPolicy: 'Delete' };
    await a.client.create(RESOURCES.ImageExport, manifest<ImageExport>('ImageExport', nsA, 'base-v1', { ...lab, source: { labTemplateRef: { name: 'base' } }, image: { name: 'base', osType: 'Windows' } }));
    await a.client.create(RESOURCES.ImageExport, manifest<ImageExport>('ImageExport', nsA, 'research-v1', { ...lab, source: { virtualMachineId: outsideVm }, image: { name: 'research', osType: 'Windows' } }));
    await a.client.create(RESOURCES.LabTemplate, manifest<LabTemplate>('LabTemplate', nsA, 'course', { labAccountRef: { name: 'dept' }, image: { imageExportRef: { name: 'base-v1' } }, vm: { subnetId } }));
    await readyAll(a.client, nsA);
    // An image uploaded into the gallery outside any lab.
    await uploadImage(port, gallery, 'uploaded', { regions: ['westeurope'] });

    // Namespace B: its own account, attaching A's gallery as it is, and a template pinned to the
    // version research-v1 made.
    const research = await a.client.get<ImageExport>(RESOURCES.ImageExport, nsA, 'research-v1');
    await b.client.create(RESOURCES.LabAccount, manifest<LabAccount>('LabAccount', nsB, 'other-dept', { location: 'westeurope' }));
    await b.client.create(RESOURCES.GalleryAttachment, manifest<GalleryAttachment>('GalleryAttachment', nsB, 'borrowed', { labAccountRef: { name: 'other-dept' }, gallery: { name: 'shared', resourceGroup: groupA, create: false } }));
    await b.client.create(RESOURCES.LabTemplate, manifest<LabTemplate>('LabTemplate', nsB, 'elsewhere', {
      labAccountRef: { name: 'other-dept' },
      image: { galleryImage: { name: 'research', version: research?.status?.version } },
    }));
    await readyAll(b.client, nsB, [RESOURCES.LabAccount, RESOURCES.GalleryAttachment, RESOURCES.LabTemplate]);
    expect(await templateResourcesIn(op, groupA, 'Microsoft.Compute/virtualMachines'), 'template VMs').to.have.length(2);

    // The namespace goes: kube-controller-manager's namespace controller deletes every object in
    // it, all at once, in no order. This control plane (like envtest) runs no controller manager,
    // so the cluster admin does what it would.
    const admin = controlPlane();
    await admin.kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name: nsA });
    const adminClient = op.client;
    await Promise.all(
      KINDS.map(async (kind) => {
        for (const obj of (await adminClient.list(kind, nsA)).items) await adminClient.delete(kind, nsA, obj.metadata?.name ?? '');
      }),
    );
    await eventually(async () => (await Promise.all(KINDS.map((kind) => adminClient.list(kind, nsA)))).every((list) => list.items.length === 0), {
      what: `every lab object of ${nsA} gone`,
      timeoutMs: 120_000,
    });

    for (const type of ['Microsoft.Compute/virtualMachines', 'Microsoft.Compute/disks', 'Microsoft.Network/networkInterfaces']) {
      expect(await templateResourcesIn(op, groupA, type), `${type} of templates left in ${groupA}`).to.deep.equal([]);
    }
    expect(await versionNames(port, gallery, 'base'), 'the version only namespace A used').to.deep.equal([]);
    expect(await versionNames(port, gallery, 'research'), 'the version namespace B uses').to.deep.equal([research?.status?.version]);
    expect(await versionNames(port, gallery, 'uploaded'), 'the image uploaded outside any lab').to.deep.equal(['1.0.0']);
    // Namespace B's template and its VM are untouched.
    const elsewhere = await b.client.get<LabTemplate>(RESOURCES.LabTemplate, nsB, 'elsewhere');
    expect(isReady(elsewhere)).to.equal(true);
    expect(await templateResourcesIn(op, `labimages-${nsB}`, 'Microsoft.Compute/virtualMachines')).to.have.length(1);
  });
});
