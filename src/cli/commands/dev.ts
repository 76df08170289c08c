import type { Command } from 'commander';
import { seconds } from '../arguments.ts';
import type { DevOptions } from '../dev-session.ts';

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('everything on this machine: a local control plane, the CRDs, the operator with its embedded ARM emulator, and examples/, with live progress until Ctrl-C')
    .option('--use-current-context', "run against the kubeconfig's current context instead of a local control plane", false)
    .option('--replication-seconds <s>', 'how long the emulator takes to replicate to one region', seconds, 30)
    .option('--no-examples', 'do not apply examples/')
    // Imported when `dev` runs, so that `labimage run` (the operator) loads none of it.
    .action(async (options: DevOptions) => (await import('../dev-session.ts')).runDevSession(options));
}
