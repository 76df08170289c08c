import { expect } from 'chai';
import { PollSpread } from '../../../src/controllers/imageexport/poll-spread.ts';

describe('replication polls spread per subscription', () => {
  it('keeps each export\'s own rhythm while few replicate', () => {
    const polls = new PollSpread(5, () => 0.5);
    expect(polls.intervalMs('sub', 'a', 2000, 0)).to.equal(2000);
    expect(polls.intervalMs('sub', 'b', 30_000, 0)).to.equal(30_000);
  });

  it('spaces polls so that a subscription sees at most its budget a second, however many exports replicate', () => {
    const polls = new PollSpread(5, () => 0.5);
    const intervals = Array.from({ length: 1000 }, (_, i) => polls.intervalMs('sub', `e${i}`, 2000, 0));
    expect(intervals.at(-1)).to.equal(200_000);
    // Once all have joined, each looks again every 200 s: 1,000 exports, 5 polls a second.
    expect(polls.intervalMs('sub', 'e1', 2000, 2000)).to.equal(200_000);
    // Another subscription has a budget of its own.
    expect(polls.intervalMs('other', 'x', 2000, 0)).to.equal(2000);
  });

  it('jitters spaced polls by up to 10 %, so exports started together do not poll together', () => {
    const low = new PollSpread(1, () => 0);
    const high = new PollSpread(1, () => 0.999);
    for (const polls of [low, high]) for (let i = 0; i < 9; i += 1) polls.intervalMs('sub', `e${i}`, 1000, 0);
    expect(low.intervalMs('sub', 'e9', 1000, 0)).to.equal(9000);
    expect(high.intervalMs('sub', 'e9', 1000, 0)).to.be.within(10_900, 11_000);
  });

  it('forgets an export whose replication settled, and one that stopped coming back', () => {
    const polls = new PollSpread(1, () => 0.5);
    polls.intervalMs('sub', 'a', 1000, 0);
    polls.intervalMs('sub', 'b', 1000, 0);
    polls.done('a');
    expect(polls.intervalMs('sub', 'b', 1000, 0)).to.equal(1000);
    polls.intervalMs('sub', 'c', 1000, 0);
    // b and c last looked at 0; long after they were due, only d counts.
    expect(polls.intervalMs('sub', 'd', 1000, 10 * 60_000)).to.equal(1000);
  });
});
