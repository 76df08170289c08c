// kubectl's flags for where a command looks, shared by every command that reads the cluster, so
// `kubectl labimage` takes them as kubectl does.
import { Option, type Command } from 'commander';
import type { RestConfig } from '../runtime/index.ts';
import { loadClusterConfig, type ClusterFlags } from './kubeconfig.ts';

export interface ClusterOptions extends ClusterFlags {
  namespace?: string;
  allNamespaces?: boolean;
}

export function addClusterOptions(command: Command, { allNamespaces }: { allNamespaces: boolean }): Command {
  command
    .option('--kubeconfig <path>', 'kubeconfig file (default: the files of $KUBECONFIG merged as kubectl merges them, else ~/.kube/config)')
    .option('--context <name>', "kubeconfig context (default: the kubeconfig's current-context)")
    .option('-n, --namespace <name>', "namespace (default: the context's, else default)");
  if (allNamespaces) command.option('-A, --all-namespaces', 'every namespace', false);
  return command;
}

/** The REST config and namespace the options name; `namespace` is undefined for -A. */
export function resolveCluster(options: ClusterOptions, command: Command): { restConfig: RestConfig; namespace: string | undefined } {
  if (options.allNamespaces && options.namespace) command.error('error: use either --namespace or --all-namespaces');
  const restConfig = loadClusterConfig(options);
  return { restConfig, namespace: options.allNamespaces ? undefined : (options.namespace ?? restConfig.namespace ?? 'default') };
}

export type MachineFormat = 'json' | 'yaml';

/** `-o json|yaml`, or the format for people a command prints by default (named `human`). */
export function outputOption(human: string): Option {
  return new Option('-o, --output <format>', 'output format').choices([human, 'json', 'yaml']).default(human);
}
