import { expect } from 'chai';
import type { V1Secret } from '@kubernetes/client-node';
import { NAMESPACE_CREDENTIAL_SECRET } from '../../../src/api/index.ts';
import { readExamples } from '../../../src/cli/examples.ts';
import { defaultConfigDocument, demoPrincipal, parseConfig } from '../../../src/emulator/config.ts';

describe('emulator principals of the zero-setup default', () => {
  it('include the demo principal whose credential examples/ carries, as the namespace credential', async () => {
    const secret = (await readExamples()).find((doc): doc is V1Secret => doc.kind === 'Secret') as V1Secret | undefined;
    expect(secret?.metadata?.name).to.equal(NAMESPACE_CREDENTIAL_SECRET);
    const config = parseConfig(defaultConfigDocument());
    const demo = config.principals.find((principal) => principal.name === demoPrincipal.name);
    expect(secret?.stringData).to.deep.equal({ AZURE_TENANT_ID: demo?.tenantId, AZURE_CLIENT_ID: demo?.clientId, AZURE_CLIENT_SECRET: demo?.clientSecret });
    expect(demo?.roles, 'the Simulated accounts\' subscription, nothing else').to.deep.equal([{ scope: '/subscriptions/00000000-0000-0000-0000-000000000000', access: 'write' }]);
  });
});
