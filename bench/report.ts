// The benchmark's report: the machine it ran on, a table for people, a JSON file in bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { VersionApi, type KubeConfig } from '@kubernetes/client-node';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  node: string;
  kubeApiserver: string;
  /** 1-minute load average when the run started: other work on a shared machine skews every figure. */
  loadAverage: number;
}

export async function describeMachine(kc: KubeConfig): Promise<Machine> {
  const version = await kc.makeApiClient(VersionApi).getCode();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    kubeApiserver: version.gitVersion,
    loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/** A two-column table of label → value, with the goal where one exists. */
export function table(rows: [label: string, value: string | number, goal?: string][]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value, goal]) => `${label.padEnd(width)}  ${String(value)}${goal ? `   (goal ${goal})` : ''}`).join('\n');
}

/** Writes bench/results/<timestamp>.json; returns its path. */
export async function saveResult(result: object): Promise<string> {
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL(`${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file.pathname;
}
