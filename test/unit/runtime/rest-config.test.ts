import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { microTime } from '../../../src/runtime/client.ts';
import { restConfigFromKubeconfig } from '../../../src/runtime/rest-config.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://127.0.0.1:6443/' }): string {
  return dump({
    'current-context': 'dev',
    clusters: [{ name: 'local', cluster }],
    users: [{ name: 'me', user }],
    contexts: [
      { name: 'dev', context: { cluster: 'local', user: 'me', namespace: 'labs' } },
      { name: 'other', context: { cluster: 'local', user: 'me' } },
    ],
  });
}

describe('rest config from a kubeconfig', function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restconfig-'));
    await writeFile(join(dir, 'ca.pem'), 'CA FROM FILE');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads the current context: server, inline CA and client certificate, namespace', function () {
    const config = restConfigFromKubeconfig(kubeconfig({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }, { server: 'https://127.0.0.1:6443/', 'certificate-authority-data': b64('CA') }), dir);
    expect(config).to.deep.equal({ server: 'https://127.0.0.1:6443', ca: 'CA', cert: 'CERT', key: 'KEY', namespace: 'labs' });
  });

  it('reads files relative to the kubeconfig, tokens, and another context when asked', function () {
    const config = restConfigFromKubeconfig(kubeconfig({ token: 'abc', tokenFile: 'token' }, { server: 'https://k8s:443', 'certificate-authority': 'ca.pem', 'tls-server-name': 'kubernetes' }), dir, 'other');
    expect(config).to.deep.equal({ server: 'https://k8s:443', ca: 'CA FROM FILE', tlsServerName: 'kubernetes', token: 'abc', tokenFile: join(dir, 'token') });
  });

  it('hands exec plugins to client-node, and names what is missing', function () {
    const exec = restConfigFromKubeconfig(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'kubelogin' } }), dir);
    expect(exec.authenticate).to.be.a('function');
    expect(() => restConfigFromKubeconfig(kubeconfig({}), dir, 'absent')).to.throw('no context absent');
  });

  it('writes MicroTime with microseconds, as the API server does', function () {
    expect(microTime(Date.UTC(2026, 10, 27, 8, 0, 0, 123))).to.equal('2026-11-27T08:00:00.123000Z');
  });
});
