import { expect } from 'chai';
import fc from 'fast-check';
import { advanceReplication, aggregateState, retarget, viewReplica, type Replica } from '../../../src/emulator/replication.ts';

const timing = { durationMs: 1000, concurrency: 2 };

function views(replicas: Replica[], now: number) {
  return advanceReplication(replicas, now, timing).map((replica) => viewReplica(replica, now, timing));
}

describe('replication simulator', () => {
  it('raises progress with time and completes at the duration', () => {
    const replicas: Replica[] = [{ region: 'westeurope', queuedAt: 0 }];
    expect(views(replicas, 0)[0]).to.deep.equal({ region: 'westeurope', state: 'Replicating', progress: 0 });
    expect(views(replicas, 400)[0]).to.deep.equal({ region: 'westeurope', state: 'Replicating', progress: 40 });
    expect(views(replicas, 1000)[0]).to.deep.equal({ region: 'westeurope', state: 'Completed', progress: 100 });
  });

  it('replicates a few regions at a time; the others wait for a free slot', () => {
    const replicas: Replica[] = ['a', 'b', 'c'].map((region) => ({ region, queuedAt: 0 }));
    const at500 = views(replicas, 500);
    expect(at500.map((view) => view.progress)).to.deep.equal([50, 50, 0]);
    const at1500 = views(replicas, 1500);
    expect(at1500.map((view) => view.state)).to.deep.equal(['Completed', 'Completed', 'Replicating']);
    expect(at1500[2]!.progress).to.equal(50);
    expect(aggregateState(at1500)).to.equal('InProgress');
    expect(aggregateState(views(replicas, 2000))).to.equal('Completed');
  });

  it('gives the same answer whether advanced in steps or at once (so a restart resumes exactly)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ queuedAt: fc.integer({ min: 0, max: 3000 }), doomed: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 6000 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 6000 }),
        (entries, steps, end) => {
          const replicas: Replica[] = entries.map((entry, index) => ({
            region: `r${index}`,
            queuedAt: entry.queuedAt,
            ...(entry.doomed ? { failAtProgress: 40 } : {}),
          }));
          let stepped = replicas;
          for (const step of [...steps].sort((a, b) => a - b).filter((step) => step <= end)) stepped = advanceReplication(stepped, step, timing);
          stepped = advanceReplication(stepped, end, timing);
          expect(stepped).to.deep.equal(advanceReplication(replicas, end, timing));
          const running = stepped.filter((replica) => replica.startedAt !== undefined && replica.outcome === undefined);
          expect(running.length).to.be.at.most(timing.concurrency);
        },
      ),
    );
  });

  it('fails a doomed replica part-way and keeps its progress', () => {
    const replicas: Replica[] = [
      { region: 'westeurope', queuedAt: 0 },
      { region: 'northeurope', queuedAt: 0, failAtProgress: 40 },
    ];
    const result = views(replicas, 1000);
    expect(result[1]).to.deep.equal({ region: 'northeurope', state: 'Failed', progress: 40 });
    expect(aggregateState(result)).to.equal('Failed');
  });

  it('retargets: keeps what is still wanted, drops the rest, queues the new', () => {
    const done: Replica = { region: 'westeurope', queuedAt: 0, startedAt: 0, endedAt: 1000, outcome: 'Completed' };
    const next = retarget([done, { region: 'northeurope', queuedAt: 0 }], ['westeurope', 'swedencentral'], 5000, (region) =>
      region === 'swedencentral' ? 40 : undefined,
    );
    expect(next).to.deep.equal([done, { region: 'swedencentral', queuedAt: 5000, failAtProgress: 40 }]);
  });
});
