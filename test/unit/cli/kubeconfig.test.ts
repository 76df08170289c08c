import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { kubeconfigFiles, loadClusterConfig } from '../../../src/cli/kubeconfig.ts';

// Two kubeconfig files in two folders, as a user with KUBECONFIG=a:b has them.
function kubeconfig(options: { current?: string; clusters: [string, string][]; contexts: [string, string, string?][]; caFile?: string }) {
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    ...(options.current ? { 'current-context': options.current } : {}),
    clusters: options.clusters.map(([name, server]) => ({ name, cluster: { server, ...(options.caFile ? { 'certificate-authority': options.caFile } : {}) } })),
    users: [{ name: 'me', user: { token: `token-of-${options.clusters[0]?.[0]}` } }],
    contexts: options.contexts.map(([name, cluster, namespace]) => ({ name, context: { cluster, user: 'me', ...(namespace ? { namespace } : {}) } })),
  });
}

describe('cli: kubeconfig loading as kubectl does it', () => {
  let dir: string;
  let first: string;
  let second: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labimages-kubeconfig-'));
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    first = join(dir, 'a', 'config');
    second = join(dir, 'b', 'config');
    await writeFile(join(dir, 'b', 'ca.pem'), 'CA OF B');
    await writeFile(first, kubeconfig({ current: 'staging', clusters: [['staging', 'https://staging.example:6443']], contexts: [['staging', 'staging', 'labs']] }));
    // Sets its own current-context and redefines `staging`: the first file wins both.
    await writeFile(
      second,
      kubeconfig({
        current: 'prod',
        clusters: [['prod', 'https://prod.example:6443'], ['staging', 'https://elsewhere.example:6443']],
        contexts: [['prod', 'prod']],
        caFile: 'ca.pem',
      }),
    );
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges the files of $KUBECONFIG: the first to set current-context or a name wins', () => {
    const config = loadClusterConfig({}, { KUBECONFIG: [first, second].join(delimiter) });
    expect(config).to.include({ server: 'https://staging.example:6443', namespace: 'labs', token: 'token-of-staging' });
  });

  it('--context picks a context from any file, its relative paths read from that file\'s folder', () => {
    const config = loadClusterConfig({ context: 'prod' }, { KUBECONFIG: [first, second].join(delimiter) });
    expect(config).to.include({ server: 'https://prod.example:6443', ca: 'CA OF B' });
    expect(config.namespace).to.equal(undefined);
  });

  it('--kubeconfig replaces $KUBECONFIG; files of $KUBECONFIG that do not exist are skipped', () => {
    expect(loadClusterConfig({ kubeconfig: second }, { KUBECONFIG: first }).server).to.equal('https://prod.example:6443');
    expect(kubeconfigFiles({}, { KUBECONFIG: [join(dir, 'missing'), second].join(delimiter) })).to.deep.equal([second]);
  });

  it('an unknown context is an error that names it', () => {
    expect(() => loadClusterConfig({ context: 'nope' }, { KUBECONFIG: first })).to.throw('no context nope');
  });
});
