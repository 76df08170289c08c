import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { credentialRejectionPolicy } from '../../../src/azure/client.ts';
import { ArmError, classifyArmError } from '../../../src/azure/errors.ts';
import { armMetricsPolicy, armOperationName, armRequestCounter } from '../../../src/azure/metrics.ts';
import type { ArmClient, RawResponse } from '../../../src/azure/client.ts';
import { completedHandle, handleFromInitialResponse, pollOperation, requeueAfter, type OperationHandle } from '../../../src/azure/operations.ts';
import { armRetryStrategy, backoffDelayMs, defaultArmRetryOptions } from '../../../src/azure/retry.ts';

const base = 'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute';

function response(status: number, headers: Record<string, string> = {}): PipelineResponse {
  return { status, headers: createHttpHeaders(headers), request: undefined as never };
}

describe('ARM pipeline pieces', () => {
  it('names requests after the SDK operation they belong to', () => {
    expect(armOperationName('GET', `${base}/galleries/g?api-version=1`)).to.equal('galleries.get');
    expect(armOperationName('GET', `${base}/galleries?api-version=1`)).to.equal('galleries.list');
    expect(armOperationName('PUT', `${base}/galleries/g/images/i/versions/1.0.0`)).to.equal('galleryImageVersions.createOrUpdate');
    expect(armOperationName('PATCH', `${base}/galleries/g/images/i/versions/1.0.0`)).to.equal('galleryImageVersions.update');
    expect(armOperationName('DELETE', `${base}/virtualMachines/vm`)).to.equal('virtualMachines.delete');
    expect(armOperationName('GET', 'https://x/subscriptions/s/providers/Microsoft.Compute/locations/westus/capsOperations/1')).to.equal('operations.get');
    expect(armOperationName('GET', 'https://x/subscriptions/s/resourcegroups')).to.equal('resourceGroups.list');
    expect(armOperationName('PUT', 'https://x/subscriptions/s/resourcegroups/labimages-ns?api-version=1')).to.equal('resourceGroups.createOrUpdate');
    expect(armOperationName('DELETE', 'https://x/subscriptions/s/resourcegroups/rg')).to.equal('resourceGroups.delete');
    expect(armOperationName('GET', 'https://x/subscriptions/s/operationresults/ABC?api-version=1')).to.equal('operations.get');
    expect(armOperationName('GET', 'https://x/subscriptions/s/providers/Microsoft.Network/networkInterfaces')).to.equal('other');
  });

  it('waits exactly as long as Retry-After says, unless that is too long to hold a worker', () => {
    const strategy = armRetryStrategy({ ...defaultArmRetryOptions, maxInlineWaitMs: 5000 });
    expect(strategy.retry({ retryCount: 0, response: response(429, { 'retry-after': '2' }) })).to.deep.equal({ retryAfterInMs: 2000 });
    expect(strategy.retry({ retryCount: 0, response: response(429, { 'retry-after': '60' }) })).to.deep.equal({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 0, response: response(400) })).to.deep.equal({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 0, response: response(404) })).to.deep.equal({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 1, response: response(500) }).retryAfterInMs).to.be.a('number');
    expect(strategy.retry({ retryCount: 1, response: response(501) })).to.deep.equal({ skipStrategy: true });
  });

  it('backs off exponentially within the cap', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, options, () => 0)).to.equal(50);
    expect(backoffDelayMs(0, options, () => 1)).to.equal(100);
    expect(backoffDelayMs(2, options, () => 1)).to.equal(400);
    expect(backoffDelayMs(10, options, () => 1)).to.equal(1000);
  });

  it('makes a serializable handle from the first answer of an operation', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] });
    const viaAsync = handleFromInitialResponse('galleries.createOrUpdate', '/g', {
      status: 201,
      headers: headers({ 'azure-asyncoperation': 'https://arm/op/1', 'retry-after': '3' }),
    }, now);
    expect(viaAsync).to.deep.equal({
      operation: 'galleries.createOrUpdate',
      resourceId: '/g',
      pollUrl: 'https://arm/op/1',
      pollVia: 'Azure-AsyncOperation',
      startedAt: '2025-01-01T00:00:00.000Z',
      notBefore: '2025-01-01T00:00:03.000Z',
    });
    expect(JSON.parse(JSON.stringify(viaAsync))).to.deep.equal(viaAsync);
    const viaLocation = handleFromInitialResponse('x.delete', '/g', { status: 202, headers: headers({ location: 'https://arm/op/2' }) }, now);
    expect(viaLocation).to.include({ pollUrl: 'https://arm/op/2', pollVia: 'Location' });
    const synchronous = handleFromInitialResponse('x.createOrUpdate', '/g', { status: 200, headers: headers({}) }, now);
    expect(synchronous.pollUrl).to.equal(undefined);
    expect(completedHandle('x.delete', '/g', now).pollUrl).to.equal(undefined);
  });

  it('follows an operation that gives only a Location: 202 while it runs, 200 or 204 when done, an error status when it failed', async () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const handle: OperationHandle = { operation: 'resourceGroups.delete', resourceId: '/rg', pollUrl: 'https://arm/operationresults/1', pollVia: 'Location', startedAt: '', notBefore: '2024-12-31T00:00:00Z' };
    const answering = (status: number, headers: Record<string, string> = {}, body?: unknown) =>
      ({ subscriptionId: 's', send: async (): Promise<RawResponse> => ({ status, headers: { get: (name: string) => headers[name.toLowerCase()] }, body }) }) as unknown as ArmClient;
    const running = await pollOperation(answering(202, { 'retry-after': '7' }), handle, now);
    expect(running).to.deep.include({ state: 'InProgress', retryAfterMs: 7000 });
    expect(running.state === 'InProgress' && running.handle.notBefore).to.equal('2025-01-01T00:00:07.000Z');
    expect(await pollOperation(answering(200), handle, now)).to.deep.equal({ state: 'Succeeded' });
    expect(await pollOperation(answering(204), handle, now)).to.deep.equal({ state: 'Succeeded' });
    const failed = await pollOperation(answering(400, {}, { error: { code: 'ScopeLocked', message: 'locked' } }), handle, now);
    expect(failed.state === 'Failed' && failed.error).to.include({ code: 'ScopeLocked', statusCode: 400, retryable: false });
    // Throttled or a server error: the poll failed, not the operation.
    const throttled = await pollOperation(answering(429, { 'retry-after': '3' }), handle, now).catch((err: unknown) => err);
    expect(throttled).to.be.instanceOf(ArmError).and.include({ retryable: true, retryAfterMs: 3000 });
    // Before Retry-After, nothing is sent.
    expect(await pollOperation(answering(500), { ...handle, notBefore: '2025-01-01T00:00:02Z' }, now)).to.deep.include({ state: 'InProgress', retryAfterMs: 2000 });
  });

  it('looks at an operation again when ARM says, at least half a second from now', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(requeueAfter({ notBefore: '2025-01-01T00:00:03.000Z' }, now)).to.equal(3000);
    expect(requeueAfter({ notBefore: '2025-01-01T00:00:00.100Z' }, now)).to.equal(500);
    expect(requeueAfter({ notBefore: '2024-12-31T23:59:00.000Z' }, now)).to.equal(500);
  });

  it('tells the credential\'s holder when ARM refuses it (401, 403), and only then', async () => {
    const request = createPipelineRequest({ url: `${base}/galleries`, method: 'GET' });
    for (const [status, told] of [[401, 1], [403, 1], [404, 0], [429, 0], [200, 0]] as const) {
      let rejected = 0;
      const answer = await credentialRejectionPolicy(() => rejected++).sendRequest(request, async () => response(status));
      expect(answer.status).to.equal(status);
      expect(rejected, `HTTP ${status}`).to.equal(told);
    }
  });

  it('counts an attempt its caller cancelled as aborted, and classifies the cancellation as worth another try', async () => {
    const registry = new Registry();
    const policy = armMetricsPolicy(armRequestCounter(registry));
    const abort = new AbortController();
    const request = createPipelineRequest({ url: `${base}/galleries/g`, method: 'GET', abortSignal: abort.signal });
    abort.abort();
    const cancelled = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    const error = await policy.sendRequest(request, async () => Promise.reject(cancelled)).catch((err: unknown) => err);
    expect(error).to.equal(cancelled);
    expect(await registry.metrics()).to.contain('labimages_arm_requests_total{operation="galleries.get",code="aborted"} 1');
    expect(classifyArmError(cancelled)).to.be.instanceOf(ArmError).and.include({ code: 'RequestAborted', retryable: true });
  });
});
