import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createGalleryPort, staticTokenCredential, type GalleryPort, type OperationHandle, type OperationStatus } from '../../../src/azure/index.ts';
import { defaultToken, type RequestCounts } from '../../../src/emulator/index.ts';
// Sets @peculiar/x509's crypto provider, as every certificate the project makes needs.
import '../../../src/tls/certificates.ts';
import { eventually as waitFor } from '../eventually.ts';

export const subscriptionId = '00000000-0000-0000-0000-0000000000aa';

export interface Target {
  url: string;
  caPem: string;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A plain HTTPS request to the emulator, trusting its CA only, with the default principal's token unless told otherwise. */
export function raw(target: Target, method: string, path: string, body?: unknown, token = defaultToken): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${target.url}${path}`,
      {
        method,
        ca: target.caPem,
        headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function requestCounts(target: Target): Promise<RequestCounts> {
  return (await raw(target, 'GET', '/_emulator/requests')).body as RequestCounts;
}

export async function setFaults(target: Target, faults: unknown): Promise<void> {
  const answer = await raw(target, 'POST', '/_emulator/faults', faults);
  if (answer.status !== 200) throw new Error(`faults refused: ${JSON.stringify(answer.body)}`);
}

/** A port against the emulator with its own metrics registry; retries quick on 5xx. */
export function portFor(target: Target, registry = new Registry()): GalleryPort {
  return createGalleryPort({
    subscriptionId,
    credential: staticTokenCredential(),
    endpoint: target.url,
    caPem: target.caPem,
    registry,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
}

/**
 * Polls as a controller would across reconciles, each time after the Retry-After the port
 * reports. `clock` lets a test move time itself instead of sleeping.
 */
export async function untilDone(
  port: GalleryPort,
  handle: OperationHandle,
  clock: { now(): number; wait(ms: number): Promise<void> } = { now: Date.now, wait: (ms) => sleep(ms) },
): Promise<Exclude<OperationStatus, { state: 'InProgress' }>> {
  let current = handle;
  for (;;) {
    const status = await port.poll(current, clock.now());
    if (status.state !== 'InProgress') return status;
    await clock.wait(status.retryAfterMs);
    current = status.handle;
  }
}

/** The shared `eventually`, for a reading and a test of it. */
export function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, attempts = 200, intervalMs = 50): Promise<T> {
  return waitFor(async () => {
    const value = await read();
    return done(value) ? value : undefined;
  }, { what, timeoutMs: attempts * intervalMs, intervalMs });
}

/** An RSA certificate and its key, as Entra takes for an app's credential (MSAL signs its assertions with RS256 or PS256). */
export async function rsaCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=lab-cert-sp', keys, signingAlgorithm: algorithm, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000) });
  return { certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}
