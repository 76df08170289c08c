// A Microsoft Entra ID stand-in, enough for MSAL's client-credentials flow (what @azure/identity's
// ClientSecretCredential and ClientCertificateCredential use): instance discovery, the tenant's
// OpenID configuration and keys, and the v2.0 token endpoint. A token it issues stands for the
// principal configured with that client id.
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import type { EmulatorConfig, PrincipalConfig } from './config.ts';
import { tokenLifetimeSeconds, type TokenIssuer } from './tokens.ts';

export interface EntraAnswer {
  status: number;
  body: unknown;
}

const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra's error body: `error`, an AADSTS description, its code, and the request's trace. */
function entraError(status: number, error: string, code: number, description: string, now: number): EntraAnswer {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export class EntraEndpoints {
  readonly #config: () => EmulatorConfig;
  readonly #issuer: TokenIssuer;

  constructor(config: () => EmulatorConfig, issuer: TokenIssuer) {
    this.#config = config;
    this.#issuer = issuer;
  }

  /** Answers an Entra path, or undefined when the path is none of them. */
  async handle(method: string, url: URL, baseUrl: string, form: () => Promise<URLSearchParams>, now: number): Promise<EntraAnswer | undefined> {
    const [tenant, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const route = rest.join('/');
    if (!tenant) return undefined;
    if (method === 'GET' && tenant === 'common' && route === 'discovery/instance') return this.#instanceDiscovery(url, baseUrl);
    if (method === 'GET' && route === 'v2.0/.well-known/openid-configuration') return { status: 200, body: this.#openIdConfiguration(baseUrl, tenant) };
    if (method === 'GET' && route === 'discovery/v2.0/keys') return { status: 200, body: await this.#issuer.keys() };
    if (method === 'POST' && route === 'oauth2/v2.0/token') return this.#token(tenant, await form(), baseUrl, now);
    return undefined;
  }

  #instanceDiscovery(url: URL, baseUrl: string): EntraAnswer {
    const host = new URL(baseUrl).host;
    const tenant = /\/([^/]+)\/oauth2\/v2\.0\/authorize/.exec(url.searchParams.get('authorization_endpoint') ?? '')?.[1] ?? 'common';
    return {
      status: 200,
      body: {
        tenant_discovery_endpoint: `${baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
    };
  }

  #openIdConfiguration(baseUrl: string, tenant: string): unknown {
    const root = `${baseUrl}/${tenant}`;
    return {
      issuer: `${root}/v2.0`,
      authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
      token_endpoint: `${root}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${root}/oauth2/v2.0/logout`,
      jwks_uri: `${root}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: [this.#issuer.algorithm],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: null,
      cloud_instance_name: new URL(baseUrl).host,
    };
  }

  async #token(tenant: string, form: URLSearchParams, baseUrl: string, now: number): Promise<EntraAnswer> {
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType ?? ''}'.`, now);
    }
    const clientId = form.get('client_id') ?? '';
    const principal = this.#config().principals.find(
      (candidate) => candidate.clientId !== undefined && candidate.clientId.toLowerCase() === clientId.toLowerCase() && candidate.tenantId.toLowerCase() === tenant.toLowerCase(),
    );
    if (!principal) {
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        now,
      );
    }
    const refusal = await this.#checkCredential(principal, form, now);
    if (refusal) return refusal;
    const scope = form.get('scope') ?? '';
    const audience = scope.replace(/\/?\.default$/, '') || baseUrl;
    const accessToken = await this.#issuer.issue(principal, `${baseUrl}/${principal.tenantId}/v2.0`, audience, now);
    return { status: 200, body: { token_type: 'Bearer', expires_in: tokenLifetimeSeconds, ext_expires_in: tokenLifetimeSeconds, access_token: accessToken } };
  }

  /** The client's secret, or its assertion signed with the configured certificate's key; Entra's refusal otherwise. */
  async #checkCredential(principal: PrincipalConfig, form: URLSearchParams, now: number): Promise<EntraAnswer | undefined> {
    const assertion = form.get('client_assertion');
    if (assertion !== null && form.get('client_assertion_type') === clientAssertionType) {
      if (principal.certificate && (await this.#assertionValid(assertion, principal, now))) return undefined;
      return entraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.', now);
    }
    const secret = form.get('client_secret');
    if (secret === null) {
      return entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", now);
    }
    if (principal.clientSecret !== undefined && secret === principal.clientSecret) return undefined;
    return entraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${principal.clientId ?? ''}'.`,
      now,
    );
  }

  async #assertionValid(assertion: string, principal: PrincipalConfig, now: number): Promise<boolean> {
    try {
      const { alg } = decodeProtectedHeader(assertion);
      if (alg !== 'RS256' && alg !== 'PS256') return false;
      const key = await importX509(principal.certificate ?? '', alg);
      // Entra allows clients' clocks five minutes of skew (and MSAL rounds its nbf up half the time).
      await jwtVerify(assertion, key, { currentDate: new Date(now), subject: principal.clientId, issuer: principal.clientId, clockTolerance: 300 });
      return true;
    } catch {
      return false;
    }
  }
}
