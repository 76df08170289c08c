import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ArmBudget, armBudgetPolicy } from '../../../src/azure/budget.ts';
import { ArmError } from '../../../src/azure/errors.ts';
import { armPacingCounter } from '../../../src/azure/metrics.ts';

const SUB = 'sub';
const T0 = 1_000_000;

function answer(status: number, headers: Record<string, string> = {}): PipelineResponse {
  return { status, headers: createHttpHeaders(headers), request: undefined as never };
}

/** The waits of `n` requests taken at once; `deferred` counts the ones handed back. */
function burst(budget: ArmBudget, n: number, type: 'reads' | 'writes' = 'writes', now = T0, principal = 'p'): { waits: number[]; deferred: ArmError[] } {
  const waits: number[] = [];
  const deferred: ArmError[] = [];
  for (let i = 0; i < n; i += 1) {
    try {
      waits.push(budget.reserve(SUB, principal, type, `PUT /versions/${i}`, now));
    } catch (error) {
      deferred.push(error as ArmError);
    }
  }
  return { waits, deferred };
}

/** A budget whose principal `p` ARM has reported on: 200 writes and 250 reads left, as a fresh bucket has. */
function reported(options: ConstructorParameters<typeof ArmBudget>[0] = {}): ArmBudget {
  const budget = new ArmBudget(options);
  budget.observe(SUB, 'p', 'writes', answer(200, { 'x-ms-ratelimit-remaining-subscription-writes': '200' }), T0);
  budget.observe(SUB, 'p', 'reads', answer(200, { 'x-ms-ratelimit-remaining-subscription-reads': '250' }), T0);
  return budget;
}

