import { expect } from 'chai';
import fc from 'fast-check';
import { ApiException } from '@kubernetes/client-node';
import { parseDuration } from '../../../src/runtime/duration.ts';
import { apiStatus, isAlreadyExists, isConflict, isNotFound } from '../../../src/runtime/errors.ts';
import { createMergePatch } from '../../../src/runtime/mergepatch.ts';
import { parseBindAddress } from '../../../src/runtime/server.ts';

// RFC 7386's apply, to check that the patch turns `from` into `to`.
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out = new Map<string, unknown>(typeof target === 'object' && target !== null && !Array.isArray(target) ? Object.entries(target) : []);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) out.delete(k);
    else out.set(k, applyMergePatch(out.get(k), v));
  }
  return Object.fromEntries(out);
}

describe('merge patch', () => {
  it('is undefined when nothing changed, and holds only the difference otherwise', () => {
    expect(createMergePatch({ a: 1, b: [1, 2], c: { d: 'x' } }, { c: { d: 'x' }, b: [1, 2], a: 1 })).to.equal(undefined);
    expect(createMergePatch({ a: 1, b: { c: 2, d: 3 }, e: 5 }, { a: 1, b: { c: 4, d: 3 } })).to.deep.equal({ b: { c: 4 }, e: null });
    expect(createMergePatch({ list: [1, 2] }, { list: [1] })).to.deep.equal({ list: [1] });
  });

  it('applied to `from` gives `to` (property, null-free JSON)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
      object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('value'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(json.object, json.object, (from, to) => {
        const patch = createMergePatch(from, to);
        expect(patch === undefined ? from : applyMergePatch(from, patch)).to.deep.equal(to);
      }),
    );
  });
});

describe('API errors', () => {
  it('reads the Status reason from a custom object error, whose body is a string', () => {
    const body = JSON.stringify({ kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
    const err = new ApiException(409, 'Unsuccessful HTTP Request', body, {});
    expect(apiStatus(err)).to.deep.equal({ code: 409, reason: 'Conflict', message: 'the object has been modified' });
    expect(isConflict(err)).to.equal(true);
  });

  it('reads a parsed body too, and tells AlreadyExists from a conflict', () => {
    const err = new ApiException(409, 'x', { reason: 'AlreadyExists', message: 'exists' }, {});
    expect(isAlreadyExists(err)).to.equal(true);
    expect(isConflict(err)).to.equal(false);
    expect(isNotFound(new ApiException(404, 'x', 'not json', {}))).to.equal(true);
    expect(apiStatus(new Error('plain'))).to.equal(undefined);
  });
});

describe('flags', () => {
  it('parses Go durations', () => {
    expect(parseDuration('10m')).to.equal(600_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('1.5s')).to.equal(1500);
    expect(() => parseDuration('10')).to.throw(/invalid duration/);
    expect(() => parseDuration('10m junk')).to.throw(/invalid duration/);
  });

  it('parses bind addresses as controller-runtime takes them', () => {
    expect(parseBindAddress(':8080')).to.deep.equal({ host: undefined, port: 8080 });
    expect(parseBindAddress('127.0.0.1:0')).to.deep.equal({ host: '127.0.0.1', port: 0 });
    expect(parseBindAddress('[::1]:8081')).to.deep.equal({ host: '::1', port: 8081 });
    expect(parseBindAddress('0')).to.equal(undefined);
    expect(() => parseBindAddress('8080')).to.throw(/invalid bind address/);
  });
});
