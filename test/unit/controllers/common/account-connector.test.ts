import type { TokenCredential } from '@azure/core-auth';
import type { V1Secret } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { API_VERSION, NAMESPACE_CREDENTIAL_SECRET, type LabAccount } from '../../../../src/api/index.ts';
import type { IdentityEndpoint } from '../../../../src/azure/index.ts';
import { AccountConnector, type AccountConnectorOptions } from '../../../../src/controllers/common/account-connector.ts';
import { StalledError } from '../../../../src/controllers/common/stalled.ts';

const servicePrincipal = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 'hush-hush' };

/** Secrets by namespace/name, as the API server would answer a get; counts the reads. */
class Secrets {
  readonly reads: string[] = [];
  readonly #secrets = new Map<string, V1Secret>();
  #version = 1;

  put(namespace: string, name: string, values: Record<string, string>): void {
    const data = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));
    this.#secrets.set(`${namespace}/${name}`, { metadata: { name, namespace, resourceVersion: String(this.#version++) }, data });
  }

  remove(namespace: string, name: string): void {
    this.#secrets.delete(`${namespace}/${name}`);
  }

  readonly client = {
    get: async <T>(_resource: unknown, namespace: string, name: string): Promise<T | undefined> => {
      this.reads.push(name);
      return this.#secrets.get(`${namespace}/${name}`) as T | undefined;
    },
  };
}

function account(spec: Partial<LabAccount['spec']> = {}, namespace = 'team-a'): LabAccount {
  return { apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name: 'cs', namespace, uid: `uid-${namespace}`, generation: 1 }, spec: { location: 'westeurope', ...spec } };
}

const azure = (extra: Partial<NonNullable<LabAccount['spec']['azure']>> = {}): Partial<LabAccount['spec']> => ({
  provider: 'Azure',
  azure: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', ...extra },
});

async function stalledBy(promise: Promise<unknown>): Promise<StalledError> {
  const error = await promise.then(() => undefined, (err: unknown) => err);
  expect(error).to.be.instanceOf(StalledError);
  return error as StalledError;
}

