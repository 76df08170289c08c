// Invalid manifests, each with one fault, refused by the real API server with the field named.
import { expect } from 'chai';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { Objects, merged, refusal, type CustomObject, type Json } from './client.ts';
import { galleryAttachment, imageExport, labAccount, labTemplate } from './fixtures.ts';

interface InvalidCase {
  title: string;
  base: (name: string) => CustomObject;
  plural: string;
  /** Merge patch on spec that introduces the one fault. */
  spec: Json;
  /** The field the API server must name. */
  field: string;
  /** What the message must say about it. */
  says: string;
}

const LA = { base: labAccount, plural: 'labaccounts' };
const GA = { base: galleryAttachment, plural: 'galleryattachments' };
const IE = { base: imageExport, plural: 'imageexports' };
const LT = { base: labTemplate, plural: 'labtemplates' };

const cases: InvalidCase[] = [
  // LabAccount
  { ...LA, title: 'location missing', spec: { location: null }, field: 'spec.location', says: 'Required value' },
  { ...LA, title: 'location as a display name', spec: { location: 'West Europe' }, field: 'spec.location', says: 'should match' },
  { ...LA, title: 'unknown provider', spec: { provider: 'AWS' }, field: 'spec.provider', says: 'Unsupported value: "AWS"' },
  {
    ...LA,
    title: 'provider Azure without spec.azure',
    spec: { provider: 'Azure' },
    field: 'spec.azure',
    says: 'Required value: spec.azure (subscriptionId, resourceGroup) is required when spec.provider is Azure',
  },
  {
    ...LA,
    title: 'subscriptionId not a GUID',
    spec: { provider: 'Azure', azure: { subscriptionId: 'my-subscription', resourceGroup: 'labs-rg' } },
    field: 'spec.azure.subscriptionId',
    says: 'should match',
  },
  {
    ...LA,
    title: 'resource group ending in a period',
    spec: { provider: 'Azure', azure: { subscriptionId: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', resourceGroup: 'labs.' } },
    field: 'spec.azure.resourceGroup',
    says: 'should match',
  },
  {
    ...LA,
    title: 'an unknown cloud',
    spec: { provider: 'Azure', azure: { subscriptionId: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', resourceGroup: 'labs-rg', cloud: 'AzureGermanCloud' } },
    field: 'spec.azure.cloud',
    says: 'Unsupported value: "AzureGermanCloud"',
  },
  {
    ...LA,
    title: 'an allowed scope that is a resource, not a subscription or group',
    spec: { azure: { subscriptionId: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', resourceGroup: 'labs-rg', allowedScopes: ['/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Compute/galleries/g'] } },
    field: 'spec.azure.allowedScopes[0]',
    says: 'spec.azure.allowedScopes[] must be an ARM scope',
  },
  {
    ...LA,
    title: 'an allowed scope of "..", climbing out of its subscription',
    spec: { azure: { subscriptionId: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', resourceGroup: 'labs-rg', allowedScopes: ['/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/..'] } },
    field: 'spec.azure.allowedScopes[0]',
    says: 'spec.azure.allowedScopes[] must be an ARM scope',
  },
  { ...LA, title: 'replicaCount 0', spec: { replication: { replicaCount: 0 } }, field: 'spec.replication.replicaCount', says: 'should be greater than or equal to 1' },
  { ...LA, title: 'replicaCount 11', spec: { replication: { replicaCount: 11 } }, field: 'spec.replication.replicaCount', says: 'should be less than or equal to 10' },
  {
    ...LA,
    title: 'unknown storage account type',
    spec: { replication: { storageAccountType: 'Premium_ZRS' } },
    field: 'spec.replication.storageAccountType',
    says: 'Unsupported value: "Premium_ZRS"',
  },
  {
    ...LA,
    title: 'a region twice',
    spec: { replication: { regions: ['westeurope', 'westeurope'] } },
    field: 'spec.replication.regions[1]',
    says: 'Duplicate value: "westeurope"',
  },
  // GalleryAttachment
  { ...GA, title: 'gallery name with a dash', spec: { gallery: { name: 'lab-gallery' } }, field: 'spec.gallery.name', says: 'should match' },
  { ...GA, title: 'gallery name of 81 characters', spec: { gallery: { name: 'g'.repeat(81) } }, field: 'spec.gallery.name', says: 'Too long' },
  { ...GA, title: 'labAccountRef missing', spec: { labAccountRef: null }, field: 'spec.labAccountRef', says: 'Required value' },
  { ...GA, title: 'labAccountRef not an object name', spec: { labAccountRef: { name: 'CS_Dept' } }, field: 'spec.labAccountRef.name', says: 'should match' },
  { ...GA, title: 'deletionPolicy of another kind', spec: { deletionPolicy: 'Retain' }, field: 'spec.deletionPolicy', says: 'Unsupported value: "Retain"' },
  {
    ...GA,
    title: 'two overrides for one image',
    spec: { images: { overrides: [{ name: 'win11', enabled: false }, { name: 'win11', enabled: true }] } },
    field: 'spec.images.overrides[1]',
    says: 'Duplicate value',
  },
  // ImageExport
  {
    ...IE,
    title: 'source with both a template and a VM',
    spec: { source: { virtualMachineId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1' } },
    field: 'spec.source',
    says: 'spec.source must set exactly one of labTemplateRef or virtualMachineId',
  },
  { ...IE, title: 'source empty', spec: { source: { labTemplateRef: null } }, field: 'spec.source', says: 'spec.source must set exactly one of labTemplateRef or virtualMachineId' },
  {
    ...IE,
    title: 'virtualMachineId not a VM id',
    spec: { source: { labTemplateRef: null, virtualMachineId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1' } },
    field: 'spec.source.virtualMachineId',
    says: 'spec.source.virtualMachineId must be an ARM resource id like',
  },
  { ...IE, title: 'unknown osType', spec: { image: { osType: 'MacOS' } }, field: 'spec.image.osType', says: 'Unsupported value: "MacOS"' },
  { ...IE, title: 'unknown osState', spec: { image: { osState: 'Sealed' } }, field: 'spec.image.osState', says: 'Unsupported value: "Sealed"' },
  { ...IE, title: 'hyperVGeneration V3', spec: { image: { hyperVGeneration: 'V3' } }, field: 'spec.image.hyperVGeneration', says: 'Unsupported value: "V3"' },
  { ...IE, title: 'image name ending in an underscore', spec: { image: { name: 'ubuntu_' } }, field: 'spec.image.name', says: 'should match' },
  { ...IE, title: 'image missing', spec: { image: null }, field: 'spec.image', says: 'Required value' },
  { ...IE, title: 'version with two parts', spec: { version: '1.0' }, field: 'spec.version', says: 'should match' },
  { ...IE, title: 'version latest (only templates pick latest)', spec: { version: 'latest' }, field: 'spec.version', says: 'should match' },
  { ...IE, title: 'replicaCount 20', spec: { replication: { replicaCount: 20 } }, field: 'spec.replication.replicaCount', says: 'should be less than or equal to 10' },
  { ...IE, title: 'endOfLifeDate not a date-time', spec: { endOfLifeDate: 'next tuesday' }, field: 'spec.endOfLifeDate', says: 'date-time' },
  { ...IE, title: 'deletionPolicy Detach', spec: { deletionPolicy: 'Detach' }, field: 'spec.deletionPolicy', says: 'Unsupported value: "Detach"' },
  // LabTemplate
  {
    ...LT,
    title: 'image from an export and the marketplace',
    spec: { image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } },
    field: 'spec.image',
    says: 'spec.image must set exactly one of imageExportRef, galleryImage or marketplace',
  },
  { ...LT, title: 'image empty', spec: { image: { imageExportRef: null } }, field: 'spec.image', says: 'spec.image must set exactly one of imageExportRef, galleryImage or marketplace' },
  {
    ...LT,
    title: 'gallery image version neither latest nor x.y.z',
    spec: { image: { imageExportRef: null, galleryImage: { name: 'ubuntu-cs101', version: 'newest' } } },
    field: 'spec.image.galleryImage.version',
    says: 'spec.image.galleryImage.version must be latest or a version x.y.z',
  },
  {
    ...LT,
    title: 'marketplace image without sku',
    spec: { image: { imageExportRef: null, marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts' } } },
    field: 'spec.image.marketplace.sku',
    says: 'Required value',
  },
  {
    ...LT,
    title: 'adminUsername without a password',
    spec: { vm: { adminUsername: 'labadmin' } },
    field: 'spec.vm',
    says: 'spec.vm.adminUsername and spec.vm.adminPasswordSecretRef must be set together',
  },
  {
    ...LT,
    title: 'password reference without key',
    spec: { vm: { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'cs101-admin' } } },
    field: 'spec.vm.adminPasswordSecretRef.key',
    says: 'Required value',
  },
  {
    ...IE,
    // The shape alone would pass it: `..` is a segment like any other to the id's pattern.
    title: 'virtualMachineId with a ".." resource group',
    spec: { source: { labTemplateRef: null, virtualMachineId: '/subscriptions/s/resourceGroups/../providers/Microsoft.Compute/virtualMachines/vm1' } },
    field: 'spec.source.virtualMachineId',
    says: 'spec.source.virtualMachineId must not have "." or ".." segments',
  },
  {
    ...LT,
    title: 'subnetId with a "." segment',
    spec: { vm: { subnetId: '/subscriptions/s/resourceGroups/./providers/Microsoft.Network/virtualNetworks/vnet/subnets/labs' } },
    field: 'spec.vm.subnetId',
    says: 'spec.vm.subnetId must not have "." or ".." segments',
  },
  {
    ...LT,
    title: 'subnetId of a virtual network',
    spec: { vm: { subnetId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet' } },
    field: 'spec.vm.subnetId',
    says: 'spec.vm.subnetId must be an ARM resource id like',
  },
  { ...LT, title: 'location as a display name', spec: { location: 'North Europe' }, field: 'spec.location', says: 'should match' },
  { ...LT, title: 'title over 256 characters', spec: { title: 't'.repeat(257) }, field: 'spec.title', says: 'Too long' },
];

describe('invalid manifests are refused by the API server, naming the field', function () {
  let objects: Objects;

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    objects = new Objects(plane.kubeConfig, await createTestNamespace(plane.kubeConfig, 'api-invalid'));
  });

  it('has a table of at least 25 cases', () => {
    expect(cases.length).to.be.at.least(25);
  });

  it('accepts every base manifest the cases derive from (so each refusal is for its one fault)', async () => {
    for (const { base, plural } of [LA, GA, IE, LT]) await objects.create(plural, base('valid-base'));
  });

  cases.forEach((c, i) => {
    it(`${c.base('x').kind}: ${c.title} → ${c.field}`, async () => {
      const base = c.base(`invalid-${i}`);
      const manifest = { ...base, spec: merged(base.spec, c.spec) };
      const refused = await refusal(objects.create(c.plural, manifest));
      expect(refused.code).to.equal(422);
      expect(refused.message).to.include(`${c.field}: `).and.to.include(c.says);
      // Besides the field, 1.34 may add a cause without a field: "some validation rules were not
      // checked because the object was invalid" (CEL rules skipped after a schema error).
      const named = new Set(refused.fields.filter((field) => field !== '<nil>'));
      expect([...named], refused.message).to.deep.equal([c.field]);
    });
  });
});
