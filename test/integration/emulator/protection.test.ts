// The standalone emulator (`labimage emulator`) requires the admin token it generates, for ARM and
// for /_emulator/* alike; the well-known token of the embedded one, and the demo principal's public
// secret, open nothing there.
import { ClientSecretCredential } from '@azure/identity';
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTenantId, demoPrincipal } from '../../../src/emulator/config.ts';
import { ADMIN_TOKEN_FILE, defaultToken, startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { foreground, type Foreground } from '../../e2e/processes.ts';
import { raw, subscriptionId } from './helpers.ts';
import { refusal } from './sdk.ts';

const galleries = `/subscriptions/${subscriptionId}/providers/Microsoft.Compute/galleries?api-version=2024-03-03`;

describe('ARM emulator: an admin token for the standalone emulator', function () {
  let emulator: RunningEmulator | undefined;
  let cli: Foreground | undefined;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labimages-emulator-'));
  });

  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
    if (cli) {
      cli.interrupt();
      await cli.exited;
      cli = undefined;
    }
    await rm(dir, { recursive: true, force: true });
  });

  function demoCredential(target: RunningEmulator): ClientSecretCredential {
    return new ClientSecretCredential(defaultTenantId, demoPrincipal.clientId, demoPrincipal.clientSecret, { authorityHost: target.url, disableInstanceDiscovery: true, tlsOptions: { ca: target.caPem } });
  }

  it('takes only its admin token, for ARM and the admin endpoints, and knows no demo principal', async () => {
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 0, adminToken: 'the-admin-token' });
    for (const path of [galleries, '/_emulator/requests', '/_emulator/config']) {
      const refused = await raw(emulator, 'GET', path, undefined, defaultToken);
      expect(refused.status, path).to.equal(401);
      expect(refused.body).to.deep.include({ error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } });
      expect((await raw(emulator, 'GET', path, undefined, 'the-admin-token')).status, path).to.equal(200);
    }
    expect((await raw(emulator, 'POST', '/_emulator/faults', { latencyMs: 0 }, defaultToken)).status).to.equal(401);
    expect((await refusal(demoCredential(emulator).getToken('https://management.azure.com/.default'))).message).to.contain('AADSTS700016');
  });

  it('keeps the demo principal when asked, and it may write only in the Simulated accounts\' subscription', async () => {
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 0, adminToken: 'the-admin-token', keepDemoPrincipal: true });
    const token = await demoCredential(emulator).getToken('https://management.azure.com/.default');
    expect(token?.token).to.be.a('string');
    const simulated = '/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute/galleries?api-version=2024-03-03';
    expect((await raw(emulator, 'GET', simulated, undefined, token!.token)).status).to.equal(200);
    expect((await raw(emulator, 'GET', galleries, undefined, token!.token)).status).to.equal(403);
    expect((await raw(emulator, 'GET', '/_emulator/requests', undefined, token!.token)).status).to.equal(403);
  });

  it('`labimage emulator` makes its token once, keeps it next to its CA, and prints it only when it made it', async () => {
    const state = join(dir, 'state.json');
    const start = () => foreground('node', ['src/cli/main.ts', 'emulator', '--state', state, '--port', '0', '--replication-seconds', '0']);
    cli = start();
    const [, url] = await cli.waitFor(/ARM emulator listening at (\S+)/, 30_000);
    const [, printed] = await cli.waitFor(/Admin token: (\S+)/, 5_000);
    const file = join(dir, ADMIN_TOKEN_FILE);
    expect((await readFile(file, 'utf8')).trim()).to.equal(printed);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const target = { url: url!, caPem: await readFile(join(dir, 'emulator-ca.pem'), 'utf8') };
    expect((await raw(target, 'GET', galleries, undefined, defaultToken)).status).to.equal(401);
    expect((await raw(target, 'GET', galleries, undefined, printed)).status).to.equal(200);

    cli.interrupt();
    await cli.exited;
    cli = start();
    await cli.waitFor(/Admin token file: /, 30_000);
    expect(cli.output()).not.to.contain('Admin token:');
    expect((await readFile(file, 'utf8')).trim(), 'the same token after a restart').to.equal(printed);
  });
});
