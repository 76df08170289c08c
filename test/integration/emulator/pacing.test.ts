// The operator's ARM client paces itself to ARM's budget (src/azure/budget.ts) against the
// emulator's token buckets: a burst larger than the bucket meets no 429, and takes about what the
// bucket allows; the same burst unpaced is throttled, so it is the pacing that steers.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ArmBudget, ArmError, createArmClient, staticTokenCredential, type ArmClient } from '../../../src/azure/index.ts';
import { defaultToken, startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { requestCounts, subscriptionId } from './helpers.ts';

// The emulator's buckets at a fifth of ARM's: reads 50, refilled 5 a second.
const SCALE = 0.2;
const READS = { size: 250 * SCALE, refillPerSecond: 25 * SCALE };
const BURST = 75;

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
}

/** Reads of one gallery, as reconciles would send them: a handed-back request comes back after its "not before". */
async function burstOfReads(client: ArmClient, n: number): Promise<{ seconds: number; deferred: number }> {
  let deferred = 0;
  const started = performance.now();
  await inParallel(Array.from({ length: n }, (_, i) => i), 8, async () => {
    for (;;) {
      try {
        await client.send('GET', `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/galleries?api-version=2025-03-03`);
        return;
      } catch (error) {
        if (!(error instanceof ArmError) || error.code !== 'ArmBudgetExhausted') throw error;
        deferred += 1;
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      }
    }
  });
  return { seconds: (performance.now() - started) / 1000, deferred };
}

describe('pacing within ARM\'s budget, against the emulator\'s token buckets', function () {
  this.timeout(60_000);
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startEmulator({
      replicationSeconds: 0,
      config: { principals: [{ name: 'ops', tokens: [defaultToken], roles: [{ scope: '/', access: 'write' }] }], subscriptions: { '*': { implicitResourceGroups: true } }, buckets: { enabled: true, scale: SCALE } },
    });
  });
  afterEach(async () => emulator?.stop());

  const client = (budget?: ArmBudget) =>
    createArmClient({ subscriptionId, credential: staticTokenCredential(), endpoint: emulator.url, caPem: emulator.caPem, registry: new Registry(), retry: { maxRetries: 0 }, ...(budget ? { budget } : {}) });

  it(`meets no 429 with ${BURST} reads on a bucket of ${READS.size}, and takes about what the bucket allows`, async () => {
    const budget = new ArmBudget({ shapes: { reads: READS, writes: READS, deletes: READS }, maxInlineWaitMs: 500 });
    const { seconds, deferred } = await burstOfReads(client(budget), BURST);
    const allowed = (BURST - READS.size) / READS.refillPerSecond;
    expect((await requestCounts(emulator)).byStatus).to.deep.equal({ 200: BURST });
    expect(seconds, `${seconds.toFixed(1)} s, the bucket allows ${allowed} s`).to.be.within(allowed * 0.8, allowed * 1.2 + 1);
    expect(deferred, 'requests handed back to wait outside the worker').to.be.greaterThan(0);
  });

  it('is throttled unpaced: without the budget the same burst meets ARM\'s 429s', async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => client().send('GET', `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/galleries?api-version=2025-03-03`)),
    );
    expect(answers.filter((a) => a.status === 429).length).to.be.greaterThan(0);
  });
});
