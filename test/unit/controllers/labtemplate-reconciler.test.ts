import { expect } from 'chai';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { ArmError, TEMPLATE_UID_TAG } from '../../../src/azure/index.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';
import { LAB_TEMPLATE_FINALIZER, LabTemplateReconciler } from '../../../src/controllers/labtemplate/reconciler.ts';
import type { Result } from '../../../src/runtime/index.ts';
import { FakeCluster, connectorTo } from '../fakes/cluster.ts';
import { FakeGallery } from '../fakes/gallery.ts';
import { NS, RECHECK_MS, SYNC_PERIOD_MS, readyCondition, table, type ReconcilerCase } from './reconcilers.ts';

type Case = ReconcilerCase<World>;


const VM = { resourceGroup: 'rg', name: 'labtmpl-t1-uid-t1' };
const MARKETPLACE = { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro' };
const ADMIN = { adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'pw', key: 'password' } };
const PASSWORD = 'Test-Only-Passw0rd!';
const VERSION_ID = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11/versions/1.0.0';
const arm = (code: string, statusCode: number, retryable: boolean, retryAfterMs?: number) =>
  new ArmError({ code, message: `${code} from the test`, statusCode, retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

function account(spec: Partial<LabAccount['spec']> = {}, conditions = readyCondition()): LabAccount {
  return {
    apiVersion: API_VERSION,
    kind: 'LabAccount',
    metadata: { name: 'cs', namespace: NS },
    spec: { location: 'westeurope', ...spec },
    status: { geography: 'Europe', regions: ['northeurope', 'westeurope'], gallery: { attachment: 'shared' }, conditions },
  };
}

function attachment(galleryId = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g'): GalleryAttachment {
  const images = [
    { name: 'ubuntu', osState: 'Generalized' as const, enabled: true, latestVersion: '1.0.0', regions: ['westeurope'] },
    { name: 'win11', osState: 'Specialized' as const, enabled: false, latestVersion: '1.0.0', regions: ['westeurope'] },
  ];
  return { apiVersion: API_VERSION, kind: 'GalleryAttachment', metadata: { name: 'shared', namespace: NS }, spec: { labAccountRef: { name: 'cs' }, gallery: { name: 'g' } }, status: { ...(galleryId ? { galleryId } : {}), images, conditions: readyCondition() } };
}

function template(spec: Partial<LabTemplate['spec']> = {}, metadata: Partial<LabTemplate['metadata']> = {}, status?: LabTemplate['status']): LabTemplate {
  return {
    apiVersion: API_VERSION,
    kind: 'LabTemplate',
    metadata: { name: 't1', namespace: NS, finalizers: [LAB_TEMPLATE_FINALIZER], ...metadata },
    spec: { labAccountRef: { name: 'cs' }, image: { marketplace: MARKETPLACE }, vm: ADMIN, ...spec },
    ...(status ? { status } : {}),
  };
}

function exportOf(status: ImageExport['status'], spec: Partial<ImageExport['spec']> = {}, metadata: Partial<ImageExport['metadata']> = {}): ImageExport {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name: 'e1', namespace: NS, ...metadata },
    spec: { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 'src' } }, image: { name: 'lab', osType: 'Windows' }, ...spec },
    status,
  };
}

const replicatedTo = (phase: 'Replicating' | 'Succeeded' | 'PartiallySucceeded', regions: NonNullable<ImageExport['status']>['regions']): ImageExport['status'] => ({ phase, version: '1.0.0', imageVersionId: VERSION_ID, sizeGiB: 30, regions });
const fromExport = { image: { imageExportRef: { name: 'e1' } }, vm: {} };
const fromGallery = (name: string, version = 'latest') => ({ image: { galleryImage: { name, version } } });
const ourVm = { tags: { [TEMPLATE_UID_TAG]: 'uid-t1' } };

/** A Ready account in westeurope with its gallery attached, the admin password Secret, and template t1 (marketplace, generalized). */
class World {
  readonly cluster = new FakeCluster();
  readonly gallery = new FakeGallery();
  readonly connector = connectorTo(this.gallery);
  readonly reconciler: LabTemplateReconciler;

