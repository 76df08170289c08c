import { expect } from 'chai';
import { API_VERSION, type ImageExport, type ImageExportStatus, type LabAccount } from '../../../src/api/index.ts';
import { highestVersion, type ImageVersionObservation } from '../../../src/azure/index.ts';
import { progressing, stalled } from '../../../src/controllers/common/outcome.ts';
import { resultOf } from '../../../src/controllers/common/result.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';
import { desiredTargets, planTargets, regionStatuses, retryBackoffMs, sameTargets, type TargetRegion } from '../../../src/controllers/imageexport/regions.ts';
import { computeStatus, deletionBlocked, replicationPollMs, summarize, versionOutcome, type VersionFacts } from '../../../src/controllers/imageexport/status.ts';
import { nextVersion, publishingChanges } from '../../../src/controllers/imageexport/version.ts';
import { defaultPriceTable } from '../../../src/pricing/price-table.ts';

function account(replication?: LabAccount['spec']['replication']): LabAccount {
  return {
    apiVersion: API_VERSION,
    kind: 'LabAccount',
    metadata: { name: 'cs-dept', namespace: 'ns' },
    spec: { location: 'eastus', ...(replication ? { replication } : {}) },
    status: { geography: 'United States', regions: ['eastus', 'eastus2', 'westus', 'westus2'] },
  };
}

function exportOf(replication?: ImageExport['spec']['replication']): ImageExport {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name: 'e', namespace: 'ns', uid: 'u1', generation: 1 },
    spec: { labAccountRef: { name: 'cs-dept' }, source: { virtualMachineId: '/x' }, image: { name: 'img', osType: 'Linux' }, ...(replication ? { replication } : {}) },
  };
}

const target = (name: string, replicaCount = 1): TargetRegion => ({ name, replicaCount, storageAccountType: 'Standard_LRS' });

function observation(regions: { name: string; state: string; progress: number; replicaCount?: number }[], provisioningState = 'Succeeded'): ImageVersionObservation {
  return {
    id: '/v',
    name: '1.0.0',
    location: 'eastus',
    provisioningState,
    tags: {},
    exportUid: 'u1',
    source: { virtualMachineId: '/x' },
    dataDisks: 0,
    excludeFromLatest: false,
    targetRegions: regions.map((r) => ({ name: r.name, replicaCount: r.replicaCount ?? 1, storageAccountType: 'Standard_LRS', excludeFromLatest: false })),
    replication: {
      aggregatedState: 'InProgress',
      regions: regions.map((r) => ({ region: r.name, state: r.state, progress: r.progress, details: r.state === 'Failed' ? 'Remove the failed regions, then add them back' : '' })),
    },
  };
}

describe('ImageExport version choice', () => {
  it('starts at 1.0.0 and takes the next patch after the highest, numerically', () => {
    expect(nextVersion([])).to.equal('1.0.0');
    expect(nextVersion(['1.0.9', '1.0.10', '0.9.99'])).to.equal('1.0.11');
    expect(nextVersion(['2.1.0', '1.9.9'])).to.equal('2.1.1');
  });

  it('ignores names that are not x.y.z', () => {
    expect(highestVersion(['latest', 'abc', '1.2'])).to.equal(undefined);
    expect(nextVersion(['latest', '1.0.3'])).to.equal('1.0.4');
  });

  it('skips versions claimed by other exports that Azure does not show yet', () => {
    const gallery = ['1.0.0'];
    const claimed = ['1.0.1', '1.0.2'];
    expect(nextVersion([...gallery, ...claimed])).to.equal('1.0.3');
  });
});

