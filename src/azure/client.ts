import { ComputeManagementClient } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/core-auth';
import { RestError, createDefaultHttpClient, createPipelineRequest, type HttpClient, type PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Registry } from 'prom-client';
import { armBudgetPolicy, type ArmBudget } from './budget.ts';
import { armScopeOf, azureCloud } from './clouds.ts';
import { deadline } from './deadline.ts';
import { REQUEST_TIMEOUT_CODE, classifyArmError, isIdentityRejection } from './errors.ts';
import { armMetricsPolicy, armPacingCounter, armRequestCounter } from './metrics.ts';
import { armRetryPolicy, defaultArmRetryOptions, type ArmRetryOptions } from './retry.ts';

/** How long one ARM request may take before the client gives up on it (`--arm-request-timeout`). */
export const DEFAULT_ARM_REQUEST_TIMEOUT_MS = 30_000;

export interface ArmClientConfig {
  subscriptionId: string;
  credential: TokenCredential;
  /** Default: public Azure's Resource Manager. */
  endpoint?: string;
  /** What tokens are asked for; default: the endpoint's audience (the SDK would ask for public Azure's whatever the endpoint). */
  scope?: string;
  /** PEM of the only CA to trust (the emulator's); default: the system's roots. */
  caPem?: string;
  /** Per request (each attempt of a call): a request without an answer by then fails as RequestTimeout. Default DEFAULT_ARM_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
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
  /**
   * The SDK client for another subscription, with the same credential and pipeline: for an ARM id
   * that names one (a source VM elsewhere), used as given rather than re-rooted in ours.
   */
  computeIn(subscriptionId: string): ComputeManagementClient;
  /** `url` absolute, or a path on the client's endpoint; a failure to get an answer is thrown as an ArmError. */
  send(method: 'GET' | 'PUT' | 'DELETE', url: string, options?: { body?: unknown; signal?: AbortSignal }): Promise<RawResponse>;
}

export function createArmClient(config: ArmClientConfig): ArmClient {
  const httpClient: HttpClient = createDefaultHttpClient();
  const endpoint = config.endpoint ?? azureCloud().armEndpoint;
  const newCompute = (subscriptionId: string) => {
    const credential = config.onCredentialRejected ? reportingRejections(config.credential, config.onCredentialRejected) : config.credential;
    const client = new ComputeManagementClient(credential, subscriptionId, {
      endpoint,
      credentials: { scopes: [config.scope ?? armScopeOf(endpoint)] },
      httpClient,
      ...(config.caPem ? { tlsOptions: { ca: config.caPem } } : {}),
    });
    // Our retry replaces the SDK's default so a long Retry-After is handed to the caller, not slept on.
    client.pipeline.removePolicy({ name: 'defaultRetryPolicy' });
    client.pipeline.addPolicy(armRetryPolicy({ ...defaultArmRetryOptions, ...config.retry }), { phase: 'Retry' });
    // Inside the retries: each attempt has a timeout of its own (the token has its own, credentials.ts).
    client.pipeline.addPolicy(requestTimeoutPolicy(config.requestTimeoutMs ?? DEFAULT_ARM_REQUEST_TIMEOUT_MS), { afterPhase: 'Retry' });
    if (config.onCredentialRejected) client.pipeline.addPolicy(credentialRejectionPolicy(config.onCredentialRejected), { afterPhase: 'Retry' });
    // After Sign, where the bearer token says whose budget a request spends; metrics after pacing, so
    // that what they count is what reached the wire.
    if (config.budget) client.pipeline.addPolicy(armBudgetPolicy(config.budget, armPacingCounter(config.registry)), { afterPhase: 'Sign' });
    client.pipeline.addPolicy(armMetricsPolicy(armRequestCounter(config.registry)), { afterPhase: 'Sign' });
    return client;
  };
  const compute = newCompute(config.subscriptionId);
  const others = new Map<string, ComputeManagementClient>();

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
  return {
    compute,
    subscriptionId: config.subscriptionId,
    computeIn(subscriptionId) {
      if (subscriptionId.toLowerCase() === config.subscriptionId.toLowerCase()) return compute;
      let other = others.get(subscriptionId.toLowerCase());
      if (!other) others.set(subscriptionId.toLowerCase(), (other = newCompute(subscriptionId)));
      return other;
    },
    send,
  };
}

/**
 * Tells whoever holds this client that ARM refused its credentials (401) or their rights (403), on
 * any request of any call, so the holder drops what it cached (a Secret's values, a token) and
 * builds afresh next time: a corrected Secret or a new role assignment then takes effect.
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

/**
 * The same news from Microsoft Entra ID: no token (a wrong or expired secret, an unknown client).
 * The SDK's bearer policy asks for tokens before any policy of ours sees the request, so the
 * credential itself reports it.
 */
export function reportingRejections(credential: TokenCredential, onRejected: () => void): TokenCredential {
  return {
    async getToken(scopes, options) {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        if (isIdentityRejection(error)) onRejected();
        throw error;
      }
    },
  };
}

/**
 * Gives up on a request (its token and its answer) after `timeoutMs`, as a RequestTimeout error the
 * retry policy does not retry: a hung request hands its worker back, and the key comes back
 * through the queue, instead of holding the worker for every retry's timeout in turn. The
 * caller's own signal still cancels it sooner.
 */
export function requestTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'labimagesRequestTimeoutPolicy',
    async sendRequest(request, next) {
      const caller = request.abortSignal;
      const limit = deadline(caller, timeoutMs);
      request.abortSignal = limit.signal;
      try {
        return await next(request);
      } catch (error) {
        if (limit.expired) throw new RestError(`no answer from ARM within ${timeoutMs} ms`, { code: REQUEST_TIMEOUT_CODE, request });
        throw error;
      } finally {
        limit.dispose();
        // The request object is sent again by the retry policy: each attempt gets a limit of its own.
        request.abortSignal = caller;
      }
    },
  };
}
