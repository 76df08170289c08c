#!/usr/bin/env node
import { Command } from 'commander';
import { registerControlPlaneCommand } from './commands/controlplane.ts';
import { registerDevCommand } from './commands/dev.ts';
import { registerCrdsCommand } from './commands/crds.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerEmulatorCommand } from './commands/emulator.ts';
import { registerStatusCommand } from './commands/status.ts';

const program = new Command('labimage')
  .description('lab-image-operator: lab accounts, galleries, image exports and lab templates on Kubernetes')
  .showHelpAfterError();

registerControlPlaneCommand(program);
registerDevCommand(program);
registerCrdsCommand(program);
registerRunCommand(program);
registerEmulatorCommand(program);
registerStatusCommand(program);

await program.parseAsync(process.argv);
