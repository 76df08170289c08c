import { resolve } from 'node:path';
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
}

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('run the ARM emulator (galleries, VMs, disks, NICs, resource groups and an Entra token endpoint over HTTPS) until Ctrl-C')
    .option('--port <n>', 'port to listen on (0 = any free port)', port, 0)
    .option('--host <address>', 'address to listen on; its default principal needs only a well-known token, so keep it private', '127.0.0.1')
    .requiredOption('--state <file>', 'JSON file the state is kept in; the CA certificate is written next to it')
    .option('--replication-seconds <s>', 'time one region takes to replicate', seconds, 60)
    .option('--operation-seconds <s>', 'time a create, update or delete stays in progress', seconds, 2)
    .option('--config <file>', 'principals, region access, token buckets, seeds and faults (JSON or YAML; docs/emulator.md); replaces the stored config')
    .option('--faults <file>', 'faults to inject at start (JSON or YAML, as POST /_emulator/faults takes)')
    .action(async (options: EmulatorCommandOptions) => {
      const log = createLogger();
      const [config, faults] = await Promise.all([readDocument(options.config), readDocument(options.faults)]);
      const { startEmulator } = await import('../../emulator/index.ts');
      const emulator = await startEmulator({
        port: options.port,
        host: options.host,
        stateFile: resolve(options.state),
        replicationSeconds: options.replicationSeconds,
        operationSeconds: options.operationSeconds,
        ...(config === undefined ? {} : { config }),
        ...(faults === undefined ? {} : { faults }),
        log,
      });
      console.log(`ARM emulator listening at ${emulator.url}`);
      console.log(`CA certificate: ${emulator.caFile ?? '(not written)'}`);
      const signal = await untilSignal();
      log.info({ signal }, 'stopping the ARM emulator');
      await emulator.stop();
    });
}
