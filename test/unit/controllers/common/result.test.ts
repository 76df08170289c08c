import { expect } from 'chai';
import { ArmError } from '../../../../src/azure/index.ts';
import { RELEASED, progressing, ready, stalled, type Outcome } from '../../../../src/controllers/common/outcome.ts';
import { armReason, finalizeResult, type Ending, type Settled } from '../../../../src/controllers/common/result.ts';
import { SECRET_DEADLINE_MS, STALLED_REASONS, StalledError, isRechecked } from '../../../../src/controllers/common/stalled.ts';

const RECHECK_MS = 1000;
const settle = (ending: Ending<unknown>, aborted = false): Settled<unknown> => finalizeResult(ending, { stalledRecheckMs: RECHECK_MS, aborted });
const thrown = (error: unknown, aborted = false) => settle({ error }, aborted);
const returned = (outcome: Outcome | typeof RELEASED) => settle({ outcome });
const arm = (init: Partial<ConstructorParameters<typeof ArmError>[0]>) => new ArmError({ code: 'Http500', message: 'm', retryable: false, ...init });

describe('the result finalizer', function () {
  describe('a returned outcome', function () {
    const cases: { what: string; outcome: Outcome | typeof RELEASED; result: object; released?: true }[] = [
      { what: 'shows Ready, looking again when it asks', outcome: ready('Done', 'ok', { requeueAfter: 600_000 }), result: { requeueAfter: 600_000 } },
      { what: 'waits for an event when it asks for no requeue', outcome: progressing('AccountNotFound', 'wait'), result: {} },
      { what: 'leaves a Stalled cause in a watched spec to its event', outcome: stalled('RegionOutsideGeography', 'fix spec'), result: {} },
      { what: 'looks again at a Stalled cause in a Secret', outcome: stalled('CredentialsNotFound', 'create the Secret'), result: { requeueAfter: RECHECK_MS } },
      { what: 'looks again at a Stalled cause in Azure', outcome: stalled('GalleryNotFound', 'create it'), result: { requeueAfter: RECHECK_MS } },
      { what: 'releases a finished deletion', outcome: RELEASED, result: {}, released: true },
    ];
    for (const c of cases) {
      it(c.what, function () {
        const settled = returned(c.outcome);
        expect(settled.result).to.deep.equal(c.result);
        expect(settled.released).to.equal(c.released);
        if (c.outcome !== RELEASED) expect(settled.outcome).to.equal(c.outcome);
      });
    }
  });

  describe('a Secret the object names, missing', function () {
    const age = (ageMs: number | undefined, ending: Ending<unknown>) => finalizeResult(ending, { stalledRecheckMs: 30_000, aborted: false, ...(ageMs === undefined ? {} : { ageMs }) });

    it('is waited for (Reconciling, looked for every 2 s) within a minute of the object\'s creation: a sync creates both, in any order', function () {
      for (const ending of [{ error: new StalledError('AdminPasswordSecretNotFound', 'create it') }, { outcome: stalled('CredentialsNotFound', 'create it') }]) {
        const settled = age(5_000, ending);
        expect(settled.outcome).to.include({ state: 'retrying' });
        expect(settled.outcome?.message).to.match(/^create it \(waiting for it until 60 s after this object was created/);
        expect(settled.result).to.deep.equal({ requeueAfter: 2000 });
      }
    });

    it('Stalls once the deadline has passed, or when the object\'s age is unknown; other causes Stall at once', function () {
      expect(age(SECRET_DEADLINE_MS, { error: new StalledError('AdminPasswordSecretNotFound', 'create it') }).outcome?.state).to.equal('stalled');
      expect(age(undefined, { error: new StalledError('AdminPasswordKeyNotFound', 'add it') }).outcome?.state).to.equal('stalled');
      expect(age(1_000, { error: new StalledError('ImageTooLarge', 'smaller') }).outcome?.state).to.equal('stalled');
    });
  });

  describe('a thrown error', function () {
    it('Stalls on a StalledError, rechecked as its reason says', function () {
      expect(thrown(new StalledError('AdminPasswordSecretNotFound', 'create it'))).to.deep.equal({
        outcome: { state: 'stalled', reason: 'AdminPasswordSecretNotFound', message: 'create it' },
        result: { requeueAfter: RECHECK_MS },
      });
      expect(thrown(new StalledError('VersionInUse', 'choose another')).result).to.deep.equal({});
    });

    it('Stalls a terminal ARM error with its code, the HTTP status in the message, and looks again', function () {
      const settled = thrown(arm({ code: 'InvalidParameter', message: 'bad', statusCode: 400 }));
      expect(settled.outcome).to.include({ state: 'stalled', reason: 'InvalidParameter' });
      expect(settled.outcome?.message).to.contain('HTTP 400').and.contain('bad');
      expect(settled.result).to.deep.equal({ requeueAfter: RECHECK_MS });
    });

    it('turns a code unfit for a condition reason into ArmError', function () {
      expect(armReason(arm({ code: 'Some.Code' }))).to.equal('ArmError');
      expect(armReason(arm({ code: 'ECONNRESET', retryable: true }))).to.equal('ECONNRESET');
      expect(thrown(arm({ code: 'Some.Code', statusCode: 400 })).outcome?.reason).to.equal('ArmError');
    });

    it('Stalls CredentialsRejected when Azure refuses who we are or what we may do, and looks again', function () {
      for (const statusCode of [401, 403]) {
        const settled = thrown(arm({ code: 'AuthorizationFailed', statusCode, message: 'no role assignment' }));
        expect(settled.outcome).to.include({ state: 'stalled', reason: 'CredentialsRejected' });
        expect(settled.outcome?.message).to.contain('AuthorizationFailed').and.contain('no role assignment');
        expect(settled.result).to.deep.equal({ requeueAfter: RECHECK_MS });
      }
      const noToken = thrown(arm({ code: 'AuthenticationError', statusCode: 401, message: 'invalid_client: AADSTS7000215', fromIdentity: true }));
      expect(noToken.outcome).to.include({ reason: 'CredentialsRejected' });
      expect(noToken.outcome?.message).to.contain('Microsoft Entra ID answered AuthenticationError (HTTP 401): invalid_client: AADSTS7000215');
    });

    it('leaves status alone on a transient ARM error, and comes back when ARM says or with the queue\'s backoff', function () {
      const throttled = thrown(arm({ code: 'TooManyRequests', statusCode: 429, retryable: true, retryAfterMs: 7000 }));
      expect(throttled).to.include.keys('note');
      expect(throttled.outcome).to.equal(undefined);
      expect(throttled.result).to.deep.equal({ requeueAfter: 7000 });
      expect(thrown(arm({ code: 'TooManyRequests', statusCode: 429, retryable: true, retryAfterMs: 0 })).result).to.deep.equal({ requeueAfter: 500 });
      const down = thrown(arm({ code: 'Http503', statusCode: 503, retryable: true }));
      expect(down.outcome).to.equal(undefined);
      expect(down.result).to.deep.equal({ requeue: true });
    });

    it('writes nothing for a pass its signal cut short, whatever the error says', function () {
      const settled = thrown(arm({ code: 'InvalidParameter', statusCode: 400 }), true);
      expect(settled.outcome).to.equal(undefined);
      expect(settled.result).to.deep.equal({ requeue: true });
    });

    it('rethrows what is not its to judge', function () {
      const bug = new TypeError('undefined is not a function');
      expect(thrown(bug)).to.deep.equal({ result: {}, rethrow: bug });
    });
  });

  it('rechecks exactly the Stalled reasons whose cause no event reports: a Secret or Azure', function () {
    for (const [reason, cause] of Object.entries(STALLED_REASONS)) expect(isRechecked(reason), reason).to.equal(cause === 'secret' || cause === 'azure');
    expect(isRechecked('PlatformImageNotFound')).to.equal(true);
  });
});
