import { expect } from 'chai';
import type { ImageVersionObservation } from '../../../src/azure/index.ts';
import { VersionLedger } from '../../../src/controllers/imageexport/ledger.ts';

const version = (name: string, exportUid?: string) => ({ name, exportUid }) as ImageVersionObservation;

describe('VersionLedger', function () {
  it('lists an image once, for every worker asking at once, and keeps what it learns afterwards', async function () {
    const ledger = new VersionLedger();
    let lists = 0;
    const list = async () => (lists++, [version('1.0.0', 'uid-a'), version('1.0.1')]);
    const [first, second] = await Promise.all([ledger.versions('g/img', list), ledger.versions('g/img', list)]);
    expect(lists).to.equal(1);
    expect(first).to.deep.equal(second).and.to.deep.equal([
      { name: '1.0.0', exportUid: 'uid-a' },
      { name: '1.0.1', exportUid: undefined },
    ]);
    await ledger.record('g/img', version('1.0.2', 'uid-b'), list);
    expect((await ledger.versions('g/img', list)).map((v) => v.name)).to.deep.equal(['1.0.0', '1.0.1', '1.0.2']);
    expect(lists).to.equal(1);
  });

  it('lists each image apart, and lists again after a failed list', async function () {
    const ledger = new VersionLedger();
    let lists = 0;
    const failing = async (): Promise<ImageVersionObservation[]> => {
      lists++;
      throw new Error('throttled');
    };
    let error: unknown;
    await ledger.versions('g/a', failing).catch((e: unknown) => (error = e));
    expect(String(error)).to.contain('throttled');
    expect(await ledger.versions('g/a', async () => (lists++, [version('2.0.0')]))).to.have.length(1);
    expect(await ledger.versions('g/b', async () => (lists++, []))).to.deep.equal([]);
    expect(lists).to.equal(3);
  });
});
