import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import { authenticate, authorize, isAdministrator } from './access.ts';
import type { ArmAnswer } from './arm.ts';
import { CloudError } from './cloud-error.ts';
import { defaultConfigDocument, mergeConfig, parseConfig, protectedConfig, redactedConfig, storedPart, type EmulatorConfig } from './config.ts';
import { ArmDispatcher } from './dispatch.ts';
import { EntraEndpoints } from './entra.ts';
import { mergeFaults, takeHang, takeRequestFault } from './faults.ts';
import { parseResourcePath, routeName, type ResourcePath } from './routes.ts';
import { applySeeds } from './seeds.ts';
import { StateStore } from './state.ts';
import { operationTypeOf, Throttle } from './throttling.ts';
import { emulatorTls } from './tls.ts';
import { TokenIssuer } from './tokens.ts';

export interface EmulatorOptions {
  /** 0 (the default) = any free port. */
  port?: number;
  /** Default 127.0.0.1: keep the emulator private unless told otherwise. */
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
  /**
   * The config document (docs/emulator.md): principals, region access, buckets, seeds, faults.
   * Given, it replaces the stored one; absent, the stored one is kept, or the default (one
   * all-powerful principal, every region and resource group, ARM's buckets) is used.
   */
  config?: unknown;
  /** Faults to start with (the `--faults` file's content). */
  faults?: unknown;
  /**
   * Set for an emulator others can reach (`labimage emulator`): this token is its administrator's,
   * for ARM and `/_emulator/*`, and the well-known token and the demo principal open nothing.
   * Absent (embedded, on loopback): the zero-setup default.
   */
  adminToken?: string;
  /** With `adminToken`: keep the demo principal of the default config (examples/' credential), whose secret is public. */
  keepDemoPrincipal?: boolean;
  log?: Logger;
  /** Milliseconds since the epoch; tests pass their own clock. */
  clock?: () => number;
}

export interface RunningEmulator {
  /** `https://127.0.0.1:PORT`: the ARM endpoint to give @azure/arm-compute, and the authority host to give @azure/identity. */
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
  /** ARM requests by the principal they were authenticated as (its name). */
  byPrincipal: Record<string, number>;
  /** ARM answers by HTTP status (429: throttled by ARM's buckets or an injected fault). */
  byStatus: Record<string, number>;
}

const maxBodyBytes = 4 * 1024 * 1024;

