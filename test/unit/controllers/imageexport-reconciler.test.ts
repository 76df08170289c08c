import { expect } from 'chai';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { RECONCILE_REQUESTED_AT } from '../../../src/api/annotations.ts';
import { ARM_BUDGET_EXHAUSTED, ArmError, CREATED_BY_TAG, MIN_REQUEUE_MS, virtualMachineId } from '../../../src/azure/index.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';
import type { HoldBack } from '../../../src/controllers/common/object-writer.ts';
import { IMAGE_EXPORT_FINALIZER, ImageExportReconciler } from '../../../src/controllers/imageexport/reconciler.ts';
import { defaultPriceTable } from '../../../src/pricing/price-table.ts';
import type { Result } from '../../../src/runtime/index.ts';
import { FakeCluster, connectorTo } from '../fakes/cluster.ts';
import { FakeGallery, SUBSCRIPTION } from '../fakes/gallery.ts';
import { NS, RECHECK_MS, SYNC_PERIOD_MS, atTime, readyCondition, stalledMessage, table, verdict, type ReconcilerCase } from './reconcilers.ts';

type Case = ReconcilerCase<World>;

const IMAGE = { resourceGroup: 'rg', gallery: 'g', image: 'img' };
const SOURCE = { resourceGroup: 'rg', name: 'src' };
const SOURCE_ID = virtualMachineId(SUBSCRIPTION, SOURCE);
const OTHER_SUBSCRIPTION = '00000000-0000-0000-0000-000000000002';
const version = (v: string) => ({ ...IMAGE, version: v });
const arm = (code: string, statusCode: number, retryable: boolean, retryAfterMs?: number) =>
  new ArmError({ code, message: `${code} from the test`, statusCode, retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

function account(status: Partial<NonNullable<LabAccount['status']>> = {}): LabAccount {
  return {
    apiVersion: API_VERSION,
    kind: 'LabAccount',
    metadata: { name: 'cs', namespace: NS },
    spec: { location: 'eastus' },
    status: { geography: 'United States', regions: ['eastus', 'westus'], gallery: { attachment: 'shared' }, conditions: readyCondition(), ...status },
  };
}

function attachment(status: NonNullable<GalleryAttachment['status']> = { galleryId: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g', conditions: readyCondition() }): GalleryAttachment {
  return { apiVersion: API_VERSION, kind: 'GalleryAttachment', metadata: { name: 'shared', namespace: NS }, spec: { labAccountRef: { name: 'cs' }, gallery: { name: 'g', resourceGroup: 'rg' } }, status };
}

function exportOf(spec: Partial<ImageExport['spec']> = {}, status?: ImageExport['status'], metadata: Partial<ImageExport['metadata']> = {}): ImageExport {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name: 'e1', namespace: NS, finalizers: [IMAGE_EXPORT_FINALIZER], ...metadata },
    spec: { labAccountRef: { name: 'cs' }, source: { virtualMachineId: SOURCE_ID }, image: { name: 'img', osType: 'Linux' }, replication: { regions: ['eastus', 'westus'] }, ...spec },
    ...(status ? { status } : {}),
  };
}

/** A Ready account and attachment, the image definition, the source VM, and export e1 (without status) in the cache. */
class World {
  readonly cluster = new FakeCluster();
  readonly gallery = new FakeGallery();
  readonly connector = connectorTo(this.gallery);
  readonly reconciler: ImageExportReconciler;

  constructor(statusHoldBack?: HoldBack) {
    this.cluster.put(account());
    this.cluster.put(attachment());
    this.cluster.put(exportOf());
    this.gallery.putImage(IMAGE);
    this.gallery.putVm(SOURCE, { osDiskSizeGiB: 30 });
    this.reconciler = new ImageExportReconciler({
      exports: this.cluster.exports,
      accounts: this.cluster.accounts,
      accountsForDeletion: this.cluster.accountsForDeletion,
      attachments: this.cluster.attachments,
      templates: this.cluster.templates,
      client: this.cluster.client,
      events: this.cluster.recorder,
      connector: this.connector,
      settings: { prices: defaultPriceTable, regionRetries: 3, stalledRecheckMs: RECHECK_MS, syncPeriodMs: SYNC_PERIOD_MS, ...(statusHoldBack ? { statusHoldBack } : {}) },
    });
  }

  reconcile(): Promise<Result> {
    return this.reconciler.reconcile({ namespace: NS, name: 'e1' }, this.cluster.context());
  }

  get object() {
    return this.export;
  }

  get export(): ImageExport | undefined {
    return this.cluster.exports.get('e1', NS);
  }
}

const tagged = { exportUid: 'uid-e1' };
const replicating = (westus: number) => ({ aggregatedState: 'InProgress', regions: [{ region: 'eastus', state: 'Completed', progress: 100, details: '' }, { region: 'westus', state: 'Replicating', progress: westus, details: '' }] });

const sync: Case[] = [
  { it: 'waits for an account that does not exist', given: (w) => w.cluster.accounts.remove(account()), result: {}, verdict: 'Reconciling/AccountNotReady', mutations: [] },
  { it: 'waits for an account that is not Ready', given: (w) => void w.cluster.put(account({ conditions: readyCondition('False') })), result: {}, verdict: 'Reconciling/AccountNotReady' },
  { it: 'waits for the account to be attached', given: (w) => void w.cluster.put(account({ gallery: undefined })), result: {}, verdict: 'Reconciling/NoGalleryAttached' },
  { it: 'waits for the attachment to be Ready', given: (w) => void w.cluster.put(attachment({ conditions: readyCondition() })), result: {}, verdict: 'Reconciling/NoGalleryAttached' },
  {
    it: 'Stalls a region outside the geography, for a spec change to fix',
    given: (w) => void w.cluster.put(exportOf({ replication: { regions: ['eastus', 'westeurope'] } })),
    result: {},
    verdict: 'Stalled/RegionOutsideGeography',
    mutations: [],
  },
  {
    it: 'creates a missing image definition, tagged as the operator\'s',
    given: (w) => w.gallery.images.clear(),
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/CreatingImageDefinition',
    mutations: ['createImage img'],
    then: (w) => expect(w.gallery.calls.find((c) => c.method === 'createImage')?.spec).to.deep.include({ tags: { [CREATED_BY_TAG]: 'uid-e1' } }),
  },
  { it: 'waits for a definition ARM is making', given: (w) => void w.gallery.putImage(IMAGE, { provisioningState: 'Creating' }), result: { requeueAfter: 1000 }, verdict: 'Reconciling/CreatingImageDefinition', mutations: [] },
  { it: 'Stalls on a definition of another kind, and looks again', given: (w) => void w.gallery.putImage(IMAGE, { osType: 'Windows' }), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/ImageDefinitionMismatch' },
  { it: 'Stalls when the source VM does not exist, and looks again', given: (w) => w.gallery.vms.clear(), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/SourceMissing', mutations: [] },
  { it: 'waits for a source VM ARM is making', given: (w) => void w.gallery.putVm(SOURCE, { provisioningState: 'Creating' }), result: { requeueAfter: 2000 }, verdict: 'Reconciling/SourceNotReady' },
  {
    it: 'Stalls a source VM in another subscription OutOfScope, before any ARM call',
    given: (w) => void w.cluster.put(exportOf({ source: { virtualMachineId: virtualMachineId(OTHER_SUBSCRIPTION, SOURCE) } })),
    result: {},
    verdict: 'Stalled/OutOfScope',
    then: (w) => {
      expect(w.gallery.calls).to.deep.equal([]);
      expect(w.connector.connected).to.equal(0);
      expect(stalledMessage(w.export)).to.match(/^spec\.source\.virtualMachineId \/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{11}2\/.* lies outside LabAccount cs's scope/);
    },
  },
  {
    it: 'Stalls a source VM outside the account\'s allowed resource groups OutOfScope, before any ARM call',
    given: (w) => {
      w.cluster.put({ ...account(), spec: { location: 'eastus', azure: { subscriptionId: SUBSCRIPTION, resourceGroup: 'labs', allowedScopes: [`/subscriptions/${SUBSCRIPTION}/resourceGroups/images`] } } });
    },
    result: {},
    verdict: 'Stalled/OutOfScope',
    then: (w) => {
      expect(w.gallery.calls).to.deep.equal([]);
      expect(stalledMessage(w.export)).to.contain('spec.azure.allowedScopes');
    },
  },
  {
    it: 'reads a source VM in a subscription the account allows where its id says, never in the account\'s',
    given: (w) => {
      w.cluster.put({ ...account(), spec: { location: 'eastus', azure: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', allowedScopes: [`/subscriptions/${OTHER_SUBSCRIPTION}`] } } });
      w.cluster.put(exportOf({ source: { virtualMachineId: virtualMachineId(OTHER_SUBSCRIPTION, SOURCE) } }));
      w.gallery.vms.clear();
      w.gallery.putVm({ ...SOURCE, subscriptionId: OTHER_SUBSCRIPTION }, { osDiskSizeGiB: 30 });
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Exporting',
    mutations: ['createImageVersion 1.0.0'],
    then: (w) => expect(w.gallery.calls.find((c) => c.method === 'createImageVersion')?.spec).to.deep.include({ source: { virtualMachineId: virtualMachineId(OTHER_SUBSCRIPTION, SOURCE) } }),
  },
  {
    it: 'waits for a LabTemplate to have its VM',
    given: (w) => {
      w.cluster.put(exportOf({ source: { labTemplateRef: { name: 't' } } }));
      w.cluster.put({ apiVersion: API_VERSION, kind: 'LabTemplate', metadata: { name: 't', namespace: NS }, spec: { labAccountRef: { name: 'cs' }, image: { marketplace: { publisher: 'p', offer: 'o', sku: 's' } } } } as LabTemplate);
    },
    result: {},
    verdict: 'Reconciling/SourceNotReady',
  },
  {
    it: 'Stalls when a vanished version has no template VM to be made again from',
    given: (w) => void w.cluster.put(exportOf({ source: { labTemplateRef: { name: 'gone' } } }, { version: '1.0.0', imageVersionId: '/gone' })),
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/SourceMissing',
  },
  {
    it: 'creates version 1.0.0 of a new image, tagged with the export, in every target region',
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Exporting',
    phase: 'Exporting',
    mutations: ['createImageVersion 1.0.0'],
    then: (w) => {
      expect(w.gallery.calls.find((c) => c.method === 'createImageVersion')?.spec).to.deep.include({ exportUid: 'uid-e1', targetRegions: [
        { name: 'eastus', replicaCount: 1, storageAccountType: 'Standard_LRS' },
        { name: 'westus', replicaCount: 1, storageAccountType: 'Standard_LRS' },
      ] });
      expect(w.export?.status).to.deep.include({ version: '1.0.0', sizeGiB: 30 });
    },
  },
  { it: 'numbers past the versions in the gallery', given: (w) => void w.gallery.putVersion(version('1.0.4'), ['eastus'], { exportUid: 'other' }), result: { requeueAfter: 1000 }, verdict: 'Reconciling/Exporting', mutations: ['createImageVersion 1.0.5'] },
  {
    it: 'numbers past the versions other exports of the image hold',
    given: (w) => void w.cluster.put({ ...exportOf({}, { version: '1.0.7' }), metadata: { name: 'e0', namespace: NS } }),
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Exporting',
    mutations: ['createImageVersion 1.0.8'],
  },
  {
    it: 'Stalls a spec.version an upload holds, for a spec change to fix',
    given: (w) => {
      w.cluster.put(exportOf({ version: '2.0.0' }));
      w.gallery.putVersion(version('2.0.0'), ['eastus']);
    },
    result: {},
    verdict: 'Stalled/VersionInUse',
    mutations: [],
  },
  {
    it: 'Stalls when the version status records turns out to be another export\'s',
    given: (w) => {
      w.cluster.put(exportOf({ version: '2.0.0' }, { version: '2.0.0' }));
      w.gallery.putVersion(version('2.0.0'), ['eastus'], { exportUid: 'other' });
    },
    result: {},
    verdict: 'Stalled/VersionInUse',
  },
  { it: 'adopts the version a crashed process made for it, found by its tag', given: (w) => void w.gallery.putVersion(version('1.0.3'), ['eastus', 'westus'], tagged), result: {}, verdict: 'Ready/Succeeded', mutations: [], phase: 'Succeeded' },
  {
    it: 'waits for a version ARM is making when no operation of this process says when',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0' }));
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], { ...tagged, provisioningState: 'Creating', replication: replicating(0) });
    },
    result: { requeueAfter: 2000 },
    verdict: 'Reconciling/Exporting',
    mutations: [],
  },
  {
    it: 'follows the operation it started: as long as ARM says',
    given: async (w) => {
      await w.reconcile();
      w.gallery.pollAnswer = { state: 'InProgress', handle: { operation: 'op', resourceId: 'r', startedAt: '', notBefore: '' }, retryAfterMs: 3000 };
    },
    result: { requeueAfter: 3000 },
    verdict: 'Reconciling/Exporting',
    mutations: ['createImageVersion 1.0.0', 'poll createImageVersion'],
  },
  {
    it: 'looks again soon after its operation failed, then Stalls with ARM\'s error',
    given: async (w) => {
      await w.reconcile();
      w.gallery.pollAnswer = { state: 'Failed', error: arm('OperationFailed', 500, false) };
      expect(await w.reconcile()).to.deep.equal({ requeueAfter: 500 });
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], { ...tagged, provisioningState: 'Failed', replication: replicating(0) });
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/ExportFailed',
    then: (w) => expect(verdict(w.export)).to.equal('Stalled/ExportFailed') && expect(JSON.stringify(w.export?.status)).to.contain('OperationFailed from the test'),
  },
  {
    it: 'follows replication every 2 s at first',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0' }));
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], { ...tagged, replication: replicating(40) });
    },
    result: { requeueAfter: 2000 },
    verdict: 'Reconciling/Replicating',
    phase: 'Replicating',
    mutations: [],
  },
  {
    it: 'narrows the regions of the existing version',
    given: (w) => {
      w.cluster.put(exportOf({ replication: { regions: ['eastus'] } }, { version: '1.0.0' }));
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], tagged);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Ready/Succeeded',
    mutations: ['updateImageVersion 1.0.0'],
  },
  {
    it: 'applies a changed excludeFromLatest to the existing version',
    given: (w) => {
      w.cluster.put(exportOf({ excludeFromLatest: true }, { version: '1.0.0' }));
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], tagged);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Ready/Succeeded',
    mutations: ['updateImageVersion 1.0.0'],
  },
  {
    it: 'takes a failed region out, to be added back after its backoff',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0' }));
      const failed = { aggregatedState: 'Failed', regions: [{ region: 'eastus', state: 'Completed', progress: 100, details: '' }, { region: 'westus', state: 'Failed', progress: 40, details: 'remove it, then add it back' }] };
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], { ...tagged, replication: failed });
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Replicating',
    mutations: ['updateImageVersion 1.0.0'],
    then: (w) => expect(w.export?.status?.regions?.find((r) => r.name === 'westus')).to.include({ state: 'Queued', attempts: 1 }),
  },
  {
    it: 'wakes when a waiting region is due, sooner than the replication poll',
    given: (w) => {
      const nextAttemptTime = new Date(Date.now() + 1500).toISOString();
      w.cluster.put(exportOf({}, { version: '1.0.0', regions: [{ name: 'eastus', state: 'Completed' }, { name: 'westus', state: 'Queued', attempts: 1, nextAttemptTime }] }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
    },
    result: { requeueAfter: 1500 },
    verdict: 'Reconciling/Replicating',
    mutations: [],
  },
  {
    it: 'is Ready once every region is Completed, and looks no more',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0' }));
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], tagged);
    },
    result: {},
    verdict: 'Ready/Succeeded',
    phase: 'Succeeded',
    mutations: [],
  },
  {
    it: 'settles PartiallySucceeded once a region\'s retries are spent',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0', regions: [{ name: 'eastus', state: 'Completed' }, { name: 'westus', state: 'Replicating', attempts: 3 }] }));
      const failed = { aggregatedState: 'Failed', regions: [{ region: 'eastus', state: 'Completed', progress: 100, details: '' }, { region: 'westus', state: 'Failed', progress: 40, details: 'no luck' }] };
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], { ...tagged, replication: failed });
    },
    result: {},
    verdict: 'Stalled/PartiallySucceeded',
    phase: 'PartiallySucceeded',
    mutations: [],
  },
];

