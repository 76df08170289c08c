// The chart's pods run as local processes (no container runtime needed): each container's rendered
// arguments, with its volumes as local folders, its own ports on loopback, and Service URLs, which
// need cluster DNS, replaced by the loopback address of the process behind them. The image runs
// `node dist/cli/main.js run` (its ENTRYPOINT) or the container's command; here the same CLI runs
// from src/.
import { join } from 'node:path';
import { foreground, type Foreground } from '../../e2e/processes.ts';
import { repoRoot } from '../harness.ts';
import type { Container } from './topology.ts';

export interface Localisation {
  /** Container mount paths and the local folders that stand for them (the pod's volumes). */
  mounts: Record<string, string>;
  /** Flags whose values only make sense in a cluster: listen addresses, Service URLs. */
  flags: Record<string, string>;
  /** Flags a pod gets another way (the in-cluster config): `--kubeconfig`. */
  extra?: string[];
}

/** The container's arguments with mount paths and cluster-only values replaced. */
export function localArgs(args: readonly string[], local: Localisation): string[] {
  const translated = args.map((arg) => {
    const match = /^--([^=]+)=(.*)$/.exec(arg);
    if (!match) return arg;
    const [, name = '', value = ''] = match;
    const replacement = local.flags[name];
    if (replacement !== undefined) return `--${name}=${replacement}`;
    for (const [mountPath, folder] of Object.entries(local.mounts)) {
      if (value.startsWith(`${mountPath}/`)) return `--${name}=${folder}${value.slice(mountPath.length)}`;
    }
    return arg;
  });
  return [...translated, ...(local.extra ?? [])];
}

/** Starts a container of a rendered Deployment as a process of `labimage` (run, or the container's subcommand). */
export function startLocalPod(container: Container, local: Localisation): Foreground {
  const subcommand = container.command?.at(-1) ?? 'run';
  return foreground(process.execPath, [join(repoRoot, 'src', 'cli', 'main.ts'), subcommand, ...localArgs(container.args ?? [], local)]);
}
