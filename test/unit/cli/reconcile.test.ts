import { expect } from 'chai';
import { waitUntilHandled, type Reconcilable } from '../../../src/cli/commands/reconcile.ts';

const requestedAt = '2026-01-01T00:00:00.000Z';

function exportHandled(at?: string): Reconcilable {
  return { apiVersion: 'labimages.io/v1alpha1', kind: 'ImageExport', metadata: { name: 'cs101-v1' }, status: at ? { lastHandledReconcileAt: at } : {} };
}

describe('cli: reconcile --wait', () => {
  it('returns the object once status.lastHandledReconcileAt echoes the request', async () => {
    const seen = [exportHandled(), exportHandled('2025-12-31T23:00:00.000Z'), exportHandled(requestedAt)];
    let reads = 0;
    const obj = await waitUntilHandled(async () => seen[Math.min(reads++, seen.length - 1)], requestedAt, { timeoutMs: 5000, pollMs: 1, what: 'imageexport/cs101-v1' });
    expect(obj.status?.lastHandledReconcileAt).to.equal(requestedAt);
    expect(reads).to.equal(3);
  });

  it('times out saying what it saw and that the operator may not support the annotation', async () => {
    const error = await waitUntilHandled(async () => exportHandled(), requestedAt, { timeoutMs: 20, pollMs: 5, what: 'imageexport/cs101-v1' }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.match(/timed out after 0 s .* status\.lastHandledReconcileAt is unset \(an operator that does not support labimages\.io\/requestedAt never sets it\)/);
  });

  it('fails when the object is deleted meanwhile', async () => {
    const error = await waitUntilHandled(async () => undefined, requestedAt, { timeoutMs: 1000, what: 'imageexport/cs101-v1' }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.equal('imageexport/cs101-v1 is gone');
  });
});
