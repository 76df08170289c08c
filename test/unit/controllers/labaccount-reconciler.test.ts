import { expect } from 'chai';
import { API_VERSION, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { ArmError } from '../../../src/azure/index.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';
import { LAB_ACCOUNT_FINALIZER, LabAccountReconciler } from '../../../src/controllers/labaccount/reconciler.ts';
import type { Result } from '../../../src/runtime/index.ts';
import { FakeCluster, connectorTo } from '../fakes/cluster.ts';
import { FakeGallery, SUBSCRIPTION } from '../fakes/gallery.ts';
import { NS, RECHECK_MS, SYNC_PERIOD_MS, stalledMessage, table, verdict, type ReconcilerCase } from './reconcilers.ts';

const arm = (code: string, statusCode: number, retryable: boolean) => new ArmError({ code, message: `${code} from the test`, statusCode, retryable });

function account(spec: Partial<LabAccount['spec']> = {}, metadata: Partial<LabAccount['metadata']> = {}): LabAccount {
  return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs', namespace: NS, ...metadata }, spec: { location: 'westeurope', ...spec } };
}

/** The account, being deleted, with its finalizer on. */
const deleting = () => account({}, { deletionTimestamp: new Date(), finalizers: [LAB_ACCOUNT_FINALIZER] });
const ofAccount = { labAccountRef: { name: 'cs' } };

class World {
  readonly cluster = new FakeCluster();
  readonly gallery = new FakeGallery();
  readonly connector = connectorTo(this.gallery);
  readonly reconciler = new LabAccountReconciler({
    accounts: this.cluster.accounts,
    attachments: this.cluster.attachments,
    exports: this.cluster.exports,
    templates: this.cluster.templates,
    client: this.cluster.client,
    events: this.cluster.recorder,
    connector: this.connector,
    settings: { syncPeriodMs: SYNC_PERIOD_MS, stalledRecheckMs: RECHECK_MS },
  });

  constructor() {
    this.cluster.put(account());
  }

  reconcile(): Promise<Result> {
    return this.reconciler.reconcile({ namespace: NS, name: 'cs' }, this.cluster.context());
  }

  get object() {
    return this.account;
  }

  get account(): LabAccount | undefined {
    return this.cluster.accounts.get('cs', NS);
  }
}

const cases: ReconcilerCase<World>[] = [
  {
    it: 'is Ready with its geography once ARM accepts its credentials, checked again each sync period',
    result: { requeueAfter: SYNC_PERIOD_MS },
    verdict: 'Ready/AccountReady',
    then: (w) => {
      expect(w.account?.status).to.deep.include({ geography: 'Europe', regions: ['northeurope', 'westeurope'] });
      expect(w.gallery.calls.map((c) => c.method)).to.deep.equal(['listGalleries']);
      expect(w.account?.metadata.finalizers, 'its finalizer, on before it is first Ready').to.deep.equal([LAB_ACCOUNT_FINALIZER]);
    },
  },
  {
    it: 'Stalls an unknown location, for a spec change to fix, and takes no finalizer: nothing can be made through it',
    given: (w) => void w.cluster.put(account({ location: 'moonbase1' })),
    result: {},
    verdict: 'Stalled/UnknownLocation',
    then: (w) => {
      expect(w.account?.status?.geography).to.equal(undefined);
      expect(w.account?.metadata.finalizers).to.equal(undefined);
    },
  },
  {
    it: 'being deleted, waits for its attachments, exports and templates, naming them in DeletionBlocked',
    given: (w) => {
      w.cluster.put(deleting());
      w.cluster.put({ apiVersion: API_VERSION, kind: 'GalleryAttachment', metadata: { name: 'shared', namespace: NS }, spec: { ...ofAccount, gallery: { name: 'g' } } } as GalleryAttachment);
      w.cluster.put({ apiVersion: API_VERSION, kind: 'ImageExport', metadata: { name: 'v1', namespace: NS }, spec: { ...ofAccount, source: { virtualMachineId: '/vm' }, image: { name: 'i', osType: 'Linux' } } } as ImageExport);
      w.cluster.put({ apiVersion: API_VERSION, kind: 'LabTemplate', metadata: { name: 'cs101', namespace: NS }, spec: { ...ofAccount, image: { imageExportRef: { name: 'v1' } } } } as LabTemplate);
    },
    result: {},
    verdict: 'Reconciling/InUse',
    then: (w) => {
      const blocked = w.account?.status?.conditions?.find((c) => c.type === 'DeletionBlocked');
      expect(blocked).to.include({ status: 'True', reason: 'InUse' });
      expect(blocked?.message).to.contain('GalleryAttachment shared').and.contain('ImageExport v1').and.contain('LabTemplate cs101');
      expect(w.account?.metadata.finalizers).to.deep.equal([LAB_ACCOUNT_FINALIZER]);
      expect(w.gallery.calls).to.deep.equal([]);
    },
  },
  {
    it: 'being deleted with nothing left that refers to it, lets go of its finalizer',
    given: (w) => void w.cluster.put(deleting()),
    result: {},
    verdict: 'none',
    then: (w) => expect(w.account?.metadata.finalizers).to.deep.equal([]),
  },
  { it: 'Stalls an unknown replication region', given: (w) => void w.cluster.put(account({ replication: { regions: ['atlantis1'] } })), result: {}, verdict: 'Stalled/UnknownRegion' },
  { it: 'Stalls a replication region outside the geography', given: (w) => void w.cluster.put(account({ replication: { regions: ['eastus'] } })), result: {}, verdict: 'Stalled/RegionOutsideGeography' },
  {
    it: 'Stalls when its Secret is missing, and looks again',
    given: (w) => void (w.connector.connect = async () => Promise.reject(new StalledError('CredentialsNotFound', 'create it'))),
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/CredentialsNotFound',
  },
  {
    it: 'Stalls CredentialsRejected naming where its credentials come from, and looks again',
    given: (w) => {
      w.cluster.put(account({ azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', credentials: { secretRef: { name: 'labs-sp' } } } }));
      w.gallery.failNext('listGalleries', arm('AuthorizationFailed', 403, false));
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/CredentialsRejected',
    then: (w) => expect(JSON.stringify(w.account?.status)).to.contain('labs-sp').and.contain('AuthorizationFailed'),
  },
  {
    it: 'Stalls on a missing resource group it names, saying what to create, and looks again',
    given: (w) => {
      w.cluster.put(account({ provider: 'Azure', azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'labs-rg' } }));
      w.gallery.failNext('listGalleries', arm('ResourceGroupNotFound', 404, false));
    },
    result: { requeueAfter: RECHECK_MS },
    verdict: 'Stalled/ResourceGroupNotFound',
    then: (w) => {
      expect(JSON.stringify(w.account?.status)).to.contain('az group create --name rg --location westeurope');
      expect(w.gallery.mutations()).to.deep.equal([]);
    },
  },
  {
    it: 'creates the resource group of its namespace when it names none (Simulated, without spec.azure)',
    given: (w) => void w.gallery.failNext('listGalleries', arm('ResourceGroupNotFound', 404, false)),
    result: { requeueAfter: SYNC_PERIOD_MS },
    verdict: 'Ready/AccountReady',
    then: (w) => {
      expect(w.gallery.mutations()).to.deep.equal(['createResourceGroup rg']);
      expect(w.gallery.calls.at(-1)?.spec).to.deep.equal({ location: 'westeurope' });
    },
  },
  { it: 'writes nothing when ARM fails transiently, and backs off', given: (w) => void w.gallery.failNext('listGalleries', arm('Http503', 503, true)), result: { requeue: true }, verdict: 'none' },
  {
    it: 'names the attachment that holds it',
    given: (w) => void w.cluster.put({ apiVersion: API_VERSION, kind: 'GalleryAttachment', metadata: { name: 'shared', namespace: NS }, spec: { labAccountRef: { name: 'cs' }, gallery: { name: 'g' } }, status: { galleryId: '/g' } } as GalleryAttachment),
    result: { requeueAfter: SYNC_PERIOD_MS },
    verdict: 'Ready/AccountReady',
    then: (w) => expect(w.account?.status?.gallery).to.deep.equal({ attachment: 'shared', id: '/g' }),
  },
];

describe('LabAccount reconciler (fake gallery)', function () {
  table('a pass', cases, () => new World());

  it('checks ARM once per sync period, not on every reconcile, looking for its credential afresh each time', async function () {
    const w = new World();
    await w.reconcile();
    await w.reconcile();
    expect(w.gallery.calls.map((c) => c.method)).to.deep.equal(['listGalleries']);
    expect(w.connector.rechecked, 'the check reads the credential Secrets again').to.equal(1);
    expect(w.connector.connected).to.equal(1);
  });

  it('Stalls CredentialsRejected with Entra ID\'s answer when no token comes, and names the credential', async function () {
    const w = new World();
    const entra = new ArmError({ code: 'AuthenticationError', message: 'invalid_client: AADSTS7000215: Invalid client secret provided.', statusCode: 401, retryable: false, fromIdentity: true });
    w.gallery.failNext('listGalleries', entra);
    expect(await w.reconcile()).to.deep.equal({ requeueAfter: RECHECK_MS });
    expect(verdict(w.account)).to.equal('Stalled/CredentialsRejected');
    expect(stalledMessage(w.account)).to.match(/^Microsoft Entra ID gave no token for the test's credentials \(AuthenticationError: invalid_client: AADSTS7000215/);
  });

  it('takes a sovereign cloud\'s region as given, with no geography, and replicates to what the spec names', async function () {
    const w = new World();
    w.cluster.put(account({ location: 'usgovvirginia', provider: 'Azure', azure: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', cloud: 'AzureUSGovernment' }, replication: { regions: ['usgovtexas'] } }));
    await w.reconcile();
    expect(verdict(w.account)).to.equal('Ready/AccountReady');
    expect(w.account?.status?.geography).to.equal(undefined);
    expect(w.account?.status?.regions).to.deep.equal(['usgovtexas', 'usgovvirginia']);
    w.cluster.put(account({ location: 'usgovvirginia', provider: 'Azure', azure: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg' } }));
    await w.reconcile();
    expect(verdict(w.account), 'in public Azure the region is unknown').to.equal('Stalled/UnknownLocation');
  });
});
