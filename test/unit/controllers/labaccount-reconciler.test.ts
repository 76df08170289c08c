import { expect } from 'chai';
import { API_VERSION, type GalleryAttachment, type LabAccount } from '../../../src/api/index.ts';
import { ArmError } from '../../../src/azure/index.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';
import { LabAccountReconciler } from '../../../src/controllers/labaccount/reconciler.ts';
import type { Result } from '../../../src/runtime/index.ts';
import { FakeCluster, connectorTo } from '../fakes/cluster.ts';
import { FakeGallery } from '../fakes/gallery.ts';
import { NS, RECHECK_MS, table, type ReconcilerCase } from './reconcilers.ts';

const SYNC_PERIOD_MS = 600_000;
const arm = (code: string, statusCode: number, retryable: boolean) => new ArmError({ code, message: `${code} from the test`, statusCode, retryable });

function account(spec: Partial<LabAccount['spec']> = {}): LabAccount {
  return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs', namespace: NS }, spec: { location: 'westeurope', ...spec } };
}

class World {
  readonly cluster = new FakeCluster();
  readonly gallery = new FakeGallery();
  readonly connector = connectorTo(this.gallery);
  readonly reconciler = new LabAccountReconciler({
    accounts: this.cluster.accounts,
    attachments: this.cluster.attachments,
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
    },
  },
  { it: 'Stalls an unknown location, for a spec change to fix', given: (w) => void w.cluster.put(account({ location: 'moonbase1' })), result: {}, verdict: 'Stalled/UnknownLocation', then: (w) => expect(w.account?.status?.geography).to.equal(undefined) },
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

  it('checks ARM once per sync period, not on every reconcile', async function () {
    const w = new World();
    await w.reconcile();
    await w.reconcile();
    expect(w.gallery.calls.map((c) => c.method)).to.deep.equal(['listGalleries']);
  });
});
