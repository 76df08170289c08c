import { expect } from 'chai';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { parseGalleryId, type ImageVersionObservation } from '../../../src/azure/index.ts';
import { isOutcome } from '../../../src/controllers/common/outcome.ts';
import {
  catalogueEntry,
  checkPlacement,
  checkRules,
  exportAvailability,
  galleryImageVersion,
  observedAvailability,
  resolveExport,
  resolveMarketplace,
  templateLocation,
  vmName,
  type ResolvedImage,
} from '../../../src/controllers/labtemplate/rules.ts';
import { computeStatus, type TemplateOutcome as Outcome } from '../../../src/controllers/labtemplate/status.ts';

const versionId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11/versions/1.0.0';

function account(spec: Partial<LabAccount['spec']> = {}): LabAccount {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'LabAccount',
    metadata: { name: 'cs', namespace: 'ns' },
    spec: { location: 'westeurope', provider: 'Simulated', ...spec },
    status: { geography: 'Europe', regions: ['northeurope', 'westeurope'] },
  };
}

function template(spec: Partial<LabTemplate['spec']> = {}, metadata: Partial<LabTemplate['metadata']> = {}): LabTemplate {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'LabTemplate',
    metadata: { name: 'cs101', namespace: 'ns', uid: '0123456789abcdef', generation: 1, ...metadata },
    spec: { labAccountRef: { name: 'cs' }, image: { imageExportRef: { name: 'exp' } }, ...spec },
  };
}

function imageExport(status: ImageExport['status'], spec: Partial<ImageExport['spec']> = {}): ImageExport {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'ImageExport',
    metadata: { name: 'exp', namespace: 'ns' },
    spec: { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 'src' } }, image: { name: 'win11', osType: 'Windows' }, ...spec },
    status,
  };
}

const generalizedCredentials = { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'pw', key: 'password' } };

