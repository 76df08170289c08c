import { expect } from 'chai';
import { Conditions, metaTime } from '../../../src/runtime/conditions.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('conditions (kstatus contract)', () => {
  it('stamps lastTransitionTime and observedGeneration on a new condition, in metav1.Time format', () => {
    const [c] = new Conditions(undefined, 3, t0).markTrue('Exported', 'VersionCreated', 'created 1.0.0').list();
    expect(c).to.deep.equal({ type: 'Exported', status: 'True', reason: 'VersionCreated', message: 'created 1.0.0', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 });
  });

  it('moves lastTransitionTime only when status changes', () => {
    const first = new Conditions(undefined, 1, t0).markFalse('Ready', 'Waiting', 'a').list();
    const sameStatus = new Conditions(first, 2, t1).markFalse('Ready', 'OtherReason', 'b').list();
    expect(sameStatus[0]!.lastTransitionTime).to.equal(metaTime(t0));
    expect(sameStatus[0]!.observedGeneration).to.equal(2);
    expect(sameStatus[0]!.reason).to.equal('OtherReason');
    const flipped = new Conditions(sameStatus, 2, t1).markTrue('Ready', 'Succeeded', 'ok').list();
    expect(flipped[0]!.lastTransitionTime).to.equal(metaTime(t1));
  });

  it('recomputing an unchanged state gives a deep-equal list (so no status write)', () => {
    const before = new Conditions(undefined, 1, t0).markTrue('Exported', 'Done', 'x').ready('Succeeded', 'ok').list();
    const after = new Conditions(before, 1, t1).markTrue('Exported', 'Done', 'x').ready('Succeeded', 'ok').list();
    expect(after).to.deep.equal(before);
  });

  it('keeps Reconciling and Stalled only while True, and mutually exclusive', () => {
    const c = new Conditions(undefined, 1, t0).reconciling('Progressing', 'exporting');
    expect(c.get('Reconciling')?.status).to.equal('True');
    expect(c.get('Ready')?.status).to.equal('Unknown');
    c.stalled('SecretMissing', 'create Secret labs-sp');
    expect(c.get('Reconciling')).to.equal(undefined);
    expect(c.get('Stalled')?.status).to.equal('True');
    expect(c.get('Ready')).to.include({ status: 'False', reason: 'SecretMissing' });
    c.retrying('ArmThrottled', 'retrying');
    expect(c.get('Stalled')).to.equal(undefined);
    expect(c.get('Reconciling')?.status).to.equal('True');
    expect(c.get('Ready')?.status).to.equal('False');
    c.ready('Succeeded', 'done');
    expect(c.list().map((x) => x.type)).to.deep.equal(['Ready']);
    expect(c.isTrue('Ready')).to.equal(true);
  });

  it('refuses reasons that are not CamelCase and invalid types', () => {
    const c = new Conditions(undefined, 1);
    expect(() => c.markTrue('Ready', 'not camel case', '')).to.throw(/CamelCase/);
    expect(() => c.markTrue('Ready', '', '')).to.throw(/CamelCase/);
    expect(() => c.markTrue('bad type!', 'Ok', '')).to.throw(/type/);
    expect(() => c.markTrue('labimages.io/Replicated', 'Ok', '')).not.to.throw();
  });

  it('does not share objects with the list it started from', () => {
    const before = new Conditions(undefined, 1, t0).markTrue('Ready', 'Ok', 'x').list();
    new Conditions(before, 2, t1).markFalse('Ready', 'Broken', 'y');
    expect(before[0]!.status).to.equal('True');
  });
});
