import { expect } from 'chai';
import { RECONCILE_REQUESTED_AT } from '../../../src/api/annotations.ts';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount } from '../../../src/api/index.ts';
import { ArmError, CREATED_BY_TAG } from '../../../src/azure/index.ts';
import { GALLERY_ATTACHMENT_FINALIZER, GalleryAttachmentReconciler } from '../../../src/controllers/galleryattachment/reconciler.ts';
import type { Result } from '../../../src/runtime/index.ts';
import { FakeCluster, connectorTo } from '../fakes/cluster.ts';
import { FakeGallery, SUBSCRIPTION } from '../fakes/gallery.ts';
import { NS, RECHECK_MS, SYNC_PERIOD_MS, atTime, readyCondition, stalledMessage, table, type ReconcilerCase } from './reconcilers.ts';

type Case = ReconcilerCase<World>;

const GALLERY = { resourceGroup: 'rg', gallery: 'g' };

function account(conditions = readyCondition()): LabAccount {
  return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs', namespace: NS }, spec: { location: 'eastus' }, status: { observedGeneration: 1, conditions } };
}

function attachment(spec: Partial<GalleryAttachment['spec']> = {}, metadata: Partial<GalleryAttachment['metadata']> = {}): GalleryAttachment {
  return {
    apiVersion: API_VERSION,
    kind: 'GalleryAttachment',
    metadata: { name: 'shared', namespace: NS, finalizers: [GALLERY_ATTACHMENT_FINALIZER], creationTimestamp: '2026-01-01T00:00:05Z' as unknown as Date, ...metadata },
    spec: { labAccountRef: { name: 'cs' }, gallery: { name: 'g' }, ...spec },
  };
}

function exportOf(name: string, metadata: Partial<ImageExport['metadata']> = {}): ImageExport {
  return { apiVersion: API_VERSION, kind: 'ImageExport', metadata: { name, namespace: NS, ...metadata }, spec: { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 't' } }, image: { name: 'made', osType: 'Linux' } } };
}

class World {
  readonly cluster = new FakeCluster();
  readonly gallery = new FakeGallery();
  readonly reconciler = new GalleryAttachmentReconciler({
    attachments: this.cluster.attachments,
    accounts: this.cluster.accounts,
    accountsForDeletion: this.cluster.accountsForDeletion,
    exports: this.cluster.exports,
    client: this.cluster.client,
    events: this.cluster.recorder,
    connector: connectorTo(this.gallery),
    settings: { syncPeriodMs: SYNC_PERIOD_MS, stalledRecheckMs: RECHECK_MS },
  });

  constructor() {
    this.cluster.put(account());
    this.cluster.put(attachment());
  }

  reconcile(): Promise<Result> {
    return this.reconciler.reconcile({ namespace: NS, name: 'shared' }, this.cluster.context());
  }

  get object() {
    return this.attachment;
  }

  get attachment(): GalleryAttachment | undefined {
    return this.cluster.attachments.get('shared', NS);
  }
}

