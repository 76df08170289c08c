import type { V1Secret } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { LabAccount } from '../../api/index.ts';
import { ArmBudget, MissingCredentialKeysError, armGalleryPort, createArmClient, createArmCredential, secretKeys, simulatedCredential, type ArmClient } from '../../azure/index.ts';
import { SECRETS, type ObjectClient } from '../../runtime/index.ts';
import type { AccountConnection, Connector } from './deps.ts';
import { StalledError } from './stalled.ts';

/** Where Simulated accounts' galleries live: the embedded or a standalone ARM emulator. */
export interface EmulatorTarget {
  url: string;
  caPem: string;
}

export interface AccountConnectorOptions {
  /** Reads the accounts' credential Secrets. */
  client: Pick<ObjectClient, 'get'>;
  /** Absent (`--emulator off`): Simulated accounts are Stalled until an emulator is configured. */
  emulator?: EmulatorTarget;
  /** Resource Manager of Azure accounts; default: public Azure. */
  armEndpoint?: string;
  registry?: Registry;
  /** ARM's budget, which every account's requests are paced to; default: ARM's published buckets. */
  budget?: ArmBudget;
}

/** A Simulated account without spec.azure gets a subscription and resource group of its own in the emulator. */
export const simulatedSubscriptionId = '00000000-0000-0000-0000-000000000000';

export function simulatedResourceGroup(account: Pick<LabAccount, 'metadata'>): string {
  return `labimages-${account.metadata.namespace}`;
}

interface Cached {
  generation: number;
  client: ArmClient;
  subscriptionId: string;
  resourceGroup: string;
}

/**
 * Builds and caches one ARM client per lab account, keyed by the account's uid and generation (a
 * spec change builds a new one), and hands each caller a port over it whose calls its signal
 * cancels. When ARM refuses the credentials (401/403) on any call, the client drops itself from
 * the cache, so the next connect reads a rotated Secret. Secrets are read only here, only when a
 * client is built, and their values go nowhere but the credential object.
 */
export class AccountConnector implements Connector {
  readonly #options: AccountConnectorOptions;
  readonly #clients = new Map<string, Cached>();
  /** One for all accounts: accounts of one subscription and principal share ARM's buckets. */
  readonly #budget: ArmBudget;

  constructor(options: AccountConnectorOptions) {
    this.#options = options;
    this.#budget = options.budget ?? new ArmBudget();
  }

  async connect(account: LabAccount, signal?: AbortSignal): Promise<AccountConnection> {
    const uid = account.metadata.uid ?? '';
    const generation = account.metadata.generation ?? 0;
    let cached = this.#clients.get(uid);
    if (!cached || cached.generation !== generation) {
      cached = await this.#build(account, generation);
      this.#clients.set(uid, cached);
    }
    return { port: armGalleryPort(cached.client, signal), subscriptionId: cached.subscriptionId, resourceGroup: cached.resourceGroup };
  }

  async #build(account: LabAccount, generation: number): Promise<Cached> {
    const uid = account.metadata.uid ?? '';
    const { spec } = account;
    const subscriptionId = spec.azure?.subscriptionId ?? simulatedSubscriptionId;
    const resourceGroup = spec.azure?.resourceGroup ?? simulatedResourceGroup(account);
    let client: ArmClient | undefined;
    const onCredentialRejected = () => {
      if (client && this.#clients.get(uid)?.client === client) this.#clients.delete(uid);
    };
    const base = { subscriptionId, registry: this.#options.registry, onCredentialRejected, budget: this.#budget };
    // Read whatever the provider: an account that names a Secret is not reconciled without it.
    const secretValues = await this.#readSecret(account);
    if ((spec.provider ?? 'Simulated') === 'Simulated') {
      const emulator = this.#options.emulator;
      if (!emulator) {
        throw new StalledError('EmulatorDisabled', 'spec.provider is Simulated but the operator runs with --emulator off: set spec.provider: Azure, or run the operator with an emulator');
      }
      client = createArmClient({ ...base, credential: simulatedCredential(), endpoint: emulator.url, caPem: emulator.caPem });
    } else {
      const credential = await this.#credential(account, secretValues);
      client = createArmClient({ ...base, credential, ...(this.#options.armEndpoint ? { endpoint: this.#options.armEndpoint } : {}) });
    }
    return { generation, client, subscriptionId, resourceGroup };
  }

  async #credential(account: LabAccount, secretValues: Record<string, string> | undefined) {
    try {
      return await createArmCredential({ provider: 'Azure', secretValues });
    } catch (err) {
      if (err instanceof MissingCredentialKeysError) {
        throw new StalledError('CredentialsNotFound', `Secret ${account.spec.azure?.credentials?.secretRef?.name} lacks ${err.missing.join(', ')}: add them (all of ${secretKeys.join(', ')})`);
      }
      throw err;
    }
  }

  /** The Secret's decoded values, or undefined when the account names none (the operator's own identity). */
  async #readSecret(account: LabAccount): Promise<Record<string, string> | undefined> {
    const name = account.spec.azure?.credentials?.secretRef?.name;
    if (!name) return undefined;
    const namespace = account.metadata.namespace ?? '';
    const secret = await this.#options.client.get<V1Secret>(SECRETS, namespace, name);
    if (!secret) throw new StalledError('CredentialsNotFound', `Secret ${namespace}/${name} (spec.azure.credentials.secretRef) does not exist: create it with ${secretKeys.join(', ')}`);
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  }
}