describe('ImageExport target regions', () => {
  it('takes spec.replication, else the account\'s, else the whole geography', () => {
    expect(desiredTargets(exportOf(), account()).map((t) => t.name)).to.deep.equal(['eastus', 'eastus2', 'westus', 'westus2']);
    expect(desiredTargets(exportOf(), account({ regions: ['westus'], replicaCount: 2 }))).to.deep.equal([target('westus', 2)]);
    expect(desiredTargets(exportOf({ regions: ['eastus2'], storageAccountType: 'Premium_LRS' }), account({ regions: ['westus'], replicaCount: 2 }))).to.deep.equal([
      { name: 'eastus2', replicaCount: 2, storageAccountType: 'Premium_LRS' },
    ]);
    expect(desiredTargets(exportOf({ regions: [] }), account({ regions: ['westus'] })).length).to.equal(4);
  });

  it('defaults to the available regions of the geography; a restricted one only when listed', () => {
    const france: LabAccount = {
      ...account(),
      spec: { location: 'francecentral' },
      status: { geography: 'France', regions: ['francecentral', 'francesouth'], availableRegions: ['francecentral'] },
    };
    expect(desiredTargets(exportOf(), france).map((t) => t.name)).to.deep.equal(['francecentral']);
    expect(desiredTargets(exportOf({ regions: ['francesouth', 'francecentral'] }), france).map((t) => t.name)).to.deep.equal(['francesouth', 'francecentral']);
  });

  it('refuses a region outside the geography as Stalled RegionOutsideGeography, naming it', () => {
    try {
      desiredTargets(exportOf({ regions: ['eastus', 'westeurope'] }), account());
      expect.fail('accepted a region outside the geography');
    } catch (err) {
      expect(err).to.be.instanceOf(StalledError);
      expect((err as StalledError).reason).to.equal('RegionOutsideGeography');
      expect((err as StalledError).message).to.contain('westeurope');
    }
  });

  it('compares target regions as sets with their replica counts', () => {
    const observed = observation([{ name: 'eastus', state: 'Completed', progress: 100 }, { name: 'westus', state: 'Completed', progress: 100 }]);
    expect(sameTargets(observed, [target('westus'), target('eastus')])).to.equal(true);
    expect(sameTargets(observed, [target('westus')])).to.equal(false);
    expect(sameTargets(observed, [target('westus'), target('eastus', 2)])).to.equal(false);
  });
});

describe('ImageExport publishing flags', () => {
  const completed = observation([{ name: 'eastus', state: 'Completed', progress: 100 }]);

  it('changes nothing when Azure already has what the spec asks', () => {
    expect(publishingChanges(exportOf(), completed)).to.equal(undefined);
    const endOfLife = { ...completed, endOfLifeDate: new Date('2027-06-30T00:00:00Z') };
    expect(publishingChanges({ ...exportOf(), spec: { ...exportOf().spec, endOfLifeDate: '2027-06-30T00:00:00Z' } }, endOfLife)).to.equal(undefined);
  });

  it('asks for excludeFromLatest and endOfLifeDate where they differ', () => {
    const exp = exportOf();
    exp.spec = { ...exp.spec, excludeFromLatest: true, endOfLifeDate: '2027-06-30T00:00:00Z' };
    expect(publishingChanges(exp, completed)).to.deep.equal({ excludeFromLatest: true, endOfLifeDate: new Date('2027-06-30T00:00:00Z') });
  });
});

describe('ImageExport failed-region retries', () => {
  const desired = [target('eastus'), target('westus')];
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('takes a failed region out of targetRegions and schedules it back with backoff', () => {
    const observed = observation([{ name: 'eastus', state: 'Completed', progress: 100 }, { name: 'westus', state: 'Failed', progress: 40 }]);
    const plan = planTargets(desired, observed, undefined, 3, now);
    expect(plan.targets.map((t) => t.name)).to.deep.equal(['eastus']);
    expect(plan.retries.get('westus')).to.include({ attempts: 1, nextAttemptTime: new Date(now + retryBackoffMs(1)).toISOString() });
    expect(plan.wakeAt).to.equal(now + retryBackoffMs(1));
    const regions = regionStatuses(desired, observed, plan.retries, 3);
    expect(regions[1]).to.include({ name: 'westus', state: 'Queued', progress: 0, attempts: 1 });
    expect(regions[1]?.message).to.contain('retry 1 of 3');
  });

  it('keeps a waiting region out until its time, then adds it back with its attempts counted', () => {
    const observed = observation([{ name: 'eastus', state: 'Completed', progress: 100 }]);
    const previous: ImageExportStatus['regions'] = [
      { name: 'eastus', state: 'Completed', progress: 100, replicaCount: 1 },
      { name: 'westus', state: 'Queued', progress: 0, replicaCount: 1, attempts: 1, nextAttemptTime: new Date(now + 1000).toISOString(), message: 'm' },
    ];
    const waiting = planTargets(desired, observed, previous, 3, now);
    expect(waiting.targets.map((t) => t.name)).to.deep.equal(['eastus']);
    expect(waiting.wakeAt).to.equal(now + 1000);
    const due = planTargets(desired, observed, previous, 3, now + 1000);
    expect(due.targets.map((t) => t.name)).to.deep.equal(['eastus', 'westus']);
    expect(due.retries.get('westus')).to.deep.equal({ attempts: 1 });
  });

  it('leaves a region Failed once the retries are spent', () => {
    const observed = observation([{ name: 'eastus', state: 'Completed', progress: 100 }, { name: 'westus', state: 'Failed', progress: 40 }]);
    const previous: ImageExportStatus['regions'] = [{ name: 'westus', state: 'Replicating', progress: 10, attempts: 3 }];
    const plan = planTargets(desired, observed, previous, 3, now);
    expect(plan.targets.map((t) => t.name)).to.deep.equal(['eastus', 'westus']);
    const regions = regionStatuses(desired, observed, plan.retries, 3);
    expect(regions[1]).to.include({ state: 'Failed', progress: 40, attempts: 3 });
    expect(summarize(regions)).to.deep.include({ done: true, failed: ['westus'], regionsReady: '1/2' });
  });

  it('cannot take out the only target region: it stays Failed', () => {
    const observed = observation([{ name: 'westus', state: 'Failed', progress: 40 }]);
    const plan = planTargets([target('westus')], observed, undefined, 3, now);
    expect(plan.targets.map((t) => t.name)).to.deep.equal(['westus']);
    expect(plan.wakeAt).to.equal(undefined);
    expect(regionStatuses([target('westus')], observed, plan.retries, 3)[0]).to.include({ state: 'Failed' });
  });

  it('backs off 3 s, 9 s, 27 s ... up to 5 minutes', () => {
    expect([1, 2, 3, 10].map(retryBackoffMs)).to.deep.equal([3000, 9000, 27000, 300000]);
  });
});

