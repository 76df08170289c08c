import { AuthenticationError, AzureAuthorityHosts, CredentialUnavailableError } from '@azure/identity';
import { createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { AccessToken } from '@azure/core-auth';
import { expect } from 'chai';
import { requestTimeoutPolicy } from '../../../src/azure/client.ts';
import { CLOUD_NAMES, armScopeOf, azureCloud } from '../../../src/azure/clouds.ts';
import { servicePrincipalOf, withTokenTimeout } from '../../../src/azure/credentials.ts';
import { classifyArmError, isCredentialRejection } from '../../../src/azure/errors.ts';
import { isWithinScope, locateArmId } from '../../../src/azure/ids.ts';

const never = new Promise<never>(() => undefined);

describe('Azure clouds', () => {
  it('sets endpoint, authority and audience per cloud, as the SDKs name them', () => {
    expect(azureCloud()).to.deep.equal(azureCloud('AzurePublicCloud'));
    expect(azureCloud('AzurePublicCloud').authorityHost).to.equal(AzureAuthorityHosts.AzurePublicCloud);
    expect(azureCloud('AzureUSGovernment').authorityHost).to.equal(AzureAuthorityHosts.AzureGovernment);
    expect(azureCloud('AzureChinaCloud').authorityHost).to.equal(AzureAuthorityHosts.AzureChina);
    expect(azureCloud('AzureUSGovernment').armEndpoint).to.equal('https://management.usgovcloudapi.net');
    expect(azureCloud('AzureChinaCloud').armEndpoint).to.equal('https://management.chinacloudapi.cn');
    for (const name of CLOUD_NAMES) {
      const cloud = azureCloud(name);
      // The audience is the cloud's own Resource Manager, not public Azure's (the SDK's default whatever the endpoint).
      expect(cloud.armScope, name).to.equal(armScopeOf(cloud.armEndpoint)).and.equal(`${cloud.armEndpoint}/.default`);
    }
  });
});

describe('credential Secrets', () => {
  const ids = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' };

  it('describe a service principal with a client secret or a client certificate', () => {
    expect(servicePrincipalOf({ ...ids, AZURE_CLIENT_SECRET: 's' })).to.deep.equal({ tenantId: 't', clientId: 'c', clientSecret: 's' });
    expect(servicePrincipalOf({ ...ids, AZURE_CLIENT_CERTIFICATE: 'PEM' })).to.deep.equal({ tenantId: 't', clientId: 'c', certificate: 'PEM' });
    expect(servicePrincipalOf({ ...ids, AZURE_CLIENT_CERTIFICATE: 'PEM', AZURE_CLIENT_CERTIFICATE_PASSWORD: 'p' })).to.include({ certificatePassword: 'p' });
  });

  it('name what is missing or ambiguous, never a value', () => {
    const refusal = (values: Record<string, string>) => {
      try {
        servicePrincipalOf(values);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ AZURE_CLIENT_SECRET: 'hush' })).to.equal('lacks AZURE_TENANT_ID, AZURE_CLIENT_ID');
    expect(refusal(ids)).to.equal('lacks AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE');
    expect(refusal({ ...ids, AZURE_CLIENT_SECRET: ' ' })).to.equal('lacks AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE');
    expect(refusal({ ...ids, AZURE_CLIENT_SECRET: 'hush', AZURE_CLIENT_CERTIFICATE: 'PEM' })).to.equal('has both AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE: keep one');
  });
});

describe('identity errors', () => {
  it('are credential rejections, with the cause, unless Entra ID was only busy', () => {
    const wrongSecret = classifyArmError(new AuthenticationError(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }));
    expect(wrongSecret).to.include({ code: 'AuthenticationError', statusCode: 401, retryable: false, fromIdentity: true });
    expect(wrongSecret.message).to.contain('AADSTS7000215');
    expect(isCredentialRejection(wrongSecret)).to.equal(true);
    const noWorkloadIdentity = classifyArmError(new CredentialUnavailableError('WorkloadIdentityCredential: no AZURE_FEDERATED_TOKEN_FILE'));
    expect(isCredentialRejection(noWorkloadIdentity)).to.equal(true);
    const busy = classifyArmError(new AuthenticationError(503, { error: 'temporarily_unavailable', error_description: 'try later' }));
    expect(busy).to.include({ retryable: true });
    expect(isCredentialRejection(busy)).to.equal(false);
  });
});