const ours = { tags: { [CREATED_BY_TAG]: 'uid-shared' } };
const cases: Case[] = [
  {
    it: 'Stalls when an older attachment holds the account',
    given: (w) => void w.cluster.put(attachment({}, { name: 'older', creationTimestamp: '2026-01-01T00:00:00Z' as unknown as Date })),
    result: {},
    verdict: 'Stalled/AccountAlreadyAttached',
    then: (w) => expect(w.attachment?.status?.galleryId).to.equal(undefined),
  },
  { it: 'waits for its account to exist', given: (w) => w.cluster.accounts.remove(account()), result: {}, verdict: 'Reconciling/AccountNotFound' },
  {
    it: 'Stalls a gallery resource group outside the account\'s allowed scopes OutOfScope, before any ARM call',
    given: (w) => {
      const scoped = account();
      w.cluster.put({ ...scoped, spec: { ...scoped.spec, azure: { subscriptionId: SUBSCRIPTION, resourceGroup: 'labs', allowedScopes: [`/subscriptions/${SUBSCRIPTION}/resourceGroups/images`] } } });
      w.cluster.put(attachment({ gallery: { name: 'g', resourceGroup: 'elsewhere' } }));
    },
    result: {},
    verdict: 'Stalled/OutOfScope',
    then: (w) => {
      expect(w.gallery.calls).to.deep.equal([]);
      expect(stalledMessage(w.attachment)).to.match(/^spec\.gallery\.resourceGroup \/subscriptions\/[-0-9]+\/resourceGroups\/elsewhere lies outside/);
    },
  },
  { it: 'waits for its account to be Ready', given: (w) => void w.cluster.put(account(readyCondition('False'))), result: {}, verdict: 'Reconciling/AccountNotReady' },
  {
    it: 'Stalls while its account is Stalled',
    given: (w) => void w.cluster.put(account([...readyCondition('False'), { type: 'Stalled', status: 'True', reason: 'UnknownLocation', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }])),
    result: {},
    verdict: 'Stalled/AccountNotReady',
  },
  {
    it: 'creates its gallery, tagged with its uid',
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/CreatingGallery',
    mutations: ['createGallery g'],
    then: (w) => {
      expect(w.gallery.calls.find((c) => c.method === 'createGallery')?.spec).to.deep.include({ tags: { [CREATED_BY_TAG]: 'uid-shared' } });
      expect(w.cluster.events.map((e) => e.reason)).to.deep.equal(['CreatingGallery']);
    },
  },
  { it: 'Stalls on a missing gallery it may not create, and looks again', given: (w) => void w.cluster.put(attachment({ gallery: { name: 'g', create: false } })), result: { requeueAfter: RECHECK_MS }, verdict: 'Stalled/GalleryNotFound', mutations: [] },
  { it: 'waits for a gallery being deleted before making it again', given: (w) => void w.gallery.putGallery(GALLERY, { provisioningState: 'Deleting' }), result: { requeueAfter: 2000 }, verdict: 'Reconciling/GalleryDeleting', mutations: [] },
  {
    it: 'Stalls on a failed gallery, showing it, and looks again',
    given: (w) => void w.gallery.putGallery(GALLERY, { provisioningState: 'Failed' }),
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/GalleryFailed',
    then: (w) => expect(w.attachment?.status?.galleryId).to.equal(w.gallery.galleryId(GALLERY)),
  },
  { it: 'waits for a gallery ARM is making', given: (w) => void w.gallery.putGallery(GALLERY, { provisioningState: 'Creating' }), result: { requeueAfter: 2000 }, verdict: 'Reconciling/GalleryProvisioning' },
  {
    it: 'attaches its gallery with its catalogue, and reads it again each sync period',
    given: (w) => {
      w.gallery.putGallery(GALLERY, ours);
      w.gallery.putImage({ ...GALLERY, image: 'ubuntu' }, { osState: 'Generalized' });
      w.gallery.putVersion({ ...GALLERY, image: 'ubuntu', version: '1.0.0' }, ['eastus']);
    },
    result: { requeueAfter: SYNC_PERIOD_MS },
    verdict: 'Ready/GalleryAttached',
    mutations: [],
    then: (w) => expect(w.attachment?.status?.images?.map((i) => [i.name, i.latestVersion, i.source])).to.deep.equal([['ubuntu', '1.0.0', 'External']]),
  },
  {
    it: 'keeps its catalogue when ARM fails transiently, writing nothing',
    given: (w) => {
      w.cluster.put({ ...attachment(), status: { galleryId: w.gallery.galleryId(GALLERY), images: [{ name: 'kept', enabled: true, regions: [], source: 'External' }], conditions: readyCondition('False') } });
      w.gallery.putGallery(GALLERY, ours);
      w.gallery.failNext('listImages', new ArmError({ code: 'Http503', message: 'down', statusCode: 503, retryable: true }));
    },
    result: { requeue: true },
    verdict: 'NotReady/Test',
    then: (w) => expect(w.attachment?.status?.images?.map((i) => i.name)).to.deep.equal(['kept']),
  },
];

