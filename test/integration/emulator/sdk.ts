// The real SDK against an emulator, with nothing of the operator's in between: tests of what ARM
// does (not of what the operator does with it) use this.
import { ComputeManagementClient } from '@azure/arm-compute';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createDefaultHttpClient, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { defaultToken } from '../../../src/emulator/index.ts';
import { subscriptionId, type Target } from './helpers.ts';

export function staticToken(token = defaultToken): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

export interface Sdk {
  compute: ComputeManagementClient;
  /** A request the SDK has no operation for (resource groups, NICs), through the same pipeline: auth, TLS, retries off. */
  send(method: string, path: string, body?: unknown): Promise<PipelineResponse & { json: unknown }>;
}

/** The SDK as a client would build it for this emulator; retries off, so every answer is seen. */
export function sdkFor(target: Target, credential: TokenCredential = staticToken(), subscription = subscriptionId): Sdk {
  const httpClient = createDefaultHttpClient();
  const compute = new ComputeManagementClient(credential, subscription, {
    endpoint: target.url,
    httpClient,
    tlsOptions: { ca: target.caPem },
    retryOptions: { maxRetries: 0 },
  });
  return {
    compute,
    async send(method, path, body) {
      const request = createPipelineRequest({ url: `${target.url}${path}`, method: method as 'GET', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (body !== undefined) request.headers.set('Content-Type', 'application/json');
      const response = await compute.pipeline.sendRequest(httpClient, request);
      return { ...response, json: response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined };
    },
  };
}

/** An error the SDK threw, as ARM described it. */
export async function refusal(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  throw new Error('expected ARM to refuse the request');
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export const marketplaceUbuntu = { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' };
