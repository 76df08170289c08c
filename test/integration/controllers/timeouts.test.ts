// A hung ARM request gives its worker back after the ARM request timeout, however long ARM keeps
// it: the key comes back through the queue and the next attempt goes through.
import { expect } from 'chai';
import { setFaults } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { createAccount, getAccount, isReady } from './galleryattachment-helpers.ts';

const HANG_SECONDS = 60;

describe('ARM request timeout', function () {
  let op: TestOperator;

  before(async function () {
    await controlPlane().installCrds();
    const namespace = await createTestNamespace(controlPlane().kubeConfig, 'timeout');
    // One worker per controller: the second account is reconciled only once the first gives the worker back.
    op = await startTestOperator({ namespace, operator: { concurrency: 1, timeouts: { armRequestMs: 1000 } } });
  });

  after(async function () {
    await op?.stop();
  });

  it('does not let a hung request hold a worker past the timeout', async function () {
    // The next ARM request (the first account's credential check) hangs far longer than the test may take.
    await setFaults(op.emulator, { hang: { requests: 1, seconds: HANG_SECONDS } });
    const started = Date.now();
    await createAccount(op, 'first');
    await createAccount(op, 'second');
    for (const name of ['first', 'second']) await eventually(async () => isReady(await getAccount(op, name)), { what: `${name} Ready`, timeoutMs: 20_000 });
    expect(Date.now() - started, 'both Ready within a few timeouts, not after the hang').to.be.lessThan(10_000);
  });
});
