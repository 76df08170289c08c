// What the reconciler tables share: objects in the shape the API server returns, and a verdict
// that names what status says in one word.
import { expect } from 'chai';
import type { Condition, Result } from '../../../src/runtime/index.ts';
import type { FakeGallery } from '../fakes/gallery.ts';

export const NS = 'ns';
export const RECHECK_MS = 30_000;
export const SYNC_PERIOD_MS = 600_000;

export const readyCondition = (status: 'True' | 'False' = 'True'): Condition[] => [
  { type: 'Ready', status, reason: 'Test', message: 'set by the test', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 },
];

/** What status says: `Stalled/<reason>`, `Reconciling/<reason>`, `Ready/<reason>`, `NotReady/<reason>`, or `none`. */
export function verdict(obj: { status?: { conditions?: readonly object[] } } | undefined): string {
  const conditions = (obj?.status?.conditions ?? []) as Condition[];
  const isTrue = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const stalled = isTrue('Stalled');
  if (stalled) return `Stalled/${stalled.reason}`;
  const reconciling = isTrue('Reconciling');
  if (reconciling) return `Reconciling/${reconciling.reason}`;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return 'none';
  return `${ready.status === 'True' ? 'Ready' : 'NotReady'}/${ready.reason}`;
}

/** The message of the Stalled condition, when there is one. */
export function stalledMessage(obj: { status?: { conditions?: readonly object[] } } | undefined): string | undefined {
  return ((obj?.status?.conditions ?? []) as Condition[]).find((c) => c.type === 'Stalled' && c.status === 'True')?.message;
}

/** Runs `fn` with Date.now() answering `at`: a pass some time from now, without waiting for it. */
export async function atTime<T>(at: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => at;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

/** A requeue within 50 ms of what a case expects (Retry-After counts from when the operation started). */
export function sameResult(actual: Result, expected: Result): boolean {
  if (expected.requeueAfter === undefined) return JSON.stringify(actual) === JSON.stringify(expected);
  return actual.requeue === expected.requeue && actual.requeueAfter !== undefined && Math.abs(actual.requeueAfter - expected.requeueAfter) <= 50;
}

/** What a table needs of a test world: one reconcile of its object, the object as the cache has it, and the fake gallery. */
export interface TableWorld {
  reconcile(): Promise<Result>;
  readonly object: { status?: { conditions?: readonly object[]; phase?: string } } | undefined;
  readonly gallery: FakeGallery;
}

/** One row: a world set up beyond its defaults, one reconcile, and what should follow. */
export interface ReconcilerCase<W> {
  it: string;
  given?(w: W): void | Promise<void>;
  result: Result;
  verdict: string;
  phase?: string;
  /** The ARM mutations (and polls) the reconcile made, in order. */
  mutations?: string[];
  then?(w: W): void;
}

export function table<W extends TableWorld>(title: string, cases: ReconcilerCase<W>[], world: () => W): void {
  describe(title, function () {
    for (const c of cases) {
      it(c.it, async function () {
        const w = world();
        await c.given?.(w);
        const result = await w.reconcile();
        expect(sameResult(result, c.result), `result ${JSON.stringify(result)}`).to.equal(true);
        expect(verdict(w.object)).to.equal(c.verdict);
        if (c.phase) expect(w.object?.status?.phase).to.equal(c.phase);
        if (c.mutations) expect(w.gallery.mutations()).to.deep.equal(c.mutations);
        c.then?.(w);
      });
    }
  });
}
