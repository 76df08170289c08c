// The credentials the operator acts with: a service principal from a Secret (client secret or
// client certificate), the operator's own identity (workload identity through
// DefaultAzureCredential), or the ARM emulator's static token. @azure/identity is loaded on first
// use: with MSAL it costs tens of MiB that an operator serving only the emulator's default
// principal never needs.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { deadline } from './deadline.ts';
import { EMULATOR_DEFAULT_TOKEN } from './simulated.ts';

/** The keys a credential Secret holds, named as @azure/identity's EnvironmentCredential names its variables. */
export const CREDENTIAL_KEYS = {
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  clientSecret: 'AZURE_CLIENT_SECRET',
  /** PEM with the certificate and its private key, as ClientCertificateCredential takes it. */
  certificate: 'AZURE_CLIENT_CERTIFICATE',
  /** Optional: the password of an encrypted private key. */
  certificatePassword: 'AZURE_CLIENT_CERTIFICATE_PASSWORD',
} as const;

/** What a credential Secret must hold, for messages. */
export const CREDENTIAL_KEYS_HINT = `${CREDENTIAL_KEYS.tenantId}, ${CREDENTIAL_KEYS.clientId} and either ${CREDENTIAL_KEYS.clientSecret} or ${CREDENTIAL_KEYS.certificate} (PEM with its key)`;

/** A service principal, as a credential Secret describes it. */
export type ServicePrincipal = { tenantId: string; clientId: string } & ({ clientSecret: string } | { certificate: string; certificatePassword?: string });

/** A credential Secret that cannot describe a service principal; the message names keys, never values. */
export class InvalidCredentialSecretError extends Error {
  override readonly name = 'InvalidCredentialSecretError';
}

/** The service principal a Secret's decoded values describe. */
export function servicePrincipalOf(values: Readonly<Record<string, string | undefined>>): ServicePrincipal {
  const { tenantId, clientId, clientSecret, certificate, certificatePassword } = Object.fromEntries(
    Object.entries(CREDENTIAL_KEYS).map(([field, key]) => [field, values[key]?.trim() || undefined]),
  ) as Partial<Record<keyof typeof CREDENTIAL_KEYS, string>>;
  const missing = [!tenantId && CREDENTIAL_KEYS.tenantId, !clientId && CREDENTIAL_KEYS.clientId, !clientSecret && !certificate && `${CREDENTIAL_KEYS.clientSecret} or ${CREDENTIAL_KEYS.certificate}`].filter(Boolean);
  if (missing.length > 0 || !tenantId || !clientId) throw new InvalidCredentialSecretError(`lacks ${missing.join(', ')}`);
  if (clientSecret && certificate) throw new InvalidCredentialSecretError(`has both ${CREDENTIAL_KEYS.clientSecret} and ${CREDENTIAL_KEYS.certificate}: keep one`);
  if (clientSecret) return { tenantId, clientId, clientSecret };
  return { tenantId, clientId, certificate: certificate ?? '', ...(certificatePassword ? { certificatePassword } : {}) };
}

/** Where Microsoft Entra ID is for a credential. */
export interface IdentityEndpoint {
  authorityHost: string;
  /** The emulator's CA: the only one trusted, and MSAL's instance discovery (a call to public Entra) is off. */
  caPem?: string;
}

function identityOptions(endpoint: IdentityEndpoint) {
  return {
    authorityHost: endpoint.authorityHost,
    ...(endpoint.caPem ? { disableInstanceDiscovery: true, tlsOptions: { ca: endpoint.caPem } } : {}),
  };
}

export async function servicePrincipalCredential(principal: ServicePrincipal, endpoint: IdentityEndpoint): Promise<TokenCredential> {
  const { ClientCertificateCredential, ClientSecretCredential } = await import('@azure/identity');
  const options = identityOptions(endpoint);
  if ('clientSecret' in principal) return new ClientSecretCredential(principal.tenantId, principal.clientId, principal.clientSecret, options);
  const pem = { certificate: principal.certificate, ...(principal.certificatePassword ? { certificatePassword: principal.certificatePassword } : {}) };
  return new ClientCertificateCredential(principal.tenantId, principal.clientId, pem, options);
}

/**
 * The operator's own identity: DefaultAzureCredential, which on AKS with Microsoft Entra Workload ID
 * is the WorkloadIdentityCredential (the chart sets AZURE_TOKEN_CREDENTIALS=prod, so no developer
 * tool is tried in a pod).
 */
export async function operatorIdentityCredential(endpoint: IdentityEndpoint): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential(identityOptions(endpoint));
}

const staticTokenLifetimeMs = 3600_000;

/** A bearer token given as it is: the emulator's static tokens (its default principal's, or a standalone emulator's admin token). */
export function staticTokenCredential(token: string = EMULATOR_DEFAULT_TOKEN): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + staticTokenLifetimeMs }),
  };
}

/** A token request that took longer than the operator allows: Entra ID (or the emulator) is slow, not refusing. */
export class TokenTimeoutError extends Error {
  override readonly name = 'TokenTimeoutError';
}

/**
 * Gives up on a token after `timeoutMs`, or when the caller's signal fires. @azure/identity passes a
 * signal on, but MSAL's own retries of the token request do not all heed it, so the wait is cut
 * here whatever the request underneath does.
 */
export function withTokenTimeout(credential: TokenCredential, timeoutMs: number): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const limit = deadline(options?.abortSignal, timeoutMs);
      const request = credential.getToken(scopes, { ...options, abortSignal: limit.signal });
      // The request may still settle after the cut; its outcome then goes nowhere.
      request.catch(() => undefined);
      const cut = new Promise<never>((_, reject) => {
        const stop = () => reject(limit.expired ? new TokenTimeoutError(`no token within ${timeoutMs} ms`) : limit.signal.reason);
        if (limit.signal.aborted) stop();
        else limit.signal.addEventListener('abort', stop, { once: true });
      });
      cut.catch(() => undefined);
      try {
        return await Promise.race([request, cut]);
      } finally {
        limit.dispose();
      }
    },
  };
}
