import type { TokenCredential } from '@azure/core-auth';
import type { V1Secret } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { NAMESPACE_CREDENTIAL_SECRET, type LabAccount } from '../../api/index.ts';
import {
  ArmBudget,
  CREDENTIAL_KEYS_HINT,
  DEFAULT_ARM_REQUEST_TIMEOUT_MS,
  EMULATOR_DEFAULT_TOKEN,
  InvalidCredentialSecretError,
  armGalleryPort,
  armScopeOf,
  azureCloud,
  createArmClient,
  operatorIdentityCredential,
  servicePrincipalCredential,
  servicePrincipalOf,
  simulatedSubscriptionId,
  staticTokenCredential,
  withTokenTimeout,
  type ArmClient,
  type AzureCloud,
  type IdentityEndpoint,
} from '../../azure/index.ts';
import { SECRETS, type ObjectClient } from '../../runtime/index.ts';
import type { AccountConnection, ConnectOptions, Connector } from './deps.ts';
import { StalledError } from './stalled.ts';

/** Where Simulated accounts' galleries live: the embedded or a standalone ARM emulator. */
export interface EmulatorTarget {
  url: string;
  caPem: string;
  /** The emulator's default principal's token: the operator's own identity there. Default: the embedded emulator's well-known one. */
  token?: string;
}

export interface ConnectorTimeouts {
  /** Each ARM request (`--arm-request-timeout`). */
  armRequestMs: number;
  /** Each token from Microsoft Entra ID or the emulator (`--token-timeout`). */
  tokenMs: number;
}

export const DEFAULT_TOKEN_TIMEOUT_MS = 20_000;

export interface AccountConnectorOptions {
  /** Reads the accounts' credential Secrets. */
  client: Pick<ObjectClient, 'get'>;
  /** Absent (`--emulator off`): Simulated accounts are Stalled until an emulator is configured. */
  emulator?: EmulatorTarget;
  /**
   * Namespaces whose accounts may act as the operator itself when they have no credential of
   * their own (`--operator-identity-namespaces`); `*` for every namespace. Default: none.
   */
  operatorIdentityNamespaces?: readonly string[];
  timeouts?: Partial<ConnectorTimeouts>;
  /** The operator's own identity in an Azure cloud; default DefaultAzureCredential (workload identity). */
  operatorCredential?: (endpoint: IdentityEndpoint) => Promise<TokenCredential>;
  registry?: Registry;
  /** ARM's budget, which every account's requests are paced to; default: ARM's published buckets. */
  budget?: ArmBudget;
}

/** A Simulated account without spec.azure gets a resource group of its own in the emulator's subscription. */
export function simulatedResourceGroup(account: Pick<LabAccount, 'metadata'>): string {
  return `labimages-${account.metadata.namespace}`;
}

/** The credential an account acts with, found by scope: most specific first. */
type CredentialSource =
  | { scope: 'account' | 'namespace'; secretName: string; resourceVersion: string; values: Record<string, string> }
  | { scope: 'operator' };

function describeSource(source: CredentialSource): string {
  switch (source.scope) {
    case 'account':
      return `the service principal in Secret ${source.secretName} (spec.azure.credentials.secretRef)`;
    case 'namespace':
      return `the service principal in the namespace's credential Secret ${source.secretName}`;
    case 'operator':
      return "the operator's own identity";
  }
}

/** What a cached client was built from: a change of any part builds a new one. */
function keyOf(generation: number, source: CredentialSource): string {
  return source.scope === 'operator' ? `${generation}/operator` : `${generation}/${source.scope}/${source.secretName}@${source.resourceVersion}`;
}

interface Cached {
  generation: number;
  key: string;
  client: ArmClient;
  subscriptionId: string;
  resourceGroup: string;
  credentials: string;
}