const failures: Case[] = [
  {
    it: 'Stalls when the account\'s Secret is missing, and looks again',
    given: (w) => void (w.connector.connect = async () => Promise.reject(new StalledError('CredentialsNotFound', 'create the Secret'))),
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/CredentialsNotFound',
  },
  {
    it: 'Stalls when the operator runs without an emulator, until it is restarted',
    given: (w) => void (w.connector.connect = async () => Promise.reject(new StalledError('EmulatorDisabled', 'run with an emulator'))),
    result: {},
    verdict: 'Stalled/EmulatorDisabled',
  },
  { it: 'Stalls CredentialsRejected on a 403, and looks again', given: (w) => void w.gallery.failNext('listImageVersions', arm('AuthorizationFailed', 403, false)), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/CredentialsRejected' },
  { it: 'Stalls on ARM\'s refusal with its code, and looks again', given: (w) => void w.gallery.failNext('createImageVersion', arm('InvalidParameter', 400, false)), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/InvalidParameter' },
  { it: 'writes nothing when ARM throttles, and comes back after Retry-After', given: (w) => void w.gallery.failNext('listImageVersions', arm('TooManyRequests', 429, true, 7000)), result: { requeueAfter: 7000 }, verdict: 'none' },
  { it: 'writes nothing when ARM fails transiently without Retry-After, and backs off', given: (w) => void w.gallery.failNext('listImageVersions', arm('Http503', 503, true)), result: { requeue: true }, verdict: 'none' },
];

/** Deleting an export deletes its version only when asked to. */
const DELETE = { deletionPolicy: 'Delete' } as const;
const GALLERY_ID = '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g';
const VERSION_ID = `${GALLERY_ID}/images/img/versions/1.0.0`;

/** A template in `namespace` whose VM was made from VERSION_ID. */
function templateUsing(namespace: string): LabTemplate {
  return {
    apiVersion: API_VERSION,
    kind: 'LabTemplate',
    metadata: { name: 't2', namespace },
    spec: { labAccountRef: { name: 'theirs' }, image: { galleryImage: { name: 'img', version: 'latest' } } },
    status: { image: { versionId: VERSION_ID.toUpperCase(), version: '1.0.0' } },
  } as LabTemplate;
}

const deletion: Case[] = [
  {
    it: 'waits for the templates that use it',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.cluster.put({ apiVersion: API_VERSION, kind: 'LabTemplate', metadata: { name: 't1', namespace: NS }, spec: { labAccountRef: { name: 'cs' }, image: { imageExportRef: { name: 'e1' } } } } as LabTemplate);
    },
    result: {},
    verdict: 'Reconciling/InUse',
    phase: 'Deleting',
    mutations: [],
    then: (w) => expect(w.export?.status?.conditions?.find((c) => c.type === 'DeletionBlocked')).to.include({ status: 'True', reason: 'InUse' }),
  },
  {
    it: 'keeps its version by default (deletionPolicy Retain)',
    given: (w) => {
      w.cluster.put(exportOf({}, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => expect(w.export?.metadata.finalizers).to.deep.equal([]),
  },
  {
    it: 'waits for a template in another namespace that uses its version',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0', imageVersionId: VERSION_ID }, { deletionTimestamp: new Date() }));
      w.cluster.put(templateUsing('other-ns'));
    },
    result: {},
    verdict: 'Reconciling/InUse',
    mutations: [],
    then: (w) => expect(w.export?.status?.conditions?.find((c) => c.type === 'DeletionBlocked')?.message).to.contain('LabTemplate other-ns/t2'),
  },
  {
    it: 'waits for a template pinned to its version on an account of the same gallery in another namespace, before it resolved',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0', imageVersionId: VERSION_ID }, { deletionTimestamp: new Date() }));
      w.cluster.put({ ...account({ gallery: { attachment: 'theirs', id: GALLERY_ID.toUpperCase() } }), metadata: { name: 'theirs', namespace: 'other-ns' } });
      w.cluster.put({ apiVersion: API_VERSION, kind: 'LabTemplate', metadata: { name: 'pinned', namespace: 'other-ns' }, spec: { labAccountRef: { name: 'theirs' }, image: { galleryImage: { name: 'img', version: '1.0.0' } } } } as LabTemplate);
    },
    result: {},
    verdict: 'Reconciling/InUse',
    then: (w) => expect(w.export?.status?.conditions?.find((c) => c.type === 'DeletionBlocked')?.message).to.contain('LabTemplate other-ns/pinned'),
  },
  {
    it: 'goes when its account goes too, keeping the version another namespace uses, with a Warning Event',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0', imageVersionId: VERSION_ID }, { deletionTimestamp: new Date() }));
      w.cluster.put({ ...account(), metadata: { name: 'cs', namespace: NS, deletionTimestamp: new Date() } });
      w.cluster.put(templateUsing('other-ns'));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => {
      expect(w.cluster.events.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Warning/ImageVersionKept']);
      expect(w.cluster.events[0]?.note).to.contain('other-ns/t2');
      expect(w.export?.metadata.finalizers).to.deep.equal([]);
    },
  },
  {
    it: 'waits, looking again on a timer, for a VM that ARM reports made from its version',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      const made = w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
      w.gallery.putVm({ resourceGroup: 'elsewhere-rg', name: 'student-vm' }, { image: { id: made.id.toUpperCase() } });
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Reconciling/InUse',
    mutations: [],
    then: (w) => expect(w.export?.status?.conditions?.find((c) => c.type === 'DeletionBlocked')?.message).to.contain('VM student-vm'),
  },
  {
    it: 'looks only in its account\'s resource group for such VMs when the subscription\'s list is refused',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      const made = w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
      w.gallery.putVm({ resourceGroup: 'elsewhere-rg', name: 'unseen-vm' }, { image: { id: made.id } });
      w.gallery.failNext('listVirtualMachines', new ArmError({ code: 'AuthorizationFailed', message: 'no', statusCode: 403, retryable: false }));
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: ['deleteImageVersion 1.0.0'],
    then: (w) => expect(w.gallery.calls.filter((c) => c.method === 'listVirtualMachines').map((c) => c.name)).to.deep.equal(['', 'rg']),
  },
  {
    it: 'finds its version from the id status recorded, even when no attachment is left',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0', imageVersionId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg2/providers/Microsoft.Compute/galleries/g2/images/img/versions/1.0.0` }, { deletionTimestamp: new Date() }));
      w.cluster.attachments.remove(attachment());
      w.gallery.putVersion({ resourceGroup: 'rg2', gallery: 'g2', image: 'img', version: '1.0.0' }, ['eastus'], tagged);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: ['deleteImageVersion 1.0.0'],
  },
  {
    it: 'keeps its version with deletionPolicy Retain',
    given: (w) => {
      w.cluster.put(exportOf({ deletionPolicy: 'Retain' }, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => expect(w.export?.metadata.finalizers).to.deep.equal([]),
  },
  {
    it: 'lets go with a Warning Event when the account is gone',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.cluster.accounts.remove(account());
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => {
      expect(w.cluster.events.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Warning/ImageVersionLeft']);
      expect(w.export?.metadata.finalizers).to.deep.equal([]);
    },
  },
  {
    it: 'deletes the version status names through its account deleted just before it (a prune), whatever its attachment says',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0', imageVersionId: w.gallery.imageVersionId(version('1.0.0')) }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
      w.cluster.departedAccounts.set(`${NS}/cs`, account());
      w.cluster.accounts.remove(account());
      w.cluster.attachments.remove(attachment());
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: ['deleteImageVersion 1.0.0'],
  },
  {
    it: 'deletes the version it made, and looks again when ARM says',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: ['deleteImageVersion 1.0.0'],
  },
  {
    it: 'finds its version by tag when status lost it',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, undefined, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.2'), ['eastus'], tagged);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: ['deleteImageVersion 1.0.2'],
  },
  {
    it: 'never deletes another export\'s version, and lets go',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], { exportUid: 'other' });
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => expect(w.export?.metadata.finalizers).to.deep.equal([]),
  },
  {
    it: 'waits while ARM deletes it',
    given: (w) => {
      w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], { ...tagged, provisioningState: 'Deleting' });
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/Deleting',
    mutations: [],
  },
  {
    it: 'leaves alone an export being deleted that does not carry its finalizer',
    given: (w) => void w.cluster.put(exportOf(DELETE, { version: '1.0.0' }, { deletionTimestamp: new Date(), finalizers: ['someone.else/keep'] })),
    result: {},
    verdict: 'none',
    then: (w) => expect(w.gallery.calls).to.deep.equal([]),
  },
];

describe('ImageExport reconciler (fake gallery)', function () {
  table('a live export', sync, () => new World());
  table('failures', failures, () => new World());
  table('deletion', deletion, () => new World());

  it('chooses again when ARM refuses the number: a version made from another source since its list', async function () {
    const w = new World();
    const listed = w.gallery.listImageVersions;
    // The list the choice is made from misses an upload made just after it.
    w.gallery.listImageVersions = async (ref) => {
      const versions = await listed(ref);
      w.gallery.putVersion(version('1.0.0'), ['eastus'], { source: { virtualMachineId: '/elsewhere' } });
      return versions;
    };
    expect(await w.reconcile()).to.deep.equal({ requeueAfter: MIN_REQUEUE_MS });
    expect(verdict(w.export)).to.equal('Reconciling/VersionTaken');
    expect(w.gallery.mutations()).to.deep.equal(['createImageVersion 1.0.0']);
    await w.reconcile();
    expect(w.gallery.mutations()).to.deep.equal(['createImageVersion 1.0.0', 'createImageVersion 1.0.1']);
    expect(w.export?.status?.version).to.equal('1.0.1');
  });

  it('does not ask ARM for a version whose PUT the pacing handed back: it never left the process', async function () {
    const w = new World();
    w.gallery.failNext('createImageVersion', new ArmError({ code: ARM_BUDGET_EXHAUSTED, message: 'spent', retryable: true, retryAfterMs: 3000 }));
    expect(await w.reconcile()).to.deep.equal({ requeueAfter: 3000 });
    expect(verdict(w.export), 'nothing written').to.equal('none');
    await w.reconcile();
    expect(w.gallery.calls.filter((c) => c.method === 'observeImageVersion'), 'no GET of 1.0.0').to.deep.equal([]);
    expect(w.gallery.mutations(), 'handed back, then sent').to.deep.equal(['createImageVersion 1.0.0', 'createImageVersion 1.0.0']);
    // Sent, it is looked for from then on.
    await w.reconcile();
    expect(w.gallery.calls.filter((c) => c.method === 'observeImageVersion')).to.have.length(1);
  });

  it('makes a new number from one list for a burst of exports, with no GET of each number', async function () {
    const w = new World();
    for (const name of ['e2', 'e3']) w.cluster.put({ ...exportOf(), metadata: { name, namespace: NS, uid: `uid-${name}`, finalizers: [IMAGE_EXPORT_FINALIZER] } });
    await Promise.all(['e1', 'e2', 'e3'].map((name) => w.reconciler.reconcile({ namespace: NS, name }, w.cluster.context())));
    expect(w.gallery.mutations().toSorted()).to.deep.equal(['createImageVersion 1.0.0', 'createImageVersion 1.0.1', 'createImageVersion 1.0.2']);
    expect(w.gallery.calls.filter((c) => c.method === 'listImageVersions')).to.have.length(1);
    expect(w.gallery.calls.filter((c) => c.method === 'observeImageVersion')).to.deep.equal([]);
  });

  describe('holding back the status of a pass whose next look is a moment away', function () {
    it('writes nothing while ARM makes the version within the hold-back, then what the next pass finds, with its Event', async function () {
      const w = new World({ withinMs: 1000, atMostMs: 5000 });
      expect(await w.reconcile()).to.deep.equal({ requeueAfter: 1000 });
      expect(w.gallery.mutations()).to.deep.equal(['createImageVersion 1.0.0']);
      expect(w.cluster.statusPatches, 'Exporting held back').to.deep.equal([]);
      w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], tagged);
      await w.reconcile();
      expect(w.cluster.statusPatches).to.have.length(1);
      expect(w.export?.status).to.deep.include({ phase: 'Succeeded', version: '1.0.0' });
      expect(w.cluster.events.map((e) => e.reason)).to.deep.equal(['Succeeded']);
    });

    it('holds a change back no longer than atMostMs: a phase that outlasts it is shown', async function () {
      const w = new World({ withinMs: 5000, atMostMs: 10_000 });
      await w.reconcile();
      await w.reconcile();
      expect(w.cluster.statusPatches, 'held back twice').to.deep.equal([]);
      expect(await atTime(Date.now() + 10_000, () => w.reconcile())).to.deep.include({ requeueAfter: 2000 });
      expect(w.cluster.statusPatches, 'shown 10 s after it was first held back').to.have.length(1);
      expect(w.export?.status?.phase).to.equal('Exporting');
    });

    it('writes at once when the next look is further away than the hold-back', async function () {
      const w = new World({ withinMs: 500, atMostMs: 5000 });
      expect(await w.reconcile()).to.deep.equal({ requeueAfter: 1000 });
      expect(w.export?.status?.phase).to.equal('Exporting');
    });

    it('writes at once what leaves Ready, and what is Stalled', async function () {
      const w = new World({ withinMs: 60_000, atMostMs: 60_000 });
      w.cluster.put(exportOf({ replication: { regions: ['eastus', 'westus'] } }, { version: '1.0.0', conditions: readyCondition() }));
      w.gallery.putVersion(version('1.0.0'), ['eastus'], tagged);
      await w.reconcile();
      expect(verdict(w.export)).to.equal('Reconciling/Replicating');
      w.cluster.put(exportOf({ replication: { regions: ['eastus', 'westeurope'] } }));
      await w.reconcile();
      expect(verdict(w.export)).to.equal('Stalled/RegionOutsideGeography');
    });
  });

  it('puts its finalizer on before anything is made in Azure', async function () {
    const w = new World();
    w.cluster.put(exportOf({}, undefined, { finalizers: [] }));
    await w.reconcile();
    expect(w.export?.metadata.finalizers).to.deep.equal([IMAGE_EXPORT_FINALIZER]);
    expect(w.gallery.mutations()).to.deep.equal(['createImageVersion 1.0.0']);
  });

  it('shares a recent read of the source VM between exports of one account only: another reads with its own credential', async function () {
    const w = new World();
    const vmReads = () => w.gallery.calls.filter((c) => c.method === 'observeVirtualMachine').length;
    w.cluster.put({ ...account(), metadata: { name: 'cs', namespace: NS, uid: 'uid-cs' } });
    w.cluster.put({ ...account(), metadata: { name: 'other', namespace: NS, uid: 'uid-other' } });
    w.cluster.put(exportOf({}, undefined, { name: 'e2', uid: 'uid-e2' }));
    w.cluster.put(exportOf({ labAccountRef: { name: 'other' } }, undefined, { name: 'e3', uid: 'uid-e3' }));
    await w.reconcile();
    await w.reconciler.reconcile({ namespace: NS, name: 'e2' }, w.cluster.context());
    expect(vmReads(), 'the same account: one read').to.equal(1);
    await w.reconciler.reconcile({ namespace: NS, name: 'e3' }, w.cluster.context());
    expect(vmReads(), 'another account: its own read').to.equal(2);
  });

  it('reads a Succeeded export in ARM once per sync period: a resync reads nothing until then, unless its account changes or a reconcile is asked for', async function () {
    const w = new World();
    w.cluster.put(exportOf({}, undefined, { generation: 1 }));
    w.gallery.putVersion(version('1.0.3'), ['eastus', 'westus'], tagged);
    await w.reconcile();
    expect(w.export?.status?.phase).to.equal('Succeeded');
    const reads = w.gallery.calls.length;
    const resync = await w.reconcile();
    expect(resync.requeueAfter).to.be.within(SYNC_PERIOD_MS - 1000, SYNC_PERIOD_MS);
    expect(w.gallery.calls.length, 'a resync within the period').to.equal(reads);
    w.cluster.put({ ...account(), metadata: { ...account().metadata, generation: 2 } });
    await w.reconcile();
    expect(w.gallery.calls.length, 'its account changed').to.be.greaterThan(reads);
    const afterAccount = w.gallery.calls.length;
    await w.reconcile();
    expect(w.gallery.calls.length).to.equal(afterAccount);
    const exp = w.export as ImageExport;
    w.cluster.put({ ...exp, metadata: { ...exp.metadata, annotations: { [RECONCILE_REQUESTED_AT]: 'now' } } });
    await w.reconcile();
    expect(w.gallery.calls.length, 'a reconcile asked for').to.be.greaterThan(afterAccount);
  });

  it('writes nothing when a pass finds what status already says', async function () {
    const w = new World();
    w.cluster.put(exportOf({}, { version: '1.0.0' }));
    w.gallery.putVersion(version('1.0.0'), ['eastus', 'westus'], tagged);
    await w.reconcile();
    const writes = w.cluster.statusPatches.length;
    await w.reconcile();
    expect(w.cluster.statusPatches.length).to.equal(writes);
  });
});