describe('ImageExport progress and status', () => {
  it('maps Azure\'s replication to per-region states: 0 % replicating is Queued', () => {
    const desired = [target('eastus'), target('westus'), target('westus2')];
    const observed = observation([
      { name: 'eastus', state: 'Completed', progress: 100 },
      { name: 'westus', state: 'Replicating', progress: 40 },
      { name: 'westus2', state: 'Replicating', progress: 0 },
    ]);
    expect(regionStatuses(desired, observed, new Map(), 3).map((r) => [r.name, r.state, r.progress])).to.deep.equal([
      ['eastus', 'Completed', 100],
      ['westus', 'Replicating', 40],
      ['westus2', 'Queued', 0],
    ]);
    expect(regionStatuses([...desired, target('eastus2')], observed, new Map(), 3)[3]).to.include({ state: 'Queued', progress: 0 });
  });

  it('weights progress by replicas and is 100 only when every region is Completed', () => {
    const summary = summarize([
      { name: 'a', state: 'Completed', progress: 100, replicaCount: 1 },
      { name: 'b', state: 'Replicating', progress: 40, replicaCount: 3 },
    ]);
    expect(summary).to.deep.include({ progress: 55, regionsReady: '1/2', done: false });
    expect(summarize([{ name: 'a', state: 'Replicating', progress: 99, replicaCount: 1 }, { name: 'b', state: 'Completed', progress: 100, replicaCount: 1 }]).progress).to.equal(99);
  });

  it('polls every 2 s early and at most every 30 s later', () => {
    expect(replicationPollMs(0)).to.equal(2000);
    expect(replicationPollMs(100_000)).to.equal(10_000);
    expect(replicationPollMs(3_600_000)).to.equal(30_000);
  });

  const now = new Date('2025-01-01T00:00:00Z');
  const replicating: VersionFacts = {
    version: '1.0.0',
    imageVersionId: '/v/1.0.0',
    exported: true,
    targets: [target('eastus'), target('westus', 2)],
    regions: [
      { name: 'eastus', state: 'Completed', progress: 100, replicaCount: 1 },
      { name: 'westus', state: 'Replicating', progress: 40, replicaCount: 2 },
    ],
    sizeGiB: 127,
  };

  it('computes a replicating export: phase, progress, cost, Reconciling', () => {
    const status = computeStatus(undefined, 1, versionOutcome(replicating), defaultPriceTable, now);
    expect(status).to.deep.include({ phase: 'Replicating', version: '1.0.0', progress: 60, progressDisplay: '60%', regionsReady: '1/2', sizeGiB: 127, startTime: '2025-01-01T00:00:00Z' });
    expect(status.estimatedMonthlyCost).to.deep.equal({ amount: (127 * 3 * 0.05).toFixed(2), currency: 'USD' });
    const types = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
    expect(types).to.deep.equal({ Exported: 'True/ImageVersionCreated', Replicated: 'False/ReplicationInProgress', Reconciling: 'True/Replicating', Ready: 'Unknown/Replicating' });
    expect(status.completionTime).to.equal(undefined);
  });

  it('is Ready once every region is Completed, and recomputing gives an equal status', () => {
    const done: VersionFacts = { ...replicating, regions: replicating.regions.map((r) => ({ ...r, state: 'Completed', progress: 100 })) };
    const first = computeStatus(undefined, 1, versionOutcome(done), defaultPriceTable, now);
    expect(first).to.deep.include({ phase: 'Succeeded', progress: 100, regionsReady: '2/2', completionTime: '2025-01-01T00:00:00Z' });
    expect(first.conditions?.find((c) => c.type === 'Ready')).to.include({ status: 'True', reason: 'Succeeded' });
    expect(first.conditions?.some((c) => c.type === 'Reconciling' || c.type === 'Stalled')).to.equal(false);
    const again = computeStatus(first, 1, versionOutcome(done), defaultPriceTable, new Date(now.getTime() + 60_000));
    expect(again).to.deep.equal(first);
  });

  it('settles as PartiallySucceeded, Stalled: Ready=False and Stalled=True naming the failed and the usable regions, no Reconciling', () => {
    const partial: VersionFacts = { ...replicating, regions: [{ ...replicating.regions[0]!, state: 'Completed', progress: 100 }, { name: 'westus', state: 'Failed', progress: 40, replicaCount: 2, attempts: 3 }] };
    const outcome = versionOutcome(partial);
    expect(resultOf(outcome, 30_000), 'its cause is the spec: no recheck').to.deep.equal({});
    const status = computeStatus(undefined, 1, outcome, defaultPriceTable, now);
    expect(status.phase).to.equal('PartiallySucceeded');
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const stalled = status.conditions?.find((c) => c.type === 'Stalled');
    expect(ready).to.include({ status: 'False', reason: 'PartiallySucceeded' });
    expect(stalled).to.include({ status: 'True', reason: 'PartiallySucceeded' });
    expect(stalled?.message).to.match(/to westus failed after every retry; usable in eastus \(1\/2 regions\)/);
    expect(status.conditions?.find((c) => c.type === 'Replicated')).to.include({ status: 'False', reason: 'RegionsFailed' });
    expect(status.conditions?.some((c) => c.type === 'Reconciling')).to.equal(false);
    expect(status.completionTime).to.equal('2025-01-01T00:00:00Z');
  });

  it('waits with the reason given, keeping what an earlier reconcile found', () => {
    const first = computeStatus(undefined, 1, versionOutcome(replicating), defaultPriceTable, now);
    const waiting = computeStatus(first, 1, progressing('NoGalleryAttached', 'attach one'), defaultPriceTable, now);
    expect(waiting).to.deep.include({ phase: 'Replicating', version: '1.0.0', progress: 60 });
    expect(waiting.conditions?.find((c) => c.type === 'Reconciling')).to.include({ status: 'True', reason: 'NoGalleryAttached' });
    const fresh = computeStatus(undefined, 1, progressing('AccountNotReady', 'wait'), defaultPriceTable, now);
    expect(fresh.phase).to.equal('Pending');
    expect(fresh.startTime).to.equal(undefined);
  });

  it('stalls with the reason and message, and shows a blocked deletion naming the templates', () => {
    const mismatch = computeStatus(undefined, 1, stalled('ImageDefinitionMismatch', 'osState differs'), defaultPriceTable, now);
    expect(mismatch.phase).to.equal('Failed');
    expect(mismatch.conditions?.find((c) => c.type === 'Stalled')).to.include({ status: 'True', reason: 'ImageDefinitionMismatch', message: 'osState differs' });
    const blocked = computeStatus(mismatch, 1, deletionBlocked(['t1', 't2']), defaultPriceTable, now);
    expect(blocked.phase).to.equal('Deleting');
    const condition = blocked.conditions?.find((c) => c.type === 'DeletionBlocked');
    expect(condition).to.include({ status: 'True', reason: 'InUse' });
    expect(condition?.message).to.contain('t1, t2');
    expect(blocked.conditions?.some((c) => c.type === 'Stalled')).to.equal(false);
  });
});
