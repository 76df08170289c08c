import { expect } from 'chai';
import { RECONCILE_REQUESTED_AT } from '../../../../src/api/annotations.ts';
import { generationChangedOrRequested, isReconcileRequested, lastHandledReconcileAt } from '../../../../src/controllers/common/reconcile-request.ts';
import { SyncMemo } from '../../../../src/controllers/common/sync-memo.ts';

const at = '2026-01-01T00:00:00.000Z';
const object = (annotation?: string, handled?: string, generation = 1) => ({
  metadata: { name: 'x', namespace: 'ns', uid: 'u', generation, ...(annotation ? { annotations: { [RECONCILE_REQUESTED_AT]: annotation } } : {}) },
  ...(handled ? { status: { lastHandledReconcileAt: handled } } : {}),
});

describe('reconcile on demand (labimages.io/requestedAt)', function () {
  it('lets through an update that sets or changes the annotation, besides spec changes; not one of status or labels alone', () => {
    expect(generationChangedOrRequested(object(), object(at))).to.equal(true);
    expect(generationChangedOrRequested(object(at), object('2026-01-01T00:00:01.000Z'))).to.equal(true);
    expect(generationChangedOrRequested(object(), object(undefined, undefined, 2))).to.equal(true);
    expect(generationChangedOrRequested(object(at), object(at, at))).to.equal(false);
    expect(generationChangedOrRequested(object(), { ...object(), metadata: { ...object().metadata, labels: { a: 'b' } } })).to.equal(false);
  });

  it('is pending until status echoes the value, and the echo keeps the last value once the annotation goes', () => {
    expect(isReconcileRequested(object())).to.equal(false);
    expect(isReconcileRequested(object(at))).to.equal(true);
    expect(isReconcileRequested(object(at, '2025-12-31T00:00:00.000Z'))).to.equal(true);
    expect(isReconcileRequested(object(at, at))).to.equal(false);
    expect(lastHandledReconcileAt(object(at))).to.deep.equal({ lastHandledReconcileAt: at });
    expect(lastHandledReconcileAt(object(undefined, at))).to.deep.equal({ lastHandledReconcileAt: at });
    expect(lastHandledReconcileAt(object())).to.deep.equal({});
  });

  it('makes a read the sync memo would skip due at once', () => {
    const memo = new SyncMemo(600_000);
    memo.remember(object(), 'f', 0);
    expect(memo.dueIn(object(), () => 'f', 1000)).to.equal(599_000);
    expect(memo.dueIn(object(at), () => 'f', 1000)).to.equal(0);
    expect(memo.dueIn(object(at, at), () => 'f', 1000)).to.equal(599_000);
  });
});
