import type { AccessToken, TokenCredential } from '@azure/core-auth';

/** The keys a LabAccount's credentials Secret holds. */
export const secretKeys = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'] as const;

export type ArmCredentialSource =
  /** The ARM emulator: it accepts any bearer token; trust comes from its CA, set on the client. */
  | { provider: 'Simulated' }
  /** Azure: a service principal from a Secret's decoded values, else the operator's own identity. */
  | { provider: 'Azure'; secretValues?: Record<string, string | undefined> };

export class MissingCredentialKeysError extends Error {
  override readonly name = 'MissingCredentialKeysError';
  readonly missing: string[];
  constructor(missing: string[]) {
    super(`the credentials Secret lacks ${missing.join(', ')}`);
    this.missing = missing;
  }
}

const simulatedTokenLifetimeMs = 3600_000;

/** A fixed token for the emulator, which checks only that one is sent. */
export function simulatedCredential(): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token: 'labimages-emulator', expiresOnTimestamp: Date.now() + simulatedTokenLifetimeMs }),
  };
}

export async function createArmCredential(source: ArmCredentialSource): Promise<TokenCredential> {
  if (source.provider === 'Simulated') return simulatedCredential();
  // Loaded on first use: @azure/identity (with MSAL) costs tens of MiB that an operator serving
  // only Simulated accounts never needs.
  const { ClientSecretCredential, DefaultAzureCredential } = await import('@azure/identity');
  if (!source.secretValues) return new DefaultAzureCredential();
  const values = source.secretValues;
  const { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret } = values;
  if (!tenantId || !clientId || !clientSecret) throw new MissingCredentialKeysError(secretKeys.filter((key) => !values[key]));
  return new ClientSecretCredential(tenantId, clientId, clientSecret);
}