const deletion: Case[] = [
  {
    it: 'detaches, leaving the gallery in Azure',
    given: (w) => {
      w.cluster.put(attachment({}, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY, ours);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => {
      expect(w.cluster.events.map((e) => e.reason)).to.deep.equal(['Detached']);
      expect(w.attachment?.metadata.finalizers).to.deep.equal([]);
    },
  },
  {
    it: 'with deletionPolicy Delete deletes the empty gallery it created, and looks again when ARM says',
    given: (w) => {
      w.cluster.put(attachment({ deletionPolicy: 'Delete' }, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY, ours);
    },
    result: { requeueAfter: 1000 },
    verdict: 'Reconciling/DeletingGallery',
    mutations: ['deleteGallery g'],
  },
  {
    it: 'with deletionPolicy Delete waits for the exports of the account, whose versions its gallery holds',
    given: (w) => {
      w.cluster.put(attachment({ deletionPolicy: 'Delete' }, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY, ours);
      w.cluster.put(exportOf('e1', { deletionTimestamp: new Date() }));
      w.cluster.put(exportOf('e2'));
    },
    result: {},
    verdict: 'Reconciling/WaitingForExports',
    mutations: [],
    then: (w) => expect(w.attachment?.status?.conditions?.find((c) => c.type === 'Reconciling')?.message).to.contain('once ImageExport e1, e2 of LabAccount cs are gone'),
  },
  {
    it: 'with deletionPolicy Delete deletes the empty image definitions exports made first, through its account deleted just before it',
    given: (w) => {
      w.cluster.put(attachment({ deletionPolicy: 'Delete' }, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY, ours);
      w.gallery.putImage({ ...GALLERY, image: 'made' }, { tags: { [CREATED_BY_TAG]: 'uid-e1' } });
      w.cluster.departedAccounts.set(`${NS}/cs`, account());
      w.cluster.accounts.remove(account());
    },
    result: { requeueAfter: 2000 },
    verdict: 'Reconciling/DeletingGallery',
    mutations: ['deleteImage made'],
  },
  {
    it: 'with deletionPolicy Delete keeps a gallery holding an image it did not make, or one with versions, saying why',
    given: (w) => {
      w.cluster.put(attachment({ deletionPolicy: 'Delete' }, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY, ours);
      w.gallery.putImage({ ...GALLERY, image: 'uploaded' });
      w.gallery.putImage({ ...GALLERY, image: 'retained' }, { tags: { [CREATED_BY_TAG]: 'uid-e1' } });
      w.gallery.putVersion({ ...GALLERY, image: 'retained', version: '1.0.0' }, ['eastus']);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => expect(w.cluster.events.find((e) => e.reason === 'GalleryKept')?.note).to.contain('holds 2 image definition(s) (retained, uploaded)'),
  },
  {
    it: 'with deletionPolicy Delete keeps a gallery it adopted, saying why',
    given: (w) => {
      w.cluster.put(attachment({ deletionPolicy: 'Delete' }, { deletionTimestamp: new Date() }));
      w.gallery.putGallery(GALLERY);
    },
    result: {},
    verdict: 'none',
    mutations: [],
    then: (w) => expect(w.cluster.events.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Warning/GalleryKept', 'Normal/Detached']),
  },
];

describe('GalleryAttachment reconciler (fake gallery)', function () {
  table('attaching', cases, () => new World());
  table('deletion', deletion, () => new World());

  it('reads nothing from Azure again right after a read, and comes back once the coalescing window ends', async function () {
    const w = new World();
    w.gallery.putGallery(GALLERY, ours);
    await w.reconcile();
    const reads = w.gallery.calls.length;
    const again = await w.reconcile();
    expect(w.gallery.calls.length).to.equal(reads);
    // Within the first moments after a read the answer is the window's end, whatever changed (5 s at most).
    expect(again.requeueAfter).to.be.within(4000, 5000);
  });

  it('reads the catalogue at once when a reconcile is requested, and echoes the request in status', async function () {
    const w = new World();
    w.gallery.putGallery(GALLERY, ours);
    await w.reconcile();
    // An image uploaded outside any lab: not read again within the sync period...
    w.gallery.putImage({ ...GALLERY, image: 'uploaded' }, { osState: 'Generalized' });
    await w.reconcile();
    expect(w.attachment?.status?.images).to.deep.equal([]);
    // ...unless someone asks.
    w.cluster.put({ ...w.attachment!, metadata: { ...w.attachment!.metadata, annotations: { [RECONCILE_REQUESTED_AT]: '2026-01-01T00:00:00Z' } } });
    await w.reconcile();
    expect(w.attachment?.status?.images?.map((i) => i.name)).to.deep.equal(['uploaded']);
    expect(w.attachment?.status?.lastHandledReconcileAt).to.equal('2026-01-01T00:00:00Z');
  });

  it('holds export changes back from the catalogue while any export of the account is at work, and reads them once all have settled', async function () {
    const w = new World();
    w.gallery.putGallery(GALLERY, ours);
    const exportOf = (name: string, phase: string) =>
      ({
        apiVersion: API_VERSION,
        kind: 'ImageExport',
        metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1 },
        spec: { labAccountRef: { name: 'cs' }, source: { virtualMachineId: '/vm' }, image: { name: 'img', osType: 'Linux' } },
        status: { observedGeneration: 1, phase, version: '1.0.0' },
      }) as ImageExport;
    await w.reconcile();
    const reads = w.gallery.calls.length;
    const now = Date.now();
    w.cluster.put(exportOf('e1', 'Replicating'));
    // 6 s later: past the settled window, within the busy one.
    const later = (ms: number) => atTime(now + ms, () => w.reconcile());
    expect((await later(6000)).requeueAfter).to.be.within(53_000, 54_000);
    expect(w.gallery.calls.length, 'no read while e1 is at work').to.equal(reads);
    w.cluster.put(exportOf('e1', 'Succeeded'));
    await later(7000);
    expect(w.gallery.calls.length, 'read once e1 has settled').to.be.greaterThan(reads);
  });
});

