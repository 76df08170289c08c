// Cancelling ARM calls: a reconcile's AbortSignal, fired by shutdown or by its timeout, reaches
// the SDK call in flight through the gallery port. The emulator's latency fault holds every ARM
// answer long enough for the operator to be stopped (or to time out) while it waits.
import { expect } from 'chai';
import { requestCounts, setFaults } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { createAccount, getAccount, isReady, reconcileCount } from './galleryattachment-helpers.ts';

const GRACE_MS = 10_000;
/** Longer than the grace period: if the call were not cancelled, stop would wait out the grace period. */
const LATENCY_MS = 20_000;

async function armAnswers(op: TestOperator, code: string): Promise<number> {
  const metric = await op.manager.metrics.registry.getSingleMetric('labimages_arm_requests_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.code === code).reduce((sum, v) => sum + v.value, 0);
}

describe('cancelling ARM calls in flight', function () {
  before(async function () {
    await controlPlane().installCrds();
  });

  it('on shutdown: stop returns well within the grace period, the ARM call aborted', async function () {
    const op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'shutdown'), operator: { gracefulShutdownTimeoutMs: GRACE_MS } });
    try {
      await setFaults(op.emulator, { latencyMs: LATENCY_MS });
      const before = (await requestCounts(op.emulator)).total;
      await createAccount(op, 'slow');
      // The account's credential check has reached the emulator, which holds its answer.
      await eventually(async () => (await requestCounts(op.emulator)).total > before, { what: 'an ARM call in flight' });
      const started = performance.now();
      await op.manager.stop();
      const tookMs = performance.now() - started;
      expect(tookMs, 'stop').to.be.below(GRACE_MS / 2);
      expect(await armAnswers(op, 'aborted')).to.equal(1);
      expect(await armAnswers(op, '200')).to.equal(0);
      // Nothing was written for the cut-short pass: the account has no verdict yet.
      expect((await getAccount(op, 'slow'))?.status?.conditions).to.equal(undefined);
    } finally {
      await setFaults(op.emulator, { latencyMs: null });
      await op.stop();
    }
  });

  it('past a reconcile\'s timeout: the call is aborted, nothing is written, and the next try succeeds', async function () {
    const op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'timeout'), operator: { reconcileTimeoutMs: 1000 } });
    try {
      await setFaults(op.emulator, { latencyMs: 3000 });
      await createAccount(op, 'slow');
      await eventually(async () => ((await armAnswers(op, 'aborted')) > 0 ? true : undefined), { what: 'an ARM call aborted by the timeout' });
      expect((await getAccount(op, 'slow'))?.status?.conditions).to.equal(undefined);
      expect(await reconcileCount(op, 'labaccount')).to.be.greaterThan(0);
      await setFaults(op.emulator, { latencyMs: null });
      await eventually(async () => isReady(await getAccount(op, 'slow')), { what: 'the account Ready once ARM answers in time' });
    } finally {
      await op.stop();
    }
  });
});
