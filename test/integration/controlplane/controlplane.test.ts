import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CoreV1Api, VersionApi, Watch, type V1Namespace } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ControlPlane } from '../../../src/controlplane/controlplane.ts';
import { controlPlane } from '../harness.ts';

const run = promisify(execFile);

describe('local control plane', () => {
  it('serves a kube-apiserver of the pinned release', async () => {
    const version = await controlPlane().kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).to.match(/^v1\.3[4-9]\./);
  });

  it('creates a namespace, and a watch sees it happen', async () => {
    const kc = controlPlane().kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    const name = `watched-${Date.now()}`;
    const seen = new Promise<string>((resolve, reject) => {
      void new Watch(kc)
        .watch('/api/v1/namespaces', { resourceVersion: list.metadata?.resourceVersion }, (phase, object: V1Namespace) => {
          if (object.metadata?.name === name) resolve(phase);
        }, (error: unknown) => (error ? reject(error as Error) : undefined))
        .then((controller) => seen.finally(() => controller.abort()));
    });
    await core.createNamespace({ body: { metadata: { name } } });
    expect(await seen).to.equal('ADDED');
  });

  it('answers kubectl with the kubeconfig it wrote', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'get', 'namespace', 'default', '-o', 'name']);
    expect(stdout.trim()).to.equal('namespace/default');
  });

  it('runs a second instance beside the first, and stop leaves no process or folder behind', async () => {
    const second = await ControlPlane.start();
    try {
      expect(second.apiServerUrl).to.not.equal(controlPlane().plane.apiServerUrl);
      const names = (await second.kubeConfig().makeApiClient(CoreV1Api).listNamespace()).items.map((ns) => ns.metadata?.name);
      expect(names).to.include('default');
    } finally {
      await second.stop();
    }
    expect(existsSync(second.kubeconfigPath)).to.equal(false);
    const etcdAfterStop = await fetch(`${second.etcdUrl}/health`).then(() => 'answered', () => 'refused');
    expect(etcdAfterStop).to.equal('refused');
  });
});