  constructor() {
    this.cluster.put(account());
    this.cluster.put(attachment());
    this.cluster.put(template());
    this.cluster.putSecret(NS, 'pw', { password: PASSWORD });
    this.reconciler = new LabTemplateReconciler({
      templates: this.cluster.templates,
      accounts: this.cluster.accounts,
      accountsForDeletion: this.cluster.accountsForDeletion,
      attachments: this.cluster.attachments,
      exports: this.cluster.exports,
      client: this.cluster.client,
      events: this.cluster.recorder,
      connector: this.connector,
      settings: { syncPeriodMs: SYNC_PERIOD_MS, stalledRecheckMs: RECHECK_MS },
    });
  }

  reconcile(): Promise<Result> {
    return this.reconciler.reconcile({ namespace: NS, name: 't1' }, this.cluster.context());
  }

  get object() {
    return this.template;
  }

  get template(): LabTemplate | undefined {
    return this.cluster.templates.get('t1', NS);
  }

  withVm(state: string, extra: object = ourVm): void {
    this.gallery.putVm(VM, { provisioningState: state, ...extra });
    this.cluster.put(template({}, {}, { vm: { id: this.gallery.virtualMachineId(VM), provisioningState: state } }));
  }
}

const placement: Case[] = [
  { it: 'waits for an account that does not exist yet', given: (w) => w.cluster.accounts.remove(account()), result: {}, verdict: 'Reconciling/LabAccountNotFound', phase: 'Pending', mutations: [] },
  { it: 'Stalls a location outside the geography', given: (w) => void w.cluster.put(template({ location: 'francecentral' })), result: {}, verdict: 'Stalled/LocationOutsideGeography', phase: 'Failed' },
  {
    it: 'Stalls an Azure account\'s template without a subnet',
    given: (w) => void w.cluster.put(account({ provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg' } })),
    result: {},
    verdict: 'Stalled/SubnetRequired',
  },
  { it: 'waits for its account to be Ready', given: (w) => void w.cluster.put(account({}, readyCondition('False'))), result: {}, verdict: 'Reconciling/LabAccountNotReady', phase: 'Pending' },
  {
    it: 'Stalls while its account is Stalled',
    given: (w) => void w.cluster.put(account({}, [...readyCondition('False'), { type: 'Stalled', status: 'True', reason: 'UnknownLocation', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }])),
    result: {},
    verdict: 'Stalled/LabAccountNotReady',
  },
  {
    it: 'Stalls when the account cannot reach Azure, and looks again',
    given: (w) => void (w.connector.connect = async () => Promise.reject(new StalledError('CredentialsNotFound', 'create the Secret'))),
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/CredentialsNotFound',
  },
];

const marketplace: Case[] = [
  { it: 'requires admin credentials for a generalized image', given: (w) => void w.cluster.put(template({ vm: {} })), result: {}, verdict: 'Stalled/CredentialsRequired', mutations: [] },
  { it: 'Stalls on a missing password Secret, and looks again', given: (w) => w.cluster.secrets.clear(), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/AdminPasswordSecretNotFound', mutations: [] },
  { it: 'Stalls on a password Secret without the key, and looks again', given: (w) => w.cluster.putSecret(NS, 'pw', { other: 'x' }), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/AdminPasswordKeyNotFound' },
  {
    it: 'makes the VM, tagged, with the password from the Secret, and looks again when ARM says',
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Provisioning',
    phase: 'Provisioning',
    mutations: [`createVirtualMachine ${VM.name}`],
    then: (w) => {
      expect(w.gallery.calls.find((c) => c.method === 'createVirtualMachine')?.spec).to.deep.include({ admin: { username: 'labadmin', password: PASSWORD }, tags: { [TEMPLATE_UID_TAG]: 'uid-t1' } });
      expect(JSON.stringify(w.template?.status)).not.to.contain(PASSWORD);
      expect(w.cluster.events.map((e) => e.reason)).to.deep.equal(['CreatingVirtualMachine']);
    },
  },
  { it: 'Stalls on ARM\'s refusal of the VM, and looks again', given: (w) => void w.gallery.failNext('createVirtualMachine', arm('PlatformImageNotFound', 404, false)), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/PlatformImageNotFound' },
  { it: 'writes nothing when ARM throttles, and comes back after Retry-After', given: (w) => void w.gallery.failNext('observeVirtualMachine', arm('TooManyRequests', 429, true, 4000)), result: { requeueAfter: 4000 }, verdict: 'none' },
  { it: 'writes nothing when ARM fails transiently without Retry-After, and backs off', given: (w) => void w.gallery.failNext('observeVirtualMachine', arm('Http500', 500, true)), result: { requeue: true }, verdict: 'none' },
];

const vm: Case[] = [
  { it: 'follows the VM ARM is making', given: (w) => w.withVm('Creating'), result: { requeueAfter: 5000 }, verdict: 'Reconciling/Provisioning', phase: 'Provisioning', mutations: [] },
  { it: 'is Ready once its VM is, and reads it again each sync period', given: (w) => w.withVm('Succeeded', { ...ourVm, powerState: 'running' }), result: { requeueAfter: SYNC_PERIOD_MS }, verdict: 'Ready/VirtualMachineReady', phase: 'Ready', mutations: [] },
  { it: 'Stalls on a VM Azure failed to make, and looks again', given: (w) => w.withVm('Failed'), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/VirtualMachineFailed', phase: 'Failed' },
  { it: 'Stalls on a VM of its name that it did not make', given: (w) => w.withVm('Succeeded', { tags: {} }), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/VirtualMachineNameTaken', mutations: [] },
  { it: 'Stalls rather than make a VM over one of its name that another made', given: (w) => void w.gallery.putVm(VM, { tags: { [TEMPLATE_UID_TAG]: 'someone-else' } }), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/VirtualMachineNameTaken', mutations: [] },
];

const fromAnExport: Case[] = [
  { it: 'waits for an export that does not exist yet', given: (w) => void w.cluster.put(template(fromExport)), result: {}, verdict: 'Reconciling/ImageExportNotFound', phase: 'Pending' },
  {
    it: 'refuses an export of another account',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Succeeded', []), { labAccountRef: { name: 'other' } }));
    },
    result: {},
    verdict: 'Stalled/LabAccountMismatch',
  },
  {
    it: 'refuses an export being deleted',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Succeeded', []), {}, { deletionTimestamp: new Date() }));
    },
    result: {},
    verdict: 'Stalled/ImageExportDeleting',
  },
  {
    it: 'waits for the export to make its version',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf({ phase: 'Exporting' }));
    },
    result: {},
    verdict: 'Reconciling/ImageExportPending',
  },
  {
    it: 'waits for the replica in its region, woken by the export\'s progress rather than a timer',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Replicating', [{ name: 'westeurope', state: 'Replicating', progress: 40 }])));
    },
    result: {},
    verdict: 'Reconciling/ReplicationInProgress',
    phase: 'WaitingForImage',
  },
  {
    it: 'Stalls when the settled export does not replicate to its region',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Succeeded', [{ name: 'northeurope', state: 'Completed', progress: 100 }])));
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/NotReplicatedToLocation',
  },
  {
    it: 'Stalls when the replica in its region failed for good',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('PartiallySucceeded', [{ name: 'westeurope', state: 'Failed', progress: 10, message: 'quota' }])));
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/ReplicationFailed',
  },
  {
    it: 'refuses admin credentials with a specialized image',
    given: (w) => {
      w.cluster.put(template({ ...fromExport, vm: ADMIN }));
      w.cluster.put(exportOf(replicatedTo('Succeeded', [{ name: 'westeurope', state: 'Completed', progress: 100 }])));
    },
    result: {},
    verdict: 'Stalled/CredentialsNotAllowed',
  },
  {
    it: 'refuses an OS disk of 128 GB or more',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf({ ...replicatedTo('Succeeded', [{ name: 'westeurope', state: 'Completed', progress: 100 }]), sizeGiB: 200 }));
    },
    result: {},
    verdict: 'Stalled/ImageTooLarge',
  },
  {
    it: 'refuses an export whose version has data disks',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf({ ...replicatedTo('Succeeded', [{ name: 'westeurope', state: 'Completed', progress: 100 }]), dataDisks: 1 }));
    },
    result: {},
    verdict: 'Stalled/DataDisksNotSupported',
  },
  {
    it: 'refuses a gallery image whose version has data disks, as ARM reports them',
    given: (w) => {
      w.cluster.put(template(fromGallery('ubuntu', '1.0.0')));
      w.gallery.putVersion({ resourceGroup: 'rg', gallery: 'g', image: 'ubuntu', version: '1.0.0' }, ['westeurope'], { dataDisks: 2 });
    },
    result: {},
    verdict: 'Stalled/DataDisksNotSupported',
  },
  {
    it: 'refuses an image the catalogue disables',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Succeeded', [{ name: 'westeurope', state: 'Completed', progress: 100 }]), { image: { name: 'win11', osType: 'Windows' } }));
    },
    result: {},
    verdict: 'Stalled/ImageDisabled',
  },
  {
    it: 'makes the VM from the export\'s version once its replica is there',
    given: (w) => {
      w.cluster.put(template(fromExport));
      w.cluster.put(exportOf(replicatedTo('Succeeded', [{ name: 'westeurope', state: 'Completed', progress: 100 }])));
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Provisioning',
    mutations: [`createVirtualMachine ${VM.name}`],
    then: (w) => expect(w.gallery.calls.find((c) => c.method === 'createVirtualMachine')?.spec).to.deep.include({ image: { imageVersionId: VERSION_ID } }),
  },
];