describe('ARM budget (client-side pacing)', () => {
  it('holds nothing back where ARM reports no budget (no x-ms-ratelimit-remaining-* headers)', () => {
    const budget = new ArmBudget();
    budget.observe(SUB, 'p', 'writes', answer(200), T0);
    expect(burst(budget, 1000).waits.every((w) => w === 0)).to.equal(true);
  });

  it('lets a full bucket go at once, then paces at the refill rate, and hands back what would wait too long', () => {
    const budget = reported({ maxInlineWaitMs: 2000 });
    const { waits, deferred } = burst(budget, 230);
    expect(waits.slice(0, 200).every((w) => w === 0), 'ARM\'s 200 writes of burst').to.equal(true);
    expect(waits.slice(200, 203)).to.deep.equal([100, 200, 300]);
    expect(waits).to.have.length(220);
    expect(waits.at(-1)).to.equal(2000);
    expect(deferred).to.have.length(10);
    expect(deferred[0]).to.be.instanceOf(ArmError).and.include({ code: 'ArmBudgetExhausted', retryable: true, retryAfterMs: 2100 });
  });

  it('keeps the token of a request handed back for it, so that it goes at its time and those after it wait behind it', () => {
    const budget = reported();
    burst(budget, 200);
    const later = (request: string, now: number) => {
      try {
        return budget.reserve(SUB, 'p', 'writes', request, now);
      } catch (error) {
        return error as ArmError;
      }
    };
    expect([later('PUT a', T0), later('PUT b', T0)], 'within the inline wait').to.deep.equal([100, 200]);
    const c = later('PUT c', T0);
    expect(c).to.be.instanceOf(ArmError).and.include({ code: 'ArmBudgetExhausted', retryAfterMs: 300 });
    expect((later('PUT d', T0) as ArmError).retryAfterMs, 'behind c, whose token is kept').to.equal(400);
    // c comes again early: handed back again, for the time left, with no second token.
    expect((later('PUT c', T0 + 10) as ArmError).retryAfterMs).to.equal(290);
    expect(later('PUT c', T0 + 300), 'at its time').to.equal(0);
    expect((later('PUT e', T0) as ArmError).retryAfterMs).to.equal(500);
    // d comes 2 s after its time: its token stays spent, and it queues as a new request, behind e
    // (no refill yet: ARM has not answered since the burst).
    expect((later('PUT d', T0 + 2400) as ArmError).retryAfterMs, 'a new token').to.equal(600);
  });

  it('refills at ARM\'s rate, 10 writes a second, from the first answer on (ARM\'s bucket starts when the first request arrives)', () => {
    const budget = reported();
    burst(budget, 200);
    expect(burst(budget, 1, 'writes', T0 + 500).waits, 'no refill before an answer').to.deep.equal([100]);
    budget.observe(SUB, 'p', 'writes', answer(200), T0 + 500);
    expect(burst(budget, 9, 'writes', T0 + 1500).waits.every((w) => w === 0)).to.equal(true);
    expect(burst(budget, 1, 'writes', T0 + 1500).waits).to.deep.equal([100]);
  });

  it('never counts on more than ARM says is left', () => {
    const budget = new ArmBudget();
    budget.observe(SUB, 'p', 'reads', answer(200, { 'x-ms-ratelimit-remaining-subscription-reads': '3' }), T0);
    expect(burst(budget, 4, 'reads').waits).to.deep.equal([0, 0, 0, 40]);
    // A higher count later does not undo tokens already promised.
    budget.observe(SUB, 'p', 'reads', answer(200, { 'x-ms-ratelimit-remaining-subscription-reads': '240' }), T0);
    expect(burst(budget, 1, 'reads').waits).to.deep.equal([80]);
  });

  it('counts each principal apart, and all of them against the subscription\'s bucket', () => {
    const budget = new ArmBudget();
    budget.observe(SUB, 'one', 'writes', answer(200, { 'x-ms-ratelimit-remaining-subscription-writes': '200' }), T0);
    budget.observe(SUB, 'two', 'writes', answer(200, { 'x-ms-ratelimit-remaining-subscription-writes': '200' }), T0);
    budget.observe(SUB, 'three', 'writes', answer(200, { 'x-ms-ratelimit-remaining-subscription-writes': '200' }), T0);
    burst(budget, 200, 'writes', T0, 'one');
    expect(burst(budget, 1, 'writes', T0, 'two').waits).to.deep.equal([0]);
    budget.observe(SUB, 'two', 'writes', answer(200, { 'x-ms-ratelimit-remaining-subscription-global-writes': '0' }), T0);
    expect(burst(budget, 1, 'writes', T0, 'three').waits).to.deep.equal([7]);
  });

  it('empties the principal\'s bucket until Retry-After when ARM throttles without saying what is left', () => {
    const budget = new ArmBudget({ maxInlineWaitMs: 60_000 });
    budget.observe(SUB, 'p', 'writes', answer(429, { 'retry-after': '3' }), T0);
    expect(burst(budget, 1).waits[0]).to.be.within(3000, 3100);
  });

  it('paces requests in the pipeline, by the token\'s principal, and gives back the token of a request cancelled while it waits', async () => {
    const registry = new Registry();
    const budget = new ArmBudget({ maxInlineWaitMs: 60_000 });
    const policy = armBudgetPolicy(budget, armPacingCounter(registry));
    const jwt = (oid: string) => `x.${Buffer.from(JSON.stringify({ oid })).toString('base64url')}.y`;
    const url = 'https://arm/subscriptions/SUB/resourceGroups/rg/providers/Microsoft.Compute/galleries/g';
    const sent: string[] = [];
    const next = async () => {
      sent.push('sent');
      return answer(200, { 'x-ms-ratelimit-remaining-subscription-writes': '0' });
    };
    const request = (token: string, abortSignal?: AbortSignal) => {
      const r = createPipelineRequest({ url, method: 'PUT', ...(abortSignal ? { abortSignal } : {}) });
      r.headers.set('authorization', `Bearer ${token}`);
      return r;
    };
    await policy.sendRequest(request(jwt('alice')), next);
    // Alice's bucket is empty now, as ARM said; a second token of hers is the same principal.
    const abort = new AbortController();
    const waiting = policy.sendRequest(request(jwt('alice'), abort.signal), next);
    abort.abort();
    expect(await waiting.catch((error: unknown) => (error as Error).name)).to.equal('AbortError');
    expect(sent).to.have.length(1);
    // Bob spends his own bucket.
    await policy.sendRequest(request(jwt('bob')), next);
    expect(sent).to.have.length(2);
    expect(await registry.metrics()).to.contain('labimages_arm_paced_requests_total{type="writes",outcome="waited"} 1');
    // The cancelled request's token came back: the next of Alice's waits for one token, not two.
    expect(budget.reserve('sub', 'oid:alice', 'writes', 'PUT /next')).to.be.within(50, 110);
  });
});
