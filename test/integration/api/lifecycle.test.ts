// Defaults, the status subresource and immutable fields, as the real API server applies them.
import { expect } from 'chai';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { Objects, merged, refusal, type CustomObject, type Json } from './client.ts';
import { galleryAttachment, imageExport, labAccount, labTemplate } from './fixtures.ts';

describe('API defaults and status (real API server)', function () {
  let objects: Objects;

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    objects = new Objects(plane.kubeConfig, await createTestNamespace(plane.kubeConfig, 'api-defaults'));
  });

  it('fills in the documented defaults on read', async () => {
    await objects.create('labaccounts', labAccount('defaults'));
    await objects.create('galleryattachments', galleryAttachment('defaults'));
    await objects.create('imageexports', imageExport('defaults'));
    await objects.create('labtemplates', merged(labTemplate('defaults'), { spec: { image: { imageExportRef: null, galleryImage: { name: 'ubuntu-cs101' } } } }));

    expect((await objects.get('labaccounts', 'defaults')).spec).to.deep.equal({
      location: 'westeurope',
      provider: 'Simulated',
      replication: { replicaCount: 1, storageAccountType: 'Standard_LRS' },
    });
    expect((await objects.get('galleryattachments', 'defaults')).spec).to.deep.equal({
      labAccountRef: { name: 'cs-dept' },
      gallery: { name: 'labgallery', create: true },
      images: { enableNew: true },
      deletionPolicy: 'Detach',
    });
    expect((await objects.get('imageexports', 'defaults')).spec).to.deep.equal({
      labAccountRef: { name: 'cs-dept' },
      source: { labTemplateRef: { name: 'cs101-template' } },
      image: { name: 'ubuntu-cs101', osType: 'Linux', osState: 'Specialized', hyperVGeneration: 'V2' },
      excludeFromLatest: false,
      deletionPolicy: 'Retain',
    });
    expect((await objects.get('labtemplates', 'defaults')).spec).to.deep.equal({
      labAccountRef: { name: 'cs-dept' },
      image: { galleryImage: { name: 'ubuntu-cs101', version: 'latest' } },
      vm: { size: 'Standard_D2s_v5' },
    });
  });

  it('reads a new object back with status.observedGeneration -1, so kstatus calls it InProgress, not Current', async () => {
    const created = await objects.create('imageexports', imageExport('unseen'));
    // Create drops any status the client sent (status subresource); the defaults are applied to
    // what the server stored, so the create response already carries observedGeneration -1.
    expect(created.status).to.deep.equal({ observedGeneration: -1 });
    const read = await objects.get('imageexports', 'unseen');
    expect(read.metadata.generation).to.equal(1);
    expect(read.status).to.deep.equal({ observedGeneration: -1 });
    // kstatus: status.observedGeneration present and != metadata.generation → InProgress.
    expect(read.status!.observedGeneration).not.to.equal(read.metadata.generation);
  });

  it('ignores status sent with a create or a spec update, and takes it through the status subresource', async () => {
    const body = { ...imageExport('status'), status: { observedGeneration: 1, phase: 'Succeeded' } };
    expect((await objects.create('imageexports', body)).status).to.deep.equal({ observedGeneration: -1 });
    await objects.patch('imageexports', 'status', { status: { phase: 'Succeeded' } });
    expect((await objects.get('imageexports', 'status')).status).to.deep.equal({ observedGeneration: -1 });

    const condition = {
      type: 'Ready',
      status: 'False',
      reason: 'ReplicationInProgress',
      message: 'northeurope at 40%',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    };
    const written = await objects.patchStatus('imageexports', 'status', {
      status: { observedGeneration: 1, phase: 'Replicating', progress: 40, regionsReady: '1/2', conditions: [condition] },
    });
    expect(written.status).to.deep.include({ observedGeneration: 1, phase: 'Replicating', progress: 40, regionsReady: '1/2' });
    expect(written.metadata.generation).to.equal(1);
  });

  it('refuses a status the operator got wrong, naming the field', async () => {
    await objects.create('imageexports', imageExport('bad-status'));
    const bad = (condition: Json) => objects.patchStatus('imageexports', 'bad-status', { status: { conditions: [condition] } });
    const base = { type: 'Ready', status: 'True', reason: 'Succeeded', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const reason = await refusal(bad({ ...base, reason: 'not CamelCase' }));
    expect(reason.message).to.include('status.conditions[0].reason: Invalid value');
    const status = await refusal(bad({ ...base, status: 'Yes' }));
    expect(status.message).to.include('status.conditions[0].status: Unsupported value: "Yes"');
    const phase = await refusal(objects.patchStatus('imageexports', 'bad-status', { status: { phase: 'Done' } }));
    expect(phase.message).to.include('status.phase: Unsupported value: "Done"');
  });
});

