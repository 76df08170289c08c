// The benchmark's ARM emulator in a process of its own, as Azure is to the operator: in the
// benchmark's process its answers would wait behind the benchmark's own work (creating objects,
// watching them), and the operator would be measured against a slow Azure that no one has.
// Run as a script, it starts the emulator and prints `{url, caPem}` as one JSON line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defaultConfigDocument, startEmulator } from '../src/emulator/index.ts';

export interface EmulatorProcessOptions {
  replicationSeconds: number;
  operationSeconds: number;
  /** ARM's token buckets; off, the operator is measured against bare API writes, not ARM's budget. */
  buckets: boolean;
}

export interface EmulatorProcess {
  url: string;
  caPem: string;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it listened`)));
  });
  const { url, caPem } = JSON.parse(first) as { url: string; caPem: string };
  return {
    url,
    caPem,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (import.meta.main) {
  const { buckets, ...timing } = JSON.parse(process.argv[2] ?? '{}') as EmulatorProcessOptions;
  const config = { ...(defaultConfigDocument() as object), buckets: { enabled: buckets } };
  const emulator = await startEmulator({ ...timing, config });
  process.stdout.write(`${JSON.stringify({ url: emulator.url, caPem: emulator.caPem })}\n`);
  process.once('SIGTERM', () => void emulator.stop().then(() => process.exit(0)));
}
