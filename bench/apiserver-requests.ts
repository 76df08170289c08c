// API requests counted by kube-apiserver itself (apiserver_request_total), so every client's
// requests are seen the way the server saw them, without wrapping any client.
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** Requests by "VERB resource[/subresource]". */
export type RequestTally = Record<string, number>;

export const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'APPLY']);

const sample = /^apiserver_request_total\{([^}]*)\} (\S+)$/;

/**
 * What the operator touches (our kinds, Events, Secrets); everything else is kube-apiserver's own
 * bookkeeping (its identity Lease, the kubernetes Service's endpoints) or non-resource URLs.
 */
function operatorResource(group: string, resource: string): boolean {
  return group === 'labimages.io' || resource === 'events' || resource === 'secrets';
}

function label(labels: string, name: string): string {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '';
}

export function parseRequestTotals(text: string): RequestTally {
  const tally: RequestTally = {};
  for (const line of text.split('\n')) {
    const m = sample.exec(line);
    if (!m) continue;
    const labels = m[1] ?? '';
    const resource = label(labels, 'resource');
    if (!operatorResource(label(labels, 'group'), resource)) continue;
    const subresource = label(labels, 'subresource');
    const key = `${label(labels, 'verb')} ${resource}${subresource ? `/${subresource}` : ''}`;
    tally[key] = (tally[key] ?? 0) + Number(m[2]);
  }
  return tally;
}

/** kube-apiserver's own request counters, read from /metrics as the admin user. */
export async function scrapeRequestTotals(kc: KubeConfig): Promise<RequestTally> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    request(new URL('/metrics', server), { ...options, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`GET /metrics: ${res.statusCode} ${body.slice(0, 200)}`));
        else resolve(body);
      });
    })
      .on('error', reject)
      .end();
  });
  return parseRequestTotals(text);
}

/** after − before − requests the benchmark made itself, leaving only zero-free entries. */
export function difference(after: RequestTally, before: RequestTally, own: RequestTally = {}): RequestTally {
  const out: RequestTally = {};
  for (const [key, value] of Object.entries(after)) {
    const n = value - (before[key] ?? 0) - (own[key] ?? 0);
    if (n !== 0) out[key] = n;
  }
  return out;
}

export function byVerb(tally: RequestTally): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(tally)) {
    const verb = key.slice(0, key.indexOf(' '));
    out[verb] = (out[verb] ?? 0) + value;
  }
  return out;
}

export const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export const writes = (tally: RequestTally): number =>
  Object.entries(tally)
    .filter(([key]) => WRITE_VERBS.has(key.slice(0, key.indexOf(' '))))
    .reduce((sum, [, n]) => sum + n, 0);
