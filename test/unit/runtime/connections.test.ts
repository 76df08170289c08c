import { expect } from 'chai';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { shareConnections } from '../../../src/runtime/connections.ts';

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  const pem = (what: string) => Buffer.from(`-----BEGIN ${what}-----\nAA==\n-----END ${what}-----\n`).toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'a', server, caData: pem('CERTIFICATE') }, { name: 'b', server: 'https://127.0.0.1:2', caData: pem('CERTIFICATE') }],
    users: [{ name: 'admin', certData: pem('CERTIFICATE'), keyData: pem('PRIVATE KEY') }],
    contexts: [{ name: 'a', cluster: 'a', user: 'admin' }, { name: 'b', cluster: 'b', user: 'admin' }],
    currentContext: 'a',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig) {
  const context = new RequestContext(`${kc.getCurrentCluster()?.server}/api`, HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getDispatcher();
}

describe('shareConnections', () => {
  it('gives every request of a cluster and user the same dispatcher, so they share connections', async () => {
    const plain = kubeConfig('https://127.0.0.1:1');
    // What client-node does by itself: a new Agent (a new TLS connection) per request.
    expect(await dispatcherOf(plain)).to.not.equal(await dispatcherOf(plain));

    const kc = shareConnections(kubeConfig('https://127.0.0.1:1'));
    const first = await dispatcherOf(kc);
    expect(first).to.not.equal(undefined);
    expect(await dispatcherOf(kc)).to.equal(first);
    expect(shareConnections(kc)).to.equal(kc);
    expect(await dispatcherOf(kc)).to.equal(first);

    kc.setCurrentContext('b');
    const other = await dispatcherOf(kc);
    expect(other).to.not.equal(first);
    expect(await dispatcherOf(kc)).to.equal(other);
  });
});