/**
 * Builds and caches one ARM client per lab account, and hands each caller a port over it whose
 * calls its signal cancels. The credential is chosen by scope, the most specific first (as Azure
 * Service Operator does): the account's spec.azure.credentials.secretRef, else the namespace's
 * credential Secret, else the operator's own identity, only in namespaces the operator lists.
 *
 * A client is kept per account generation and credential Secret resourceVersion: a `recheck`
 * (the account's periodic credential check) reads the Secrets again, so a corrected Secret is used
 * within one recheck. When Entra ID or ARM refuses the credentials, the client drops itself from
 * the cache, so every kind's next pass builds afresh. An account being deleted keeps the client it
 * has, whatever becomes of its Secret, for the deletions that follow it. Secrets are read only here, and their values
 * go nowhere but the credential object.
 */
export class AccountConnector implements Connector {
  readonly #options: AccountConnectorOptions;
  readonly #timeouts: ConnectorTimeouts;
  readonly #clients = new Map<string, Cached>();
  /** One operator identity per Azure cloud, shared by every account that uses it: one token cache, not one per account. */
  readonly #operatorCredentials = new Map<string, Promise<TokenCredential>>();

  /** One for all accounts: accounts of one subscription and principal share ARM's buckets. */
  readonly #budget: ArmBudget;

  constructor(options: AccountConnectorOptions) {
    this.#options = options;
    this.#budget = options.budget ?? new ArmBudget();
    this.#timeouts = { armRequestMs: options.timeouts?.armRequestMs ?? DEFAULT_ARM_REQUEST_TIMEOUT_MS, tokenMs: options.timeouts?.tokenMs ?? DEFAULT_TOKEN_TIMEOUT_MS };
  }

  async connect(account: LabAccount, signal?: AbortSignal, options: ConnectOptions = {}): Promise<AccountConnection> {
    const uid = account.metadata.uid ?? '';
    const generation = account.metadata.generation ?? 0;
    let cached = this.#clients.get(uid);
    // An account being deleted keeps the client it had: the deletion passes of its dependents reach
    // Azure through it, and a prune deletes the credential Secret with them, in any order (deletion
    // also moves the generation). Only a refusal by Entra ID or ARM drops it (onCredentialRejected).
    const departing = account.metadata.deletionTimestamp !== undefined;
    if (!cached || (!departing && (cached.generation !== generation || options.recheck))) {
      try {
        const emulator = this.#emulatorFor(account);
        const source = await this.#sourceOf(account);
        const key = keyOf(generation, source);
        if (cached?.key !== key) {
          cached = await this.#build(account, generation, key, source, emulator);
          this.#clients.set(uid, cached);
        }
      } catch (error) {
        // A credential deleted or broken since: nothing goes on acting with the one cached before.
        this.#clients.delete(uid);
        throw error;
      }
    }
    const { client, subscriptionId, resourceGroup, credentials } = cached;
    return { port: armGalleryPort(client, signal), subscriptionId, resourceGroup, credentials };
  }

  /** Whether accounts in `namespace` may act as the operator itself. */
  #mayUseOperatorIdentity(namespace: string): boolean {
    return (this.#options.operatorIdentityNamespaces ?? []).some((listed) => listed === '*' || listed === namespace);
  }

