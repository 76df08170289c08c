import type { Command } from 'commander';
import { untilSignal } from '../signals.ts';

export function registerControlPlaneCommand(program: Command): void {
  program
    .command('controlplane')
    .description('run a local kube-apiserver and etcd (built from their Go modules on first use) until Ctrl-C')
    .requiredOption('--kubeconfig <path>', 'where to write the admin kubeconfig')
    .action(async (options: { kubeconfig: string }) => {
      const { ControlPlane } = await import('../../controlplane/controlplane.ts');
      const plane = await ControlPlane.start({ kubeconfigPath: options.kubeconfig, log: (line) => console.error(line) });
      console.log(`kube-apiserver ready at ${plane.apiServerUrl}`);
      console.log(`kubeconfig: ${plane.kubeconfigPath}`);
      console.log(`try: kubectl --kubeconfig ${plane.kubeconfigPath} get namespaces`);
      const signal = await untilSignal();
      console.error(`${signal}: stopping the control plane`);
      await plane.stop();
    });
}
