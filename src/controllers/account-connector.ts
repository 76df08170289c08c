import type { V1Secret } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { LabAccount } from '../api/index.ts';
import { MissingCredentialKeysError, createArmCredential, createGalleryPort, secretKeys, simulatedCredential, type GalleryPort } from '../azure/index.ts';
import { SECRETS, type ObjectClient } from '../runtime/index.ts';
import { StalledError } from './stalled.ts';

/** Where Simulated accounts' galleries live: the embedded or a standalone ARM emulator. */
export interface EmulatorTarget {
  url: string;
  caPem: string;
}

export interface AccountConnectorOptions {
  /** Reads the accounts' credential Secrets. */
  client: ObjectClient;
  /** Absent (`--emulator off`): Simulated accounts are Stalled until an emulator is configured. */
  emulator?: EmulatorTarget;
  /** Resource Manager of Azure accounts; default: public Azure. */
  armEndpoint?: string;
  registry?: Registry;
}

/** A lab account's way into its galleries: the port, and where in Azure its resources live. */
export interface AccountConnection {
  port: GalleryPort;
  subscriptionId: string;
  resourceGroup: string;
}

/** A Simulated account without spec.azure gets a subscription and resource group of its own in the emulator. */
export const simulatedSubscriptionId = '00000000-0000-0000-0000-000000000000';

export function simulatedResourceGroup(account: LabAccount): string {
  return `labimages-${account.metadata.namespace}`;
}

/**
 * Builds and caches one GalleryPort per lab account. The cache is keyed by the account's uid and
 * generation (a spec change builds a new port), and dropped by `forget` when Azure rejects the
 * credentials, so a rotated Secret is read again. Secrets are read only here, only when a port is
 * built, and their values go nowhere but the credential object.
 */
export class AccountConnector {
  readonly #options: AccountConnectorOptions;
  readonly #connections = new Map<string, { generation: number; connection: AccountConnection }>();

  constructor(options: AccountConnectorOptions) {
    this.#options = options;
  }

  async connect(account: LabAccount): Promise<AccountConnection> {
    const uid = account.metadata.uid ?? '';
    const generation = account.metadata.generation ?? 0;
    const cached = this.#connections.get(uid);
    if (cached && cached.generation === generation) return cached.connection;
    const connection = await this.#build(account);
    this.#connections.set(uid, { generation, connection });
    return connection;
  }

  forget(account: LabAccount): void {
    this.#connections.delete(account.metadata.uid ?? '');
  }

  async #build(account: LabAccount): Promise<AccountConnection> {
    const { spec } = account;
    const secretValues = await this.#readSecret(account);
    const subscriptionId = spec.azure?.subscriptionId ?? simulatedSubscriptionId;
    const resourceGroup = spec.azure?.resourceGroup ?? simulatedResourceGroup(account);
    if ((spec.provider ?? 'Simulated') === 'Simulated') {
      const emulator = this.#options.emulator;
      if (!emulator) {
        throw new StalledError('EmulatorDisabled', 'spec.provider is Simulated but the operator runs with --emulator off: set spec.provider: Azure, or run the operator with an emulator');
      }
      const port = createGalleryPort({ subscriptionId, credential: simulatedCredential(), endpoint: emulator.url, caPem: emulator.caPem, registry: this.#options.registry });
      return { port, subscriptionId, resourceGroup };
    }
    let credential;
    try {
      credential = await createArmCredential({ provider: 'Azure', secretValues });
    } catch (err) {
      if (err instanceof MissingCredentialKeysError) {
        throw new StalledError('CredentialsNotFound', `Secret ${spec.azure?.credentials?.secretRef?.name} lacks ${err.missing.join(', ')}: add them (all of ${secretKeys.join(', ')})`);
      }
      throw err;
    }
    const port = createGalleryPort({ subscriptionId, credential, endpoint: this.#options.armEndpoint, registry: this.#options.registry });
    return { port, subscriptionId, resourceGroup };
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