describe('LabTemplate rules', () => {
  it('places the template in the account\'s region unless spec.location says otherwise, inside the geography', () => {
    expect(templateLocation(template(), account())).to.equal('westeurope');
    expect(templateLocation(template({ location: 'northeurope' }), account())).to.equal('northeurope');
    expect(checkPlacement(template({ location: 'northeurope' }), account(), 'northeurope')).to.equal(undefined);
    const outside = checkPlacement(template({ location: 'francecentral' }), account(), 'francecentral');
    expect(outside).to.include({ state: 'stalled', reason: 'LocationOutsideGeography' });
    expect(outside?.message).to.match(/francecentral.*Europe/);
  });

  it('needs a subnet with provider Azure only', () => {
    const azure = account({ provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg' } });
    expect(checkPlacement(template(), azure, 'westeurope')).to.include({ state: 'stalled', reason: 'SubnetRequired' });
    const subnetId = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/labs';
    expect(checkPlacement(template({ vm: { subnetId } }), azure, 'westeurope')).to.equal(undefined);
    expect(checkPlacement(template(), account(), 'westeurope')).to.equal(undefined);
  });

  it('places a template of a sovereign cloud\'s account, which has no geography data, in the regions the account names', () => {
    const gov = { ...account({ provider: 'Azure', location: 'usgovvirginia', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', cloud: 'AzureUSGovernment' } }), status: { regions: ['usgovtexas', 'usgovvirginia'] } };
    const subnetId = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/labs';
    expect(checkPlacement(template({ vm: { subnetId } }), gov, 'usgovtexas')).to.equal(undefined);
    expect(checkPlacement(template({ vm: { subnetId } }), gov, 'usgovarizona')).to.include({ reason: 'LocationOutsideGeography' });
    expect(checkPlacement(template({ vm: { subnetId } }), gov, 'westeurope')).to.include({ reason: 'LocationOutsideGeography' });
  });

  it('takes a subnet only in the account\'s scope, naming spec.vm.subnetId', () => {
    const inSubscription = (resourceGroup: string, subscription = '00000000-0000-0000-0000-000000000001') =>
      `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/v/subnets/labs`;
    const azure = account({ provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg' } });
    const elsewhere = checkPlacement(template({ vm: { subnetId: inSubscription('net', '00000000-0000-0000-0000-000000000002') } }), azure, 'westeurope');
    expect(elsewhere).to.include({ state: 'stalled', reason: 'OutOfScope' });
    expect(elsewhere?.message).to.match(/^spec\.vm\.subnetId .* lies outside LabAccount cs's scope, its subscription \(\/subscriptions\/00000000-0000-0000-0000-000000000001\)/);

    const listed = account({ provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', allowedScopes: ['/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/NET'] } });
    expect(checkPlacement(template({ vm: { subnetId: inSubscription('net') } }), listed, 'westeurope'), 'ARM compares ids without case').to.equal(undefined);
    expect(checkPlacement(template({ vm: { subnetId: inSubscription('rg') } }), listed, 'westeurope'), 'the account\'s own group').to.equal(undefined);
    expect(checkPlacement(template({ vm: { subnetId: inSubscription('other') } }), listed, 'westeurope')).to.include({ reason: 'OutOfScope' });
    const tricked = checkPlacement(template({ vm: { subnetId: `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/../other/providers/Microsoft.Network/virtualNetworks/v/subnets/labs` } }), azure, 'westeurope');
    expect(tricked).to.include({ reason: 'OutOfScope' });
    expect(tricked?.message).to.contain('".." segment');
  });

  it('resolves a marketplace image as generalized, and only a marketplace spec', () => {
    const t = template({ image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } });
    expect(resolveMarketplace(t)).to.deep.equal({ image: { version: 'latest', osState: 'Generalized' } });
    expect(resolveMarketplace(template())).to.equal(undefined);
  });

  it('resolves an export to the version it made, specialized by default, waiting until it has one', () => {
    expect(resolveExport(template(), imageExport({ phase: 'Exporting' }))).to.include({ state: 'progressing', reason: 'ImageExportPending' });
    const resolved = resolveExport(template(), imageExport({ version: '1.0.0', imageVersionId: versionId, sizeGiB: 30 }));
    expect(resolved).to.deep.equal({ image: { versionId, version: '1.0.0', osState: 'Specialized' }, name: 'win11', sizeGiB: 30 });
    const generalized = resolveExport(template(), imageExport({ version: '1.0.0', imageVersionId: versionId }, { image: { name: 'win11', osType: 'Windows', osState: 'Generalized' } }));
    expect(isOutcome(generalized) ? undefined : generalized.image.osState).to.equal('Generalized');
  });

  it('refuses an export of another account, or one being deleted', () => {
    const other = imageExport({ version: '1.0.0', imageVersionId: versionId }, { labAccountRef: { name: 'other' } });
    expect(resolveExport(template(), other)).to.include({ state: 'stalled', reason: 'LabAccountMismatch' });
    const deleting = { ...imageExport({ version: '1.0.0', imageVersionId: versionId }), metadata: { name: 'exp', namespace: 'ns', deletionTimestamp: new Date() } };
    expect(resolveExport(template(), deleting)).to.include({ state: 'stalled', reason: 'ImageExportDeleting' });
  });

  it('reads availability from the export\'s regions, with the region\'s progress in the message', () => {
    const regions = [
      { name: 'westeurope', state: 'Completed' as const, progress: 100 },
      { name: 'northeurope', state: 'Replicating' as const, progress: 40 },
    ];
    const exp = imageExport({ version: '1.0.0', imageVersionId: versionId, phase: 'Replicating', regions });
    expect(exportAvailability(exp, 'westeurope')).to.equal(undefined);
    const waiting = exportAvailability(exp, 'northeurope');
    expect(waiting).to.include({ state: 'progressing', reason: 'ReplicationInProgress' });
    expect(waiting?.message).to.match(/northeurope: 40%/);
    expect(exportAvailability(exp, 'uksouth')).to.include({ state: 'progressing', reason: 'ReplicationInProgress' });
  });

  it('stalls when the export settled without a completed replica in the location', () => {
    const regions = [
      { name: 'westeurope', state: 'Completed' as const, progress: 100 },
      { name: 'northeurope', state: 'Failed' as const, progress: 12, message: 'quota' },
    ];
    const partial = imageExport({ version: '1.0.0', imageVersionId: versionId, phase: 'PartiallySucceeded', regions });
    expect(exportAvailability(partial, 'northeurope')).to.include({ state: 'stalled', reason: 'ReplicationFailed' });
    expect(exportAvailability(partial, 'uksouth')).to.include({ state: 'stalled', reason: 'NotReplicatedToLocation' });
    const retrying = imageExport({ version: '1.0.0', imageVersionId: versionId, phase: 'Replicating', regions });
    expect(exportAvailability(retrying, 'northeurope')).to.include({ state: 'progressing', reason: 'ReplicationInProgress' });
  });

  it('resolves latest from the attachment catalogue, and x.y.z as given', () => {
    const attachment = {
      metadata: { name: 'shared' },
      status: { images: [{ name: 'ubuntu', latestVersion: '2.1.0', osState: 'Generalized', enabled: true, regions: ['westeurope'] }] },
    } as unknown as GalleryAttachment;
    const entry = catalogueEntry(attachment, 'ubuntu');
    expect(galleryImageVersion(template({ image: { galleryImage: { name: 'ubuntu', version: 'latest' } } }), entry, 'shared')).to.equal('2.1.0');
    expect(galleryImageVersion(template({ image: { galleryImage: { name: 'ubuntu', version: '1.0.0' } } }), entry, 'shared')).to.equal('1.0.0');
    const missing = galleryImageVersion(template({ image: { galleryImage: { name: 'nope' } } }), catalogueEntry(attachment, 'nope'), 'shared');
    expect(missing).to.include({ state: 'progressing', reason: 'ImageNotFound' });
  });

  it('reads availability of an observed version from ARM\'s replication status', () => {
    const observed = {
      name: '1.0.0',
      targetRegions: [{ name: 'westeurope' }, { name: 'northeurope' }],
      replication: {
        aggregatedState: 'InProgress',
        regions: [
          { region: 'westeurope', state: 'Completed', progress: 100, details: '' },
          { region: 'northeurope', state: 'Replicating', progress: 65, details: '' },
        ],
      },
    } as unknown as ImageVersionObservation;
    expect(observedAvailability(observed, 'westeurope')).to.equal(undefined);
    expect(observedAvailability(observed, 'northeurope')?.message).to.match(/northeurope: 65%/);
    expect(observedAvailability(observed, 'uksouth')).to.include({ state: 'stalled', reason: 'NotReplicatedToLocation' });
  });

  describe('rules before a VM is made', () => {
    const specialized: ResolvedImage = { image: { versionId, version: '1.0.0', osState: 'Specialized' }, name: 'win11', sizeGiB: 127 };
    const generalized: ResolvedImage = { image: { versionId, version: '1.0.0', osState: 'Generalized' }, name: 'ubuntu', sizeGiB: 30 };

    it('passes a specialized image without credentials and a generalized one with them', () => {
      expect(checkRules(template(), specialized, true)).to.equal(undefined);
      expect(checkRules(template({ vm: generalizedCredentials }), generalized, undefined)).to.equal(undefined);
    });

    it('refuses a disabled image', () => {
      expect(checkRules(template(), specialized, false)).to.include({ state: 'stalled', reason: 'ImageDisabled' });
    });

    it('refuses admin credentials with a specialized image, and requires them with a generalized one', () => {
      expect(checkRules(template({ vm: generalizedCredentials }), specialized, true)).to.include({ state: 'stalled', reason: 'CredentialsNotAllowed' });
      expect(checkRules(template(), generalized, true)).to.include({ state: 'stalled', reason: 'CredentialsRequired' });
      const marketplace = resolveMarketplace(template({ image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } }))!;
      expect(checkRules(template(), marketplace, undefined)).to.include({ reason: 'CredentialsRequired' });
    });

    it('refuses an OS disk of 128 GB or more', () => {
      expect(checkRules(template(), { ...specialized, sizeGiB: 128 }, true)).to.include({ state: 'stalled', reason: 'ImageTooLarge' });
      expect(checkRules(template(), { ...specialized, sizeGiB: 127 }, true)).to.equal(undefined);
    });

    it('refuses an image with data disks: a single OS disk only', () => {
      expect(checkRules(template(), { ...specialized, dataDisks: 1 }, true)).to.include({ state: 'stalled', reason: 'DataDisksNotSupported' });
      expect(checkRules(template(), { ...specialized, dataDisks: 0 }, true)).to.equal(undefined);
    });
  });

  it('names the VM after the template and its uid, within ARM\'s 64 characters', () => {
    expect(vmName(template())).to.equal('labtmpl-cs101-01234567');
    const long = vmName(template({}, { name: `${'a'.repeat(39)}-b`.padEnd(60, 'c') }));
    expect(long.length).to.be.at.most(64);
    expect(vmName(template({}, { name: `${'a'.repeat(39)}-xyz` }))).to.equal(`labtmpl-${'a'.repeat(39)}-01234567`);
  });

  it('parses a gallery id', () => {
    expect(parseGalleryId('/subscriptions/s/resourceGroups/labs-rg/providers/Microsoft.Compute/galleries/labgallery')).to.deep.equal({ resourceGroup: 'labs-rg', gallery: 'labgallery' });
    expect(parseGalleryId(undefined)).to.equal(undefined);
    expect(parseGalleryId(`${versionId}`)).to.equal(undefined);
  });
});

describe('LabTemplate status', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:01:00Z');
  const waitingOutcome: Outcome = {
    state: 'progressing',
    reason: 'ReplicationInProgress',
    message: 'version 1.0.0 is replicating to northeurope: 40%',
    found: {
      phase: 'WaitingForImage',
      image: { versionId, version: '1.0.0', osState: 'Specialized' },
      imageResolved: { status: 'True', reason: 'Resolved', message: 'ImageExport exp: version 1.0.0' },
      imageAvailable: { status: 'False', reason: 'ReplicationInProgress', message: 'version 1.0.0 is replicating to northeurope: 40%' },
    },
  };

  it('writes conditions by the kstatus contract while waiting for the image', () => {
    const status = computeStatus(template(), waitingOutcome, t0, []);
    expect(status).to.include({ observedGeneration: 1, phase: 'WaitingForImage' });
    const byType = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.status]));
    expect(byType).to.deep.equal({ ImageResolved: 'True', ImageAvailable: 'False', Reconciling: 'True', Ready: 'Unknown' });
  });

  it('recomputes an unchanged state to a deep-equal status (no write), and keeps image and VM when not re-observed', () => {
    const first = computeStatus(template(), waitingOutcome, t0, []);
    const again = computeStatus({ ...template(), status: first }, waitingOutcome, t1, []);
    expect(again).to.deep.equal(first);
    const withVm = computeStatus({ ...template(), status: first }, { state: 'ready', reason: 'VirtualMachineReady', message: 'running', found: { phase: 'Ready', vm: { id: 'vm1', provisioningState: 'Succeeded' } } }, t1, []);
    const later = computeStatus({ ...template(), status: withVm }, { state: 'stalled', reason: 'AdminPasswordSecretNotFound', message: 'create it' }, t1, []);
    expect(later.image).to.deep.equal(waitingOutcome.found?.image);
    expect(later.vm).to.deep.equal({ id: 'vm1', provisioningState: 'Succeeded' });
    expect(later.conditions?.map((c) => c.type)).to.include('Stalled').and.not.include('Reconciling');
    const gone = computeStatus({ ...template(), status: withVm }, { state: 'progressing', reason: 'Provisioning', message: '', found: { phase: 'Provisioning', vm: null } }, t1, []);
    expect(gone).not.to.have.property('vm');
  });

  it('lists the exports made from it that are still running, and sums them up for kubectl get', () => {
    const exportOf = (name: string, status?: ImageExport['status'], deleting = false): ImageExport => ({
      apiVersion: API_VERSION,
      kind: 'ImageExport',
      metadata: { name, namespace: 'ns', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
      spec: { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 't' } }, image: { name: 'i', osType: 'Linux' } },
      ...(status ? { status } : {}),
    });
    const exports = [
      exportOf('v3'),
      exportOf('v2', { phase: 'Replicating', progress: 57 }),
      exportOf('v1', { phase: 'Succeeded', progress: 100 }),
      exportOf('v0', { phase: 'Replicating', progress: 10 }, true),
      exportOf('v4', { phase: 'Exporting' }),
    ];
    const status = computeStatus(template(), waitingOutcome, t0, exports);
    expect(status.exports).to.deep.equal([
      { name: 'v2', phase: 'Replicating', progress: 57 },
      { name: 'v3', phase: 'Pending', progress: 0 },
      { name: 'v4', phase: 'Exporting', progress: 0 },
    ]);
    expect(status.exporting).to.equal('v2 57%, v3 Pending, v4 Exporting');
    const done = computeStatus({ ...template(), status }, waitingOutcome, t1, [exportOf('v2', { phase: 'Succeeded', progress: 100 })]);
    expect(done).to.not.have.property('exports');
    expect(done).to.not.have.property('exporting');
  });
});