  /** The emulator a Simulated account needs; undefined for an Azure account. */
  #emulatorFor(account: LabAccount): EmulatorTarget | undefined {
    if ((account.spec.provider ?? 'Simulated') !== 'Simulated') return undefined;
    if (!this.#options.emulator) {
      throw new StalledError('EmulatorDisabled', 'spec.provider is Simulated but the operator runs with --emulator off: set spec.provider: Azure, or run the operator with an emulator');
    }
    return this.#options.emulator;
  }

  async #sourceOf(account: LabAccount): Promise<CredentialSource> {
    const namespace = account.metadata.namespace ?? '';
    const named = account.spec.azure?.credentials?.secretRef?.name;
    if (named) {
      const secret = await this.#readSecret(namespace, named);
      if (!secret) {
        throw new StalledError('CredentialsNotFound', `Secret ${namespace}/${named} (spec.azure.credentials.secretRef) does not exist: create it with ${CREDENTIAL_KEYS_HINT}`);
      }
      return { scope: 'account', secretName: named, ...secret };
    }
    const shared = await this.#readSecret(namespace, NAMESPACE_CREDENTIAL_SECRET);
    if (shared) return { scope: 'namespace', secretName: NAMESPACE_CREDENTIAL_SECRET, ...shared };
    if (this.#mayUseOperatorIdentity(namespace)) return { scope: 'operator' };
    throw new StalledError(
      'NoCredentials',
      `LabAccount ${account.metadata.name} has no credentials: set spec.azure.credentials.secretRef to a Secret, or create the namespace's credential Secret ` +
        `${NAMESPACE_CREDENTIAL_SECRET}, either with ${CREDENTIAL_KEYS_HINT}; or ask the operator's administrators to let namespace ${namespace} use ` +
        "the operator's own identity (--operator-identity-namespaces)",
    );
  }

  async #readSecret(namespace: string, name: string): Promise<{ resourceVersion: string; values: Record<string, string> } | undefined> {
    const secret = await this.#options.client.get<V1Secret>(SECRETS, namespace, name);
    if (!secret) return undefined;
    const values = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    return { resourceVersion: secret.metadata?.resourceVersion ?? '', values };
  }

  async #build(account: LabAccount, generation: number, key: string, source: CredentialSource, emulator: EmulatorTarget | undefined): Promise<Cached> {
    const uid = account.metadata.uid ?? '';
    const subscriptionId = account.spec.azure?.subscriptionId ?? simulatedSubscriptionId;
    const resourceGroup = account.spec.azure?.resourceGroup ?? simulatedResourceGroup(account);
    const cloud = azureCloud(account.spec.azure?.cloud);
    const where = emulator ? { endpoint: emulator.url, scope: armScopeOf(emulator.url), caPem: emulator.caPem } : { endpoint: cloud.armEndpoint, scope: cloud.armScope };
    const credential = withTokenTimeout(await this.#credential(source, cloud, emulator), this.#timeouts.tokenMs);
    let client: ArmClient | undefined = undefined;
    const onCredentialRejected = () => {
      if (client && this.#clients.get(uid)?.client === client) this.#clients.delete(uid);
    };
    client = createArmClient({
      subscriptionId,
      credential,
      ...where,
      requestTimeoutMs: this.#timeouts.armRequestMs,
      ...(this.#options.registry ? { registry: this.#options.registry } : {}),
      onCredentialRejected,
      budget: this.#budget,
    });
    return { generation, key, client, subscriptionId, resourceGroup, credentials: describeSource(source) };
  }

  /** Simulated accounts use the same scopes against the emulator's principals, and trust its CA alone. */
  async #credential(source: CredentialSource, cloud: AzureCloud, emulator: EmulatorTarget | undefined): Promise<TokenCredential> {
    if (source.scope === 'operator') {
      if (emulator) return staticTokenCredential(emulator.token ?? EMULATOR_DEFAULT_TOKEN);
      return await this.#operatorCredential(cloud);
    }
    let principal;
    try {
      principal = servicePrincipalOf(source.values);
    } catch (err) {
      if (!(err instanceof InvalidCredentialSecretError)) throw err;
      throw new StalledError('CredentialsNotFound', `${describeSource(source)} ${err.message}; a credential Secret holds ${CREDENTIAL_KEYS_HINT}`);
    }
    const endpoint = emulator ? { authorityHost: emulator.url, caPem: emulator.caPem } : { authorityHost: cloud.authorityHost };
    return await servicePrincipalCredential(principal, endpoint);
  }

  #operatorCredential(cloud: AzureCloud): Promise<TokenCredential> {
    let credential = this.#operatorCredentials.get(cloud.name);
    if (!credential) {
      const make = this.#options.operatorCredential ?? operatorIdentityCredential;
      credential = make({ authorityHost: cloud.authorityHost });
      this.#operatorCredentials.set(cloud.name, credential);
    }
    return credential;
  }
}
