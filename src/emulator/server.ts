import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import type { ArmAnswer } from './arm.ts';
import { CloudError } from './cloud-error.ts';
import { ArmDispatcher } from './dispatch.ts';
import { mergeFaults, takeRequestFault, type Faults } from './faults.ts';
import { parseResourcePath, routeName } from './routes.ts';
import { StateStore } from './state.ts';
import { emulatorTls } from './tls.ts';

export interface EmulatorOptions {
  /** 0 (the default) = any free port. */
  port?: number;
  /** Default 127.0.0.1: the emulator accepts any token, so it listens on loopback unless told otherwise. */
  host?: string;
  /** Without one, state lives in memory and the CA is not written out. */
  stateFile?: string;
  /** Time one region takes to replicate. */
  replicationSeconds: number;
  /** Time a PUT, PATCH or DELETE stays in progress; default 1. */
  operationSeconds?: number;
  /** Regions of one version replicating at once; default 3. */
  replicationConcurrency?: number;
  /** Items per list page; default 100. */
  pageSize?: number;
  /** Faults to start with (the `--faults` file's content). */
  faults?: unknown;
  log?: Logger;
  /** Milliseconds since the epoch; tests pass their own clock. */
  clock?: () => number;
}

export interface RunningEmulator {
  /** `https://127.0.0.1:PORT`: the ARM endpoint to give @azure/arm-compute. */
  url: string;
  port: number;
  caPem: string;
  caFile?: string;
  stop(): Promise<void>;
}

export interface RequestCounts {
  total: number;
  byMethod: Record<string, number>;
  byRoute: Record<string, number>;
}

const maxBodyBytes = 4 * 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new CloudError(413, 'RequestEntityTooLarge', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CloudError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

function send(response: ServerResponse, answer: ArmAnswer): void {
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID(), ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const payload = JSON.stringify(answer.body);
  response.writeHead(answer.status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) }).end(payload);
}

function errorAnswer(error: CloudError): ArmAnswer {
  return { status: error.status, headers: error.headers, body: error.body() };
}

function throttled(retryAfterSeconds: number): CloudError {
  const message = 'The server rejected the request because too many requests have been received for this subscription.';
  return new CloudError(429, 'OperationNotAllowed', message, {
    details: [{ code: 'TooManyRequests', target: 'HighCostGet', message }],
    headers: { 'Retry-After': String(retryAfterSeconds), 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/HighCostGet;0' },
  });
}

/** Starts the ARM emulator (embedded in a process, or behind `labimage emulator`). */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const clock = options.clock ?? Date.now;
  const store = await StateStore.open(options.stateFile);
  if (options.faults !== undefined) {
    store.state.faults = mergeFaults(store.state.faults, options.faults);
    await store.commit();
  }
  const tls = await emulatorTls(options.stateFile ? dirname(options.stateFile) : undefined);
  const dispatcher = new ArmDispatcher(store, {
    operationMs: (options.operationSeconds ?? 1) * 1000,
    replication: { durationMs: options.replicationSeconds * 1000, concurrency: options.replicationConcurrency ?? 3 },
    pageSize: options.pageSize ?? 100,
  });
  const counts: RequestCounts = { total: 0, byMethod: {}, byRoute: {} };
  const log = options.log;

  async function admin(request: IncomingMessage, pathname: string): Promise<ArmAnswer> {
    if (pathname === '/_emulator/requests' && request.method === 'GET') return { status: 200, body: counts };
    if (pathname === '/_emulator/faults' && request.method === 'GET') return { status: 200, body: store.state.faults };
    if (pathname === '/_emulator/faults' && request.method === 'POST') {
      const update = await readBody(request);
      let faults: Faults;
      try {
        faults = mergeFaults(store.state.faults, update);
      } catch (error) {
        throw new CloudError(400, 'InvalidFaults', (error as Error).message);
      }
      store.state.faults = faults;
      await store.commit();
      log?.info({ faults }, 'emulator faults set');
      return { status: 200, body: faults };
    }
    throw new CloudError(404, 'NotFound', `No emulator endpoint ${request.method} ${pathname}.`);
  }

  async function arm(request: IncomingMessage, url: URL): Promise<ArmAnswer> {
    const method = request.method ?? 'GET';
    const path = parseResourcePath(url.pathname);
    const route = routeName(method, path);
    counts.total += 1;
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    counts.byRoute[route] = (counts.byRoute[route] ?? 0) + 1;

    if (!/^Bearer \S+/i.test(request.headers.authorization ?? '')) {
      throw new CloudError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    }
    const fault = takeRequestFault(store.state.faults);
    if (store.state.faults.latencyMs) await sleep(store.state.faults.latencyMs);
    if (fault?.kind === 'throttle') throw throttled(fault.retryAfterSeconds);
    if (fault?.kind === 'serverError') throw new CloudError(500, 'InternalExecutionError', 'An internal execution error occurred. Please retry later.');
    if (fault?.kind === 'authorizationFailure') {
      throw new CloudError(403, 'AuthorizationFailed', `The client does not have authorization to perform action over scope '${url.pathname}' or the scope is invalid.`);
    }
    if (!path) throw new CloudError(404, 'NotFound', `No ARM resource at ${url.pathname}.`);
    const body = await readBody(request);
    return dispatcher.dispatch({
      method,
      path,
      pathname: url.pathname,
      query: url.searchParams,
      body,
      baseUrl: `https://${request.headers.host ?? 'localhost'}`,
      now: clock(),
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://emulator.invalid');
    let answer: ArmAnswer;
    try {
      answer = url.pathname.startsWith('/_emulator/') ? await admin(request, url.pathname) : await arm(request, url);
    } catch (error) {
      if (error instanceof CloudError) answer = errorAnswer(error);
      else {
        log?.error({ err: error, method: request.method, path: url.pathname }, 'emulator request failed');
        answer = errorAnswer(new CloudError(500, 'InternalServerError', 'The emulator failed to handle the request.'));
      }
    }
    send(response, answer);
    log?.debug({ method: request.method, path: url.pathname, status: answer.status }, 'emulator request');
  }

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log?.info({ url, caFile: tls.caFile, stateFile: options.stateFile }, 'ARM emulator listening');

  return {
    url,
    port,
    caPem: tls.caPem,
    ...(tls.caFile ? { caFile: tls.caFile } : {}),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await store.flush();
    },
  };
}