describe('account connector: which credential an account acts with', () => {
  let secrets: Secrets;
  let operatorIdentities: IdentityEndpoint[];

  function connector(options: Partial<AccountConnectorOptions> = {}): AccountConnector {
    const operatorCredential = async (endpoint: IdentityEndpoint): Promise<TokenCredential> => {
      operatorIdentities.push(endpoint);
      return { getToken: async () => null };
    };
    return new AccountConnector({ client: secrets.client, emulator: { url: 'https://127.0.0.1:1', caPem: 'ca' }, operatorCredential, registry: new Registry(), ...options });
  }

  beforeEach(() => {
    secrets = new Secrets();
    operatorIdentities = [];
  });

  it('takes the Secret the account names over the namespace credential', async () => {
    secrets.put('team-a', 'labs-sp', servicePrincipal);
    secrets.put('team-a', NAMESPACE_CREDENTIAL_SECRET, servicePrincipal);
    const connection = await connector().connect(account(azure({ credentials: { secretRef: { name: 'labs-sp' } } })));
    expect(connection.credentials).to.equal('the service principal in Secret labs-sp (spec.azure.credentials.secretRef)');
    expect(secrets.reads).to.deep.equal(['labs-sp']);
  });

  it('takes the namespace credential over the operator\'s identity, even where that is allowed', async () => {
    secrets.put('team-a', NAMESPACE_CREDENTIAL_SECRET, servicePrincipal);
    const connection = await connector({ operatorIdentityNamespaces: ['*'] }).connect(account(azure()));
    expect(connection.credentials).to.equal(`the service principal in the namespace's credential Secret ${NAMESPACE_CREDENTIAL_SECRET}`);
    expect(operatorIdentities).to.deep.equal([]);
  });

  it('does not fall back when the Secret the account names is missing', async () => {
    secrets.put('team-a', NAMESPACE_CREDENTIAL_SECRET, servicePrincipal);
    const missing = await stalledBy(connector().connect(account(azure({ credentials: { secretRef: { name: 'labs-sp' } } }))));
    expect(missing.reason).to.equal('CredentialsNotFound');
    expect(missing.message).to.contain('team-a/labs-sp').and.contain('AZURE_CLIENT_CERTIFICATE');
  });

  it('acts as the operator only in the namespaces listed, in the account\'s cloud', async () => {
    const refused = await stalledBy(connector({ operatorIdentityNamespaces: ['team-b'] }).connect(account(azure())));
    expect(refused.reason).to.equal('NoCredentials');
    // The message says which of the three to provide.
    expect(refused.message).to.contain('spec.azure.credentials.secretRef').and.contain(NAMESPACE_CREDENTIAL_SECRET).and.contain('--operator-identity-namespaces').and.contain('team-a');
    expect(operatorIdentities).to.deep.equal([]);

    const listed = await connector({ operatorIdentityNamespaces: ['team-b', 'team-a'] }).connect(account(azure({ cloud: 'AzureUSGovernment' })));
    expect(listed.credentials).to.equal("the operator's own identity");
    expect(operatorIdentities).to.deep.equal([{ authorityHost: 'https://login.microsoftonline.us' }]);
    const everywhere = await connector({ operatorIdentityNamespaces: ['*'] }).connect(account(azure(), 'team-c'));
    expect(everywhere.credentials).to.equal("the operator's own identity");
  });

  it('uses the emulator\'s default principal as the operator\'s identity for Simulated accounts, under the same list', async () => {
    expect((await stalledBy(connector().connect(account()))).reason).to.equal('NoCredentials');
    const simulated = await connector({ operatorIdentityNamespaces: ['team-a'] }).connect(account());
    expect(simulated.credentials).to.equal("the operator's own identity");
    expect(operatorIdentities, 'no Azure identity is asked for').to.deep.equal([]);
    const off = await stalledBy(connector({ emulator: undefined, operatorIdentityNamespaces: ['*'] }).connect(account()));
    expect(off.reason).to.equal('EmulatorDisabled');
  });

  it('refuses a Secret that describes no service principal, naming keys and never values', async () => {
    secrets.put('team-a', NAMESPACE_CREDENTIAL_SECRET, { AZURE_CLIENT_SECRET: 'hush-hush' });
    const invalid = await stalledBy(connector().connect(account(azure())));
    expect(invalid.reason).to.equal('CredentialsNotFound');
    expect(invalid.message).to.contain('lacks AZURE_TENANT_ID, AZURE_CLIENT_ID').and.not.contain('hush-hush');
  });

  it('keeps its client until a recheck finds the Secret changed', async () => {
    secrets.put('team-a', 'labs-sp', servicePrincipal);
    const connect = connector();
    const scoped = account(azure({ credentials: { secretRef: { name: 'labs-sp' } } }));
    await connect.connect(scoped);
    await connect.connect(scoped);
    expect(secrets.reads, 'cached').to.have.length(1);
    await connect.connect(scoped, undefined, { recheck: true });
    expect(secrets.reads, 'a recheck reads the Secret again').to.have.length(2);
    // A new resourceVersion builds a new client: here one from values that cannot make a credential.
    secrets.put('team-a', 'labs-sp', { AZURE_TENANT_ID: 't' });
    expect(await connect.connect(scoped).then(() => 'cached')).to.equal('cached');
    expect((await stalledBy(connect.connect(scoped, undefined, { recheck: true }))).reason).to.equal('CredentialsNotFound');
    expect((await stalledBy(connect.connect(scoped))).reason, 'the client from before is gone too').to.equal('CredentialsNotFound');
  });

  it('keeps the client of an account being deleted when its Secret goes too (a prune), for its dependents\' deletions', async () => {
    secrets.put('team-a', NAMESPACE_CREDENTIAL_SECRET, servicePrincipal);
    const connect = connector();
    const live = account(azure());
    const before = await connect.connect(live);
    secrets.remove('team-a', NAMESPACE_CREDENTIAL_SECRET);
    // Deleted: the API server sets deletionTimestamp and moves the generation of a custom resource.
    const deleting: LabAccount = { ...live, metadata: { ...live.metadata, generation: 2, deletionTimestamp: new Date() } };
    const after = await connect.connect(deleting, undefined, { recheck: true });
    expect(after.credentials).to.equal(before.credentials);
    expect(secrets.reads, 'the Secret is not read again').to.have.length(1);
    // Without a client from before, a deleted account is judged as any other.
    expect((await stalledBy(connector().connect(deleting))).reason).to.equal('NoCredentials');
  });
});
