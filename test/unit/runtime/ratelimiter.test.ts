import { expect } from 'chai';
import fc from 'fast-check';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from '../../../src/runtime/ratelimiter.ts';

describe('rate limiters', () => {
  it('per item: 5 ms·2^n, capped at 1000 s, per key, reset by forget', () => {
    const l = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    expect([l.when('a'), l.when('a'), l.when('a'), l.when('b')]).to.deep.equal([5, 10, 20, 5]);
    for (let i = 0; i < 40; i++) l.when('a');
    expect(l.when('a')).to.equal(1_000_000);
    expect(l.numRequeues('b')).to.equal(1);
    l.forget('a');
    expect(l.when('a')).to.equal(5);
  });

  it('token bucket: a burst of 100 goes at once, then 10 per second', () => {
    let now = 0;
    const l = new BucketRateLimiter<string>(10, 100, () => now);
    for (let i = 0; i < 100; i++) expect(l.when(`k${i}`)).to.equal(0);
    expect(l.when('x')).to.be.closeTo(100, 1e-9);
    expect(l.when('y')).to.be.closeTo(200, 1e-9);
    now = 1000;
    // 10 tokens came back, 2 were owed: 8 free before waiting again.
    for (let i = 0; i < 8; i++) expect(l.when(`z${i}`)).to.be.closeTo(0, 1e-9);
    expect(l.when('w')).to.be.greaterThan(0);
  });

  it('max-of asks every limiter and waits the longest', () => {
    const l = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter<string>(5, 1_000_000), new BucketRateLimiter<string>(10, 1, () => 0));
    expect(l.when('a')).to.equal(5);
    expect(l.when('b')).to.equal(100);
    expect(l.numRequeues('a')).to.equal(1);
    l.forget('a');
    expect(l.numRequeues('a')).to.equal(0);
  });

  it('default controller limiter: the n-th retry of a key waits 5·2^n ms plus at most 10 % jitter, never above 1000 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), (n) => {
        // Fewer than 100 calls, so the shared bucket's burst covers them and only the per-item part counts.
        const l = defaultControllerRateLimiter<string>();
        for (let i = 0; i < n; i++) l.when('k');
        const d = l.when('k');
        expect(d).to.be.at.least(Math.min(5 * 2 ** n, 1_000_000));
        expect(d).to.be.at.most(Math.min(5.5 * 2 ** n, 1_000_000));
        expect(l.numRequeues('k')).to.equal(n + 1);
      }),
    );
  });
});
