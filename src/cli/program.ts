import { Command } from 'commander';
import { registerControlPlaneCommand } from './commands/controlplane.ts';
import { registerCrdsCommand } from './commands/crds.ts';
import { registerDevCommand } from './commands/dev.ts';
import { registerEmulatorCommand } from './commands/emulator.ts';
import { registerReconcileCommand } from './commands/reconcile.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerStatusCommand } from './commands/status.ts';

/** Every command, under the name it is called by: `labimage`, or `kubectl labimage` as a kubectl plugin. */
export function buildProgram(name: string): Command {
  const program = new Command(name)
    .description('lab-image-operator: lab accounts, galleries, image exports and lab templates on Kubernetes')
    .showHelpAfterError();
  registerControlPlaneCommand(program);
  registerDevCommand(program);
  registerCrdsCommand(program);
  registerRunCommand(program);
  registerEmulatorCommand(program);
  registerStatusCommand(program);
  registerReconcileCommand(program);
  return program;
}
