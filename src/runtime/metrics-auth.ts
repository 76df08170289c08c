// /metrics behind authentication and authorisation, as controller-runtime serves it with
// --metrics-secure (its filters.WithAuthenticationAndAuthorization): the caller's bearer token is
// authenticated by the API server (a TokenReview), and the user it names must be allowed `get` on
// the non-resource URL /metrics (a SubjectAccessReview). Answers are cached as controller-runtime's
// delegating authenticator and authorizer cache them: a token for a minute, an allow for five, a
// deny for thirty seconds.
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../tls/certificates.ts';
import type { RestClient } from './rest-client.ts';

/**
 * A self-signed serving certificate made at start, as controller-runtime makes one when given no
 * certificate: scrapers verify the caller, not the server (Prometheus: insecureSkipVerify).
 */
export async function metricsServingCertificate(): Promise<IssuedCertificate> {
  const ca = await createCertificateAuthority('lab-image-operator-metrics-ca');
  const names = ['localhost', ...(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(hostname()) ? [hostname()] : [])];
  return await issueCertificate(ca, { commonName: 'lab-image-operator-metrics', dnsNames: names, ipAddresses: ['127.0.0.1'], usage: 'server' });
}

export interface Verdict {
  status: 200 | 401 | 403;
  message?: string;
}

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

interface TokenReview {
  status?: { authenticated?: boolean; user?: UserInfo; error?: string };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; reason?: string };
}

const TOKEN_TTL_MS = 60_000;
const ALLOW_TTL_MS = 5 * 60_000;
const DENY_TTL_MS = 30_000;
/** Cache entries kept at most; a scraper or two use one token each. */
const MAX_ENTRIES = 256;

class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.until > now) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number, now: number): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, { value, until: now + ttlMs });
  }
}

export class MetricsAuthorizer {
  readonly #rest: RestClient;
  readonly #users = new TtlCache<UserInfo | undefined>();
  readonly #decisions = new TtlCache<boolean>();

  constructor(rest: RestClient) {
    this.#rest = rest;
  }

  /** Whether the request may read `path`: 401 without a token the API server accepts, 403 without the right. */
  async check(request: Pick<IncomingMessage, 'headers' | 'method'>, path: string, now = Date.now()): Promise<Verdict> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return { status: 401, message: 'Unauthorized: a bearer token is required' };
    const user = await this.#authenticate(token, now);
    if (!user?.username) return { status: 401, message: 'Unauthorized' };
    const verb = (request.method ?? 'GET').toLowerCase();
    if (!(await this.#authorize(user, verb, path, now))) return { status: 403, message: `Forbidden: user "${user.username}" may not ${verb} ${path}` };
    return { status: 200 };
  }

  async #authenticate(token: string, now: number): Promise<UserInfo | undefined> {
    const cached = this.#users.get(token, now);
    if (cached) return cached;
    const review = await this.#rest.request<TokenReview>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.authenticated ? review.status.user : undefined;
    this.#users.set(token, user, TOKEN_TTL_MS, now);
    return user;
  }

  async #authorize(user: UserInfo, verb: string, path: string, now: number): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid, user.groups, verb, path]);
    const cached = this.#decisions.get(key, now);
    if (cached !== undefined) return cached;
    const review = await this.#rest.request<SubjectAccessReview>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          nonResourceAttributes: { path, verb },
        },
      },
    });
    const allowed = review.status?.allowed === true;
    this.#decisions.set(key, allowed, allowed ? ALLOW_TTL_MS : DENY_TTL_MS, now);
    return allowed;
  }
}