/** The emulator answers as one ARM region: the region part of its throttling buckets' keys. */
const armRegion = 'emulator';

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new CloudError(413, 'RequestEntityTooLarge', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CloudError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

function send(response: ServerResponse, answer: ArmAnswer): void {
  if (response.destroyed) return;
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

/** Compute's own throttling (an injected fault), as opposed to ARM's token buckets. */
function throttled(retryAfterSeconds: number): CloudError {
  const message = 'The server rejected the request because too many requests have been received for this subscription.';
  return new CloudError(429, 'OperationNotAllowed', message, {
    details: [{ code: 'TooManyRequests', target: 'HighCostGet', message }],
    headers: { 'Retry-After': String(retryAfterSeconds), 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/HighCostGet;0' },
  });
}

/** Polls of a long-running operation need only a principal: they carry no resource scope of their own. */
function isOperationPoll(path: ResourcePath): boolean {
  return path.types[0] === 'locations' || path.types[0] === 'operationresults';
}

function initialConfig(options: EmulatorOptions, stored: StateStore['state']['config']): EmulatorConfig {
  if (options.config !== undefined) return parseConfig(options.config);
  return stored ? { ...stored, seeds: [] } : parseConfig(defaultConfigDocument());
}

/** The config in force: as given, or with the admin token as the only way in as administrator. */
function inForce(config: EmulatorConfig, options: EmulatorOptions): EmulatorConfig {
  return options.adminToken === undefined ? config : protectedConfig(config, options.adminToken, options.keepDemoPrincipal);
}

/** Starts the ARM emulator (embedded in a process, or behind `labimage emulator`). */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const clock = options.clock ?? Date.now;
  const log = options.log;
  const store = await StateStore.open(options.stateFile);
  const initial = inForce(initialConfig(options, store.state.config), options);
  store.state.config = storedPart(initial);
  let config: EmulatorConfig = { ...store.state.config, seeds: [] };
  for (const faults of [initial.faults, options.faults]) if (faults !== undefined) store.state.faults = mergeFaults(store.state.faults, faults);
  const tls = await emulatorTls(options.stateFile ? dirname(options.stateFile) : undefined);
  const issuer = new TokenIssuer(tls.keyPem);
  const throttle = new Throttle(config.buckets);
  const entra = new EntraEndpoints(() => config, issuer);
  const dispatcher = new ArmDispatcher(
    store,
    {
      operationMs: (options.operationSeconds ?? 1) * 1000,
      replication: { durationMs: options.replicationSeconds * 1000, concurrency: options.replicationConcurrency ?? 3 },
      pageSize: options.pageSize ?? 100,
    },
    () => config,
  );
  await applySeeds(dispatcher, initial.seeds, 'https://localhost', clock());
  const counts: RequestCounts = { total: 0, byMethod: {}, byRoute: {}, byPrincipal: {}, byStatus: {} };
  // Ends hung requests when the emulator stops.
  const stopping = new AbortController();

  async function updateConfig(document: unknown, baseUrl: string): Promise<unknown> {
    let next: EmulatorConfig;
    try {
      next = inForce(mergeConfig(config, document), options);
      if (next.faults !== undefined) store.state.faults = mergeFaults(store.state.faults, next.faults);
    } catch (error) {
      throw new CloudError(400, 'InvalidConfig', (error as Error).message);
    }
    store.state.config = storedPart(next);
    config = { ...store.state.config, seeds: [] };
    throttle.reconfigure(config.buckets);
    await applySeeds(dispatcher, next.seeds, baseUrl, clock());
    log?.info({ principals: config.principals.map((principal) => principal.name) }, 'emulator config updated');
    return redactedConfig(config);
  }

  async function admin(request: IncomingMessage, pathname: string, baseUrl: string): Promise<ArmAnswer> {
    const principal = await authenticate(config, issuer, request.headers.authorization, clock());
    if (!isAdministrator(principal)) {
      throw new CloudError(403, 'AuthorizationFailed', `The client '${principal.name}' with object id '${principal.objectId}' may not manage the emulator: it needs write access at scope '/'.`);
    }
    const method = request.method ?? 'GET';
    if (pathname === '/_emulator/requests' && method === 'GET') return { status: 200, body: counts };
    if (pathname === '/_emulator/config' && method === 'GET') return { status: 200, body: redactedConfig(config) };
    if (pathname === '/_emulator/config' && method === 'POST') {
      const body = await updateConfig(await readBody(request), baseUrl);
      await store.commit();
      return { status: 200, body };
    }
    if (pathname === '/_emulator/faults' && method === 'GET') return { status: 200, body: store.state.faults };
    if (pathname === '/_emulator/faults' && method === 'POST') {
      const update = await readBody(request);
      try {
        store.state.faults = mergeFaults(store.state.faults, update);
      } catch (error) {
        throw new CloudError(400, 'InvalidFaults', (error as Error).message);
      }
      await store.commit();
      log?.info({ faults: store.state.faults }, 'emulator faults set');
      return { status: 200, body: store.state.faults };
    }
    throw new CloudError(404, 'NotFound', `No emulator endpoint ${method} ${pathname}.`);
  }

  async function arm(request: IncomingMessage, url: URL, baseUrl: string): Promise<ArmAnswer> {
    const method = request.method ?? 'GET';
    const path = parseResourcePath(url.pathname);
    const route = routeName(method, path);
    counts.total += 1;
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    counts.byRoute[route] = (counts.byRoute[route] ?? 0) + 1;

    const hangMs = takeHang(store.state.faults);
    if (hangMs !== undefined) await sleep(hangMs, undefined, { signal: stopping.signal });
    const principal = await authenticate(config, issuer, request.headers.authorization, clock());
    counts.byPrincipal[principal.name] = (counts.byPrincipal[principal.name] ?? 0) + 1;
    const subscriptionId = url.pathname.split('/')[2] ?? '';
    const rateHeaders = throttle.take({ subscriptionId, actor: principal.objectId, region: armRegion, type: operationTypeOf(method), now: clock() });
    try {
      const fault = takeRequestFault(store.state.faults);
      if (store.state.faults.latencyMs) await sleep(store.state.faults.latencyMs);
      if (fault?.kind === 'throttle') throw throttled(fault.retryAfterSeconds);
      if (fault?.kind === 'serverError') throw new CloudError(500, 'InternalExecutionError', 'An internal execution error occurred. Please retry later.');
      if (fault?.kind === 'authorizationFailure') {
        throw new CloudError(403, 'AuthorizationFailed', `The client does not have authorization to perform action over scope '${url.pathname}' or the scope is invalid.`);
      }
      if (!path) throw new CloudError(404, 'NotFound', `No ARM resource at ${url.pathname}.`);
      if (!isOperationPoll(path)) authorize(principal, method, path, url.pathname);
      const body = await readBody(request);
      const answer = await dispatcher.dispatch({ method, path, pathname: url.pathname, query: url.searchParams, body, baseUrl, now: clock() }).finally(
        // A read may have settled an operation that ended (a deletion done, reported as a 404): on disk before it is reported.
        () => store.commitChanges(),
      );
      return { ...answer, headers: { ...rateHeaders, ...answer.headers } };
    } catch (error) {
      // Every answer after the buckets carries what they hold, errors included.
      if (error instanceof CloudError) Object.assign(error.headers, rateHeaders);
      throw error;
    }
  }

  async function identity(request: IncomingMessage, url: URL, baseUrl: string): Promise<ArmAnswer> {
    const form = async () => new URLSearchParams(await readText(request));
    const answer = await entra.handle(request.method ?? 'GET', url, baseUrl, form, clock());
    if (!answer) throw new CloudError(404, 'NotFound', `No endpoint ${request.method} ${url.pathname}.`);
    return { status: answer.status, body: answer.body, headers: { 'Cache-Control': 'no-store' } };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://emulator.invalid');
    const baseUrl = `https://${request.headers.host ?? 'localhost'}`;
    const isArm = /^\/subscriptions\//i.test(url.pathname);
    let answer: ArmAnswer;
    try {
      if (url.pathname.startsWith('/_emulator/')) answer = await admin(request, url.pathname, baseUrl);
      else if (isArm) answer = await arm(request, url, baseUrl);
      else answer = await identity(request, url, baseUrl);
    } catch (error) {
      if (stopping.signal.aborted) return;
      if (error instanceof CloudError) answer = errorAnswer(error);
      else {
        log?.error({ err: error, method: request.method, path: url.pathname }, 'emulator request failed');
        answer = errorAnswer(new CloudError(500, 'InternalServerError', 'The emulator failed to handle the request.'));
      }
    }
    if (isArm) counts.byStatus[answer.status] = (counts.byStatus[answer.status] ?? 0) + 1;
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
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await store.flush();
    },
  };
}