interface ImmutableCase {
  title: string;
  plural: string;
  object: CustomObject;
  /** Merge patch that changes an immutable field. */
  change: Json;
  field: string;
  says: string;
}

const withGalleryImage = merged(labTemplate('x'), { spec: { image: { imageExportRef: null, galleryImage: { name: 'ubuntu-cs101' } } } });
const withLocation = merged(labTemplate('x'), { spec: { location: 'northeurope' } });
const withVersion = merged(imageExport('x'), { spec: { version: '1.0.0' } });

const immutableCases: ImmutableCase[] = [
  { title: 'LabAccount location', plural: 'labaccounts', object: labAccount('x'), change: { spec: { location: 'northeurope' } }, field: 'spec.location', says: 'spec.location is immutable' },
  { title: 'GalleryAttachment labAccountRef', plural: 'galleryattachments', object: galleryAttachment('x'), change: { spec: { labAccountRef: { name: 'other' } } }, field: 'spec.labAccountRef', says: 'spec.labAccountRef is immutable' },
  { title: 'GalleryAttachment gallery name', plural: 'galleryattachments', object: galleryAttachment('x'), change: { spec: { gallery: { name: 'othergallery' } } }, field: 'spec.gallery', says: 'spec.gallery.name and spec.gallery.resourceGroup are immutable' },
  { title: 'GalleryAttachment gallery resource group added', plural: 'galleryattachments', object: galleryAttachment('x'), change: { spec: { gallery: { resourceGroup: 'other-rg' } } }, field: 'spec.gallery', says: 'spec.gallery.name and spec.gallery.resourceGroup are immutable' },
  { title: 'ImageExport labAccountRef', plural: 'imageexports', object: imageExport('x'), change: { spec: { labAccountRef: { name: 'other' } } }, field: 'spec.labAccountRef', says: 'spec.labAccountRef is immutable' },
  { title: 'ImageExport source template', plural: 'imageexports', object: imageExport('x'), change: { spec: { source: { labTemplateRef: { name: 'other' } } } }, field: 'spec.source', says: 'spec.source is immutable' },
  {
    title: 'ImageExport source switched to a VM',
    plural: 'imageexports',
    object: imageExport('x'),
    change: { spec: { source: { labTemplateRef: null, virtualMachineId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1' } } },
    field: 'spec.source',
    says: 'spec.source is immutable',
  },
  { title: 'ImageExport image name', plural: 'imageexports', object: imageExport('x'), change: { spec: { image: { name: 'other' } } }, field: 'spec.image', says: 'spec.image is immutable' },
  { title: 'ImageExport image osState', plural: 'imageexports', object: imageExport('x'), change: { spec: { image: { osState: 'Generalized' } } }, field: 'spec.image', says: 'spec.image is immutable' },
  { title: 'ImageExport version changed', plural: 'imageexports', object: withVersion, change: { spec: { version: '1.0.1' } }, field: 'spec.version', says: 'spec.version is immutable once chosen' },
  { title: 'ImageExport version removed', plural: 'imageexports', object: withVersion, change: { spec: { version: null } }, field: 'spec.version', says: 'spec.version is immutable once chosen' },
  { title: 'ImageExport version emptied', plural: 'imageexports', object: withVersion, change: { spec: { version: '' } }, field: 'spec.version', says: 'spec.version is immutable once chosen' },
  { title: 'LabTemplate labAccountRef', plural: 'labtemplates', object: labTemplate('x'), change: { spec: { labAccountRef: { name: 'other' } } }, field: 'spec.labAccountRef', says: 'spec.labAccountRef is immutable' },
  {
    title: 'LabTemplate image switched to the marketplace',
    plural: 'labtemplates',
    object: labTemplate('x'),
    change: { spec: { image: { imageExportRef: null, marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } } },
    field: 'spec.image',
    says: 'spec.image is immutable',
  },
  { title: 'LabTemplate gallery image version', plural: 'labtemplates', object: withGalleryImage, change: { spec: { image: { galleryImage: { version: '1.0.0' } } } }, field: 'spec.image', says: 'spec.image is immutable' },
  { title: 'LabTemplate location changed', plural: 'labtemplates', object: withLocation, change: { spec: { location: 'westeurope' } }, field: 'spec.location', says: 'spec.location is immutable' },
  { title: 'LabTemplate location removed', plural: 'labtemplates', object: withLocation, change: { spec: { location: null } }, field: 'spec.location', says: 'spec.location is immutable' },
  { title: 'LabTemplate location added', plural: 'labtemplates', object: labTemplate('x'), change: { spec: { location: 'northeurope' } }, field: 'spec.location', says: 'spec.location is immutable' },
];

describe('immutable fields (real API server)', function () {
  let objects: Objects;

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    objects = new Objects(plane.kubeConfig, await createTestNamespace(plane.kubeConfig, 'api-immutable'));
  });

  immutableCases.forEach((c, i) => {
    it(`refuses changing ${c.title}`, async () => {
      const name = `immutable-${i}`;
      await objects.create(c.plural, { ...c.object, metadata: { name } });
      const refused = await refusal(objects.patch(c.plural, name, c.change as object));
      expect(refused.code).to.equal(422);
      expect(refused.message).to.include(`${c.field}: Forbidden: ${c.says}`);
    });
  });

  it('lets spec.version be pinned to the version the operator chose, and to no other', async () => {
    await objects.create('imageexports', imageExport('pin'));
    await objects.patchStatus('imageexports', 'pin', { status: { version: '1.0.3' } });
    const refused = await refusal(objects.patch('imageexports', 'pin', { spec: { version: '2.0.0' } }));
    expect(refused.message).to.include('spec.version: Forbidden: spec.version is immutable once chosen');
    const pinned = await objects.patch('imageexports', 'pin', { spec: { version: '1.0.3' } });
    expect(pinned.spec!.version).to.equal('1.0.3');
  });

  it('lets spec.version be set before the operator chose one', async () => {
    await objects.create('imageexports', imageExport('early'));
    expect((await objects.patch('imageexports', 'early', { spec: { version: '2.0.0' } })).spec!.version).to.equal('2.0.0');
  });

  it('accepts changes to what may change: replication, titles, overrides, the provider settings', async () => {
    await objects.create('imageexports', imageExport('mutable'));
    const changed = await objects.patch('imageexports', 'mutable', {
      spec: { replication: { regions: ['westeurope', 'northeurope'], replicaCount: 3 }, excludeFromLatest: true },
    });
    expect(changed.spec!.replication).to.deep.equal({ regions: ['westeurope', 'northeurope'], replicaCount: 3 });
    expect(changed.metadata.generation).to.equal(2);

    await objects.create('labtemplates', labTemplate('mutable'));
    expect((await objects.patch('labtemplates', 'mutable', { spec: { title: 'CS102' } })).spec!.title).to.equal('CS102');

    await objects.create('galleryattachments', galleryAttachment('mutable'));
    const overridden = await objects.patch('galleryattachments', 'mutable', {
      spec: { images: { overrides: [{ name: 'win11-cs101', enabled: false }] }, deletionPolicy: 'Delete' },
    });
    expect(overridden.spec!.deletionPolicy).to.equal('Delete');

    await objects.create('labaccounts', labAccount('mutable'));
    const azure = await objects.patch('labaccounts', 'mutable', {
      spec: { provider: 'Azure', azure: { subscriptionId: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', resourceGroup: 'labs-rg' } },
    });
    expect(azure.spec!.provider).to.equal('Azure');
  });
});
