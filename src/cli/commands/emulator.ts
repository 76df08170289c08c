import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../../log.ts';
import { port, seconds } from '../arguments.ts';
import { readDocument } from '../documents.ts';
import { untilSignal } from '../signals.ts';

interface EmulatorCommandOptions {
  port: number;
  host: string;
  state: string;
  replicationSeconds: number;
  operationSeconds: number;
  config?: string;
  faults?: string;
  demoPrincipal: boolean;
}

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('run the ARM emulator (galleries, VMs, disks, NICs, resource groups and an Entra token endpoint over HTTPS) until Ctrl-C')
    .option('--port <n>', 'port to listen on (0 = any free port)', port, 0)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .requiredOption('--state <file>', 'JSON file the state is kept in; the CA certificate and the admin token (emulator-token) are kept next to it')
    .option('--replication-seconds <s>', 'time one region takes to replicate', seconds, 60)
    .option('--operation-seconds <s>', 'time a create, update or delete stays in progress', seconds, 2)
    .option('--config <file>', 'principals, region access, token buckets, seeds and faults (JSON or YAML; docs/emulator.md); replaces the stored config')
    .option('--faults <file>', 'faults to inject at start (JSON or YAML, as POST /_emulator/faults takes)')
    .option('--demo-principal', "keep the demo service principal whose public secret examples/' credential Secret holds (it may write in the Simulated accounts' subscription)", false)
    .action(async (options: EmulatorCommandOptions) => {
      const log = createLogger();
      const [config, faults] = await Promise.all([readDocument(options.config), readDocument(options.faults)]);
      const { adminToken, startEmulator } = await import('../../emulator/index.ts');
      const stateFile = resolve(options.state);
      // Anyone who can reach a standalone emulator could otherwise act in it: it requires its admin token.
      const admin = await adminToken(dirname(stateFile));
      const emulator = await startEmulator({
        port: options.port,
        host: options.host,
        stateFile,
        adminToken: admin.token,
        keepDemoPrincipal: options.demoPrincipal,
        replicationSeconds: options.replicationSeconds,
        operationSeconds: options.operationSeconds,
        ...(config === undefined ? {} : { config }),
        ...(faults === undefined ? {} : { faults }),
        log,
      });
      console.log(`ARM emulator listening at ${emulator.url}`);
      console.log(`CA certificate: ${emulator.caFile ?? '(not written)'}`);
      console.log(`Admin token file: ${admin.file} (ARM and /_emulator/* need it as a bearer token; labimage run --emulator-token-file)`);
      // Printed only when made now: a token someone put there (the chart's Secret) stays out of the logs.
      if (admin.generated) console.log(`Admin token: ${admin.token}`);
      const signal = await untilSignal();
      log.info({ signal }, 'stopping the ARM emulator');
      await emulator.stop();
    });
}
