import { expect } from 'chai';
import { RecentReads } from '../../../src/controllers/imageexport/recent-reads.ts';

describe('RecentReads', function () {
  it('answers from one read for its ttl, shared by callers asking at once, and keeps only what `keep` accepts', async function () {
    const reads = new RecentReads<string | undefined>(1000);
    let fetched = 0;
    const fetch = (value: string | undefined) => async () => (fetched++, value);
    const keep = (v: string | undefined) => v === 'Succeeded';
    expect(await Promise.all([reads.read('vm', fetch('Succeeded'), keep, 0), reads.read('vm', fetch('other'), keep, 10)])).to.deep.equal(['Succeeded', 'Succeeded']);
    expect(await reads.read('vm', fetch('other'), keep, 999)).to.equal('Succeeded');
    expect(fetched).to.equal(1);
    expect(await reads.read('vm', fetch('Creating'), keep, 1000)).to.equal('Creating');
    expect(await reads.read('vm', fetch(undefined), keep, 1001)).to.equal(undefined);
    expect(fetched).to.equal(3);
  });

  it('does not keep a failed read', async function () {
    const reads = new RecentReads<string>(1000);
    await reads.read('img', async () => Promise.reject(new Error('throttled')), () => true, 0).catch(() => undefined);
    expect(await reads.read('img', async () => 'Succeeded', () => true, 1)).to.equal('Succeeded');
  });
});
