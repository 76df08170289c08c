import { ComputeManagementClient } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/core-auth';
import { createDefaultHttpClient, createPipelineRequest, type HttpClient, type PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Registry } from 'prom-client';
import { armBudgetPolicy, type ArmBudget } from './budget.ts';
import { classifyArmError } from './errors.ts';
import { armMetricsPolicy, armPacingCounter, armRequestCounter } from './metrics.ts';
import { armRetryPolicy, defaultArmRetryOptions, type ArmRetryOptions } from './retry.ts';

export interface ArmClientConfig {
  subscriptionId: string;
  credential: TokenCredential;
  /** Default: public Azure's Resource Manager. */
  endpoint?: string;
  /** PEM of the only CA to trust (the emulator's); default: the system's roots. */
  caPem?: string;
  /** Where `labimages_arm_requests_total` lives; default: prom-client's default registry. */
  registry?: Registry;
  retry?: Partial<ArmRetryOptions>;
  /** Called when ARM answers 401 or 403: who we are, or what we may do, was refused (see credentialRejectionPolicy). */
  onCredentialRejected?: () => void;
  /** ARM's budget, shared by the clients of one operator: every request is paced to it. Absent: no pacing. */
  budget?: ArmBudget;
}

export interface RawResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  body: unknown;
}

/** The SDK client plus raw requests through the same pipeline (auth, retries, metrics, TLS). */
export interface ArmClient {
  readonly compute: ComputeManagementClient;
  readonly subscriptionId: string;
  /** `url` absolute, or a path on the client's endpoint; a failure to get an answer is thrown as an ArmError. */
  send(method: 'GET' | 'PUT' | 'DELETE', url: string, options?: { body?: unknown; signal?: AbortSignal }): Promise<RawResponse>;
}

export const azureEndpoint = 'https://management.azure.com';

export function createArmClient(config: ArmClientConfig): ArmClient {
  const httpClient: HttpClient = createDefaultHttpClient();
  const endpoint = config.endpoint ?? azureEndpoint;
  const compute = new ComputeManagementClient(config.credential, config.subscriptionId, {
    endpoint,
    httpClient,
    ...(config.caPem ? { tlsOptions: { ca: config.caPem } } : {}),
  });
  // Our retry replaces the SDK's default so a long Retry-After is handed to the caller, not slept on.
  compute.pipeline.removePolicy({ name: 'defaultRetryPolicy' });
  compute.pipeline.addPolicy(armRetryPolicy({ ...defaultArmRetryOptions, ...config.retry }), { phase: 'Retry' });
  // After Sign, where the bearer token says whose budget a request spends; metrics after pacing, so
  // that what they count is what reached the wire.
  if (config.budget) compute.pipeline.addPolicy(armBudgetPolicy(config.budget, armPacingCounter(config.registry)), { afterPhase: 'Sign' });
  compute.pipeline.addPolicy(armMetricsPolicy(armRequestCounter(config.registry)), { afterPhase: 'Sign' });
  if (config.onCredentialRejected) compute.pipeline.addPolicy(credentialRejectionPolicy(config.onCredentialRejected), { afterPhase: 'Retry' });

  const send: ArmClient['send'] = async (method, url, { body, signal } = {}) => {
    const request = createPipelineRequest({
      url: new URL(url, endpoint).toString(),
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { abortSignal: signal } : {}),
    });
    if (body !== undefined) request.headers.set('Content-Type', 'application/json');
    let response;
    try {
      response = await compute.pipeline.sendRequest(httpClient, request);
    } catch (error) {
      throw classifyArmError(error);
    }
    const text = response.bodyAsText ?? '';
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: { get: (name) => response.headers.get(name) }, body: parsed };
  };
  return { compute, subscriptionId: config.subscriptionId, send };
}

/**
 * Tells whoever holds this client that ARM refused its credentials (401) or their rights (403), on
 * any request of any call, so the holder drops what it cached (a Secret's values, a token) and
 * builds afresh next time: a rotated Secret or a new role assignment then takes effect.
 */
export function credentialRejectionPolicy(onRejected: () => void): PipelinePolicy {
  return {
    name: 'labimagesCredentialRejectionPolicy',
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status === 401 || response.status === 403) onRejected();
      return response;
    },
  };
}
