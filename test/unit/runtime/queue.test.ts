import { expect } from 'chai';
import fc from 'fast-check';
import { RateLimitingQueue, WorkQueue } from '../../../src/runtime/queue.ts';
import { ItemExponentialFailureRateLimiter } from '../../../src/runtime/ratelimiter.ts';

describe('WorkQueue', () => {
  it('collapses duplicate adds and keeps FIFO order', async () => {
    const q = new WorkQueue<string>();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.len()).to.equal(3);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['a', 'b', 'c']);
  });

  it('does not hand a key being processed to another worker, and runs it again after done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.len()).to.equal(0);
    let second: string | undefined;
    const waiting = q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).to.equal(undefined);
    q.done(first!);
    await waiting;
    expect(second).to.equal('a');
  });

  it('gives a waiting worker the next add', async () => {
    const q = new WorkQueue<string>();
    const got = q.get();
    q.add('x');
    expect(await got).to.equal('x');
  });

  it('hands out nothing after shutdown, wakes blocked workers, ignores later adds', async () => {
    const q = new WorkQueue<string>();
    const blocked = q.get();
    q.shutDown();
    q.add('c');
    expect(await blocked).to.equal(undefined);
    expect(q.len()).to.equal(0);
    expect(await q.get()).to.equal(undefined);
  });

  it('does not requeue a key re-added while in flight once shut down', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const held = await q.get();
    q.add('a');
    q.shutDown();
    q.done(held!);
    expect(q.len()).to.equal(0);
  });

  it('drains: shutDownWithDrain resolves only after every held key is done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const held = await q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).to.equal(false);
    q.done(held!);
    await drain;
    expect(drained).to.equal(true);
  });

  it('never puts a key on two workers and never loses an add (property)', async () => {
    type Cmd = { op: 'add'; key: number } | { op: 'take' } | { op: 'done'; index: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ op: fc.constant('take' as const) }),
      fc.record({ op: fc.constant('done' as const), index: fc.nat(10) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 80 }), async (cmds) => {
        const q = new WorkQueue<number>();
        const held: number[] = [];
        // A key added after the last time a worker took it must be taken again.
        const owed = new Set<number>();
        const take = async () => {
          const k = (await q.get())!;
          expect(held).not.to.include(k);
          held.push(k);
          owed.delete(k);
        };
        for (const c of cmds) {
          if (c.op === 'add') {
            q.add(c.key);
            owed.add(c.key);
          } else if (c.op === 'take') {
            if (q.len() > 0) await take();
          } else if (held.length > 0) {
            q.done(held.splice(c.index % held.length, 1)[0]!);
          }
        }
        while (held.length > 0 || q.len() > 0) {
          while (q.len() > 0) await take();
          if (held.length > 0) q.done(held.shift()!);
        }
        expect([...owed]).to.deep.equal([]);
      }),
    );
  });
});

describe('RateLimitingQueue', () => {
  it('counts requeues until forget', async () => {
    const q = new RateLimitingQueue<string>(new ItemExponentialFailureRateLimiter<string>(1, 10));
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.numRequeues('a')).to.equal(2);
    expect(await q.get()).to.equal('a');
    q.forget('a');
    expect(q.numRequeues('a')).to.equal(0);
    q.shutDown();
  });

  it('addAfter keeps the earlier deadline when a key is added twice', async () => {
    const q = new RateLimitingQueue<string>(new ItemExponentialFailureRateLimiter<string>(1, 10));
    q.addAfter('a', 3_600_000);
    q.addAfter('a', 1);
    expect(await q.get()).to.equal('a');
    q.shutDown();
  });

  it('addAfter with no delay adds at once; nothing is added after shutdown', async () => {
    const q = new RateLimitingQueue<string>(new ItemExponentialFailureRateLimiter<string>(1, 10));
    q.addAfter('a', 0);
    expect(q.len()).to.equal(1);
    q.addAfter('b', 1);
    q.shutDown();
    await new Promise((r) => setTimeout(r, 5));
    expect(q.len()).to.equal(0);
  });
});
