import { RestError, createHttpHeaders } from '@azure/core-rest-pipeline';
import { expect } from 'chai';
import { ArmError, armErrorFromBody, classifyArmError, parseRetryAfter } from '../../../src/azure/errors.ts';

function restError(status: number, code: string | undefined, headers: Record<string, string> = {}): RestError {
  return new RestError(`ARM said ${code ?? status}`, {
    statusCode: status,
    ...(code ? { code } : {}),
    response: { status, headers: createHttpHeaders(headers), request: undefined as never },
  });
}

describe('ARM error classification', () => {
  it('retries throttling, server errors and conflicts, keeping the ARM code', () => {
    const throttled = classifyArmError(restError(429, 'OperationNotAllowed', { 'retry-after': '7' }));
    expect(throttled).to.include({ code: 'OperationNotAllowed', statusCode: 429, retryable: true, retryAfterMs: 7000 });
    expect(classifyArmError(restError(500, 'InternalExecutionError')).retryable).to.equal(true);
    expect(classifyArmError(restError(503, undefined))).to.include({ code: 'Http503', retryable: true });
    expect(classifyArmError(restError(409, 'Conflict')).retryable).to.equal(true);
  });

  it('does not retry what only a change of input can fix', () => {
    for (const [status, code] of [
      [400, 'InvalidParameter'],
      [400, 'PropertyChangeNotAllowed'],
      [404, 'ParentResourceNotFound'],
      [404, 'GalleryImageNotFound'],
      [400, 'NoRegisteredProviderFound'],
    ] as const) {
      const error = classifyArmError(restError(status, code));
      expect(error, code).to.include({ code, statusCode: status, retryable: false });
      expect(error.message).to.equal(`ARM said ${code}`);
    }
  });

  it('treats network failures as transient and anything else as terminal', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyArmError(refused)).to.include({ code: 'ECONNREFUSED', retryable: true });
    expect(classifyArmError(new Error('boom'))).to.include({ code: 'UnknownError', retryable: false });
    const armError = new ArmError({ code: 'X', message: 'y', retryable: false });
    expect(classifyArmError(armError)).to.equal(armError);
  });

  it('classifies a failed operation body by its code', () => {
    expect(armErrorFromBody(undefined, { code: 'InternalExecutionError', message: 'later' }).retryable).to.equal(true);
    expect(armErrorFromBody(undefined, { code: 'InvalidParameter', message: 'no' })).to.include({ retryable: false, statusCode: undefined });
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3')).to.equal(3000);
    expect(parseRetryAfter('0')).to.equal(0);
    expect(parseRetryAfter(undefined)).to.equal(undefined);
    expect(parseRetryAfter('soon')).to.equal(undefined);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).to.equal(10_000);
  });
});
