import { VersionApi } from '@kubernetes/client-node';
import { startSharedControlPlane, stopSharedControlPlane } from './harness.ts';

// Mocha global fixtures: one real kube-apiserver + etcd for the whole integration run.
export async function mochaGlobalSetup(): Promise<void> {
  const plane = await startSharedControlPlane();
  const version = await plane.kubeConfig().makeApiClient(VersionApi).getCode();
  console.log(`control plane: kube-apiserver ${version.gitVersion} at ${plane.apiServerUrl} (binaries: ${plane.assets.origin})`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedControlPlane();
}