describe('timeouts', () => {
  it('give up on a token that does not come, as a transient failure', async () => {
    const hung = withTokenTimeout({ getToken: () => never }, 20);
    const error = await hung.getToken('scope').then(() => undefined, (err: unknown) => err);
    expect(classifyArmError(error)).to.include({ code: 'TokenRequestTimeout', retryable: true, fromIdentity: true });
    const token: AccessToken = { token: 'x', expiresOnTimestamp: 1 };
    expect(await withTokenTimeout({ getToken: async () => token }, 20).getToken('scope')).to.equal(token);
  });

  it('let the caller cancel a token request sooner, as a cancellation', async () => {
    const controller = new AbortController();
    const waiting = withTokenTimeout({ getToken: () => never }, 60_000).getToken('scope', { abortSignal: controller.signal });
    controller.abort();
    const error = await waiting.then(() => undefined, (err: unknown) => err);
    expect(classifyArmError(error)).to.include({ code: 'RequestAborted', retryable: true });
  });

  it('give up on an ARM request without an answer, a new limit for each attempt', async () => {
    const request = createPipelineRequest({ url: 'https://management.azure.com/subscriptions/s', method: 'GET' });
    const hang = (req: typeof request) => new Promise<PipelineResponse>((_, reject) => req.abortSignal?.addEventListener('abort', () => reject(new Error('aborted'))));
    const policy = requestTimeoutPolicy(20);
    const started = Date.now();
    const error = await policy.sendRequest(request, hang).then(() => undefined, (err: unknown) => err);
    expect(Date.now() - started).to.be.lessThan(1000);
    expect(classifyArmError(error)).to.include({ code: 'RequestTimeout', retryable: true });
    expect(request.abortSignal, 'the request keeps its own signal for the next attempt').to.equal(undefined);
    const answered = await policy.sendRequest(request, async (req) => ({ status: 200, headers: undefined as never, request: req }));
    expect(answered.status).to.equal(200);
  });
});

describe('ARM scopes', () => {
  it('locate an id by subscription and resource group, and refuse what a URL would resolve elsewhere', () => {
    expect(locateArmId('/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm')).to.deep.equal({ subscriptionId: 's', resourceGroup: 'rg' });
    expect(locateArmId('/SUBSCRIPTIONS/s/resourcegroups/rg')).to.deep.equal({ subscriptionId: 's', resourceGroup: 'rg' });
    expect(locateArmId('/subscriptions/s')).to.deep.equal({ subscriptionId: 's' });
    for (const tricked of ['/subscriptions/s/resourceGroups/rg/../other', '/subscriptions/s/resourceGroups/./rg', '/subscriptions/s//resourceGroups/rg', 'subscriptions/s', '/tenants/t']) {
      expect(locateArmId(tricked), tricked).to.have.property('problem');
    }
  });

  it('tell whether an id lies in a scope, without regard to case', () => {
    expect(isWithinScope({ subscriptionId: 'S', resourceGroup: 'RG' }, { subscriptionId: 's' })).to.equal(true);
    expect(isWithinScope({ subscriptionId: 's', resourceGroup: 'RG' }, { subscriptionId: 's', resourceGroup: 'rg' })).to.equal(true);
    expect(isWithinScope({ subscriptionId: 's', resourceGroup: 'rg2' }, { subscriptionId: 's', resourceGroup: 'rg' })).to.equal(false);
    expect(isWithinScope({ subscriptionId: 's' }, { subscriptionId: 's', resourceGroup: 'rg' })).to.equal(false);
    expect(isWithinScope({ subscriptionId: 't', resourceGroup: 'rg' }, { subscriptionId: 's' })).to.equal(false);
  });
});