const fromTheGallery: Case[] = [
  {
    it: 'waits for a gallery to be attached',
    given: (w) => {
      w.cluster.put(attachment(''));
      w.cluster.put(template(fromGallery('ubuntu')));
    },
    result: {},
    verdict: 'Reconciling/NoGalleryAttached',
  },
  { it: 'waits for the image to be in the catalogue', given: (w) => void w.cluster.put(template(fromGallery('nope'))), result: {}, verdict: 'Reconciling/ImageNotFound' },
  { it: 'looks again for a version not in Azure yet', given: (w) => void w.cluster.put(template(fromGallery('ubuntu'))), result: { requeueAfter: 5000 }, verdict: 'Reconciling/VersionNotFound', phase: 'Pending' },
  {
    it: 'follows replication to its region in Azure on a timer',
    given: (w) => {
      w.cluster.put(template(fromGallery('ubuntu', '1.0.0')));
      w.gallery.putVersion({ resourceGroup: 'rg', gallery: 'g', image: 'ubuntu', version: '1.0.0' }, ['westeurope'], {
        replication: { aggregatedState: 'InProgress', regions: [{ region: 'westeurope', state: 'Replicating', progress: 65, details: '' }] },
      });
    },
    result: { requeueAfter: 5000 },
    verdict: 'Reconciling/ReplicationInProgress',
    phase: 'WaitingForImage',
  },
  {
    it: 'Stalls on a version that does not replicate to its region, and looks again',
    given: (w) => {
      w.cluster.put(template(fromGallery('ubuntu')));
      w.gallery.putVersion({ resourceGroup: 'rg', gallery: 'g', image: 'ubuntu', version: '1.0.0' }, ['northeurope']);
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/NotReplicatedToLocation',
  },
  {
    it: 'Stalls on a version whose replica in its region failed, and looks again',
    given: (w) => {
      w.cluster.put(template(fromGallery('ubuntu')));
      w.gallery.putVersion({ resourceGroup: 'rg', gallery: 'g', image: 'ubuntu', version: '1.0.0' }, ['westeurope'], {
        replication: { aggregatedState: 'Failed', regions: [{ region: 'westeurope', state: 'Failed', progress: 20, details: 'quota' }] },
      });
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/ReplicationFailed',
  },
  {
    it: 'makes the VM from the latest version',
    given: (w) => {
      w.cluster.put(template(fromGallery('ubuntu')));
      w.gallery.putVersion({ resourceGroup: 'rg', gallery: 'g', image: 'ubuntu', version: '1.0.0' }, ['westeurope']);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Provisioning',
    mutations: [`createVirtualMachine ${VM.name}`],
  },
];

const deleting = (w: World, status?: LabTemplate['status']) => void w.cluster.put(template({}, { deletionTimestamp: new Date() }, status));

const deletion: Case[] = [
  {
    it: 'lets go with a Warning Event when the account is gone',
    given: (w) => {
      deleting(w);
      w.cluster.accounts.remove(account());
    },
    result: {},
    verdict: 'none',
    then: (w) => {
      expect(w.cluster.events.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Warning/VirtualMachineLeftBehind']);
      expect(w.template?.metadata.finalizers).to.deep.equal([]);
    },
  },
  {
    it: 'Stalls when it cannot reach Azure to delete the VM, and looks again',
    given: (w) => {
      deleting(w);
      w.connector.connect = async () => Promise.reject(new StalledError('CredentialsNotFound', 'create the Secret'));
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/CredentialsNotFound',
    then: (w) => expect(JSON.stringify(w.template?.status)).to.contain('cannot delete the template VM'),
  },
  { it: 'lets go once its VM is gone', given: (w) => deleting(w), result: {}, verdict: 'none', mutations: [], then: (w) => expect(w.template?.metadata.finalizers).to.deep.equal([]) },
  {
    it: 'never deletes a VM it did not make',
    given: (w) => {
      deleting(w);
      w.gallery.putVm(VM, { tags: {} });
    },
    result: {},
    verdict: 'none',
    mutations: [],
  },
  {
    it: 'deletes its VM, and looks again when ARM says',
    given: (w) => {
      deleting(w, { phase: 'Ready' });
      w.gallery.putVm(VM, ourVm);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    phase: 'Ready',
    mutations: [`deleteVirtualMachine ${VM.name}`],
  },
  {
    it: 'deletes its VM through its account deleted just before it (a prune)',
    given: (w) => {
      deleting(w, { phase: 'Ready' });
      w.gallery.putVm(VM, ourVm);
      w.cluster.departedAccounts.set(`${NS}/cs`, account());
      w.cluster.accounts.remove(account());
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: [`deleteVirtualMachine ${VM.name}`],
    then: (w) => expect(w.cluster.events).to.deep.equal([]),
  },
  {
    it: 'follows the deletion ARM is making',
    given: (w) => {
      deleting(w);
      w.gallery.putVm(VM, { ...ourVm, provisioningState: 'Deleting' });
    },
    result: { requeueAfter: 5000 },
    verdict: 'Reconciling/Deleting',
    mutations: [],
  },
];

describe('LabTemplate reconciler (fake gallery)', function () {
  table('placement and account', placement, () => new World());
  table('a marketplace image', marketplace, () => new World());
  table('its VM', vm, () => new World());
  table('an image from an export', fromAnExport, () => new World());
  table('an image of the gallery', fromTheGallery, () => new World());
  table('deletion', deletion, () => new World());

  it('shows the exports made from it as they progress, without reading its VM again until the sync period', async function () {
    const w = new World();
    w.withVm('Succeeded', { ...ourVm, powerState: 'running' });
    await w.reconcile();
    const reads = w.gallery.calls.length;
    w.cluster.put(exportOf({ phase: 'Replicating', progress: 57 }, { source: { labTemplateRef: { name: 't1' } } }, { name: 'cs101-v2' }));
    const result = await w.reconcile();
    expect(w.gallery.calls.length, 'ARM requests').to.equal(reads);
    expect(result.requeueAfter).to.be.within(SYNC_PERIOD_MS - 1000, SYNC_PERIOD_MS);
    expect(w.object?.status).to.deep.include({ phase: 'Ready', exporting: 'cs101-v2 57%', exports: [{ name: 'cs101-v2', phase: 'Replicating', progress: 57 }] });
  });
});
