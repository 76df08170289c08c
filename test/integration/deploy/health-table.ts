// docs/health.md's table of every phase of every kind, read as the test that holds the judges to
// it reads it (the rules are written under the table): which objects a row is for, and the three
// verdicts it promises.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../harness.ts';
import type { ArgoHealthStatus, KstatusStatus, WaitVerdict } from './judges.ts';
import { KINDS, type Kind, type WrittenObject } from './operator-statuses.ts';

export const healthDoc = join(repoRoot, 'docs', 'health.md');

const SUMMARY = ['Ready', 'Reconciling', 'Stalled'];

export interface HealthRow {
  /** The row as written, for messages. */
  text: string;
  kind: Kind | 'any';
  /** Phases in backquotes; empty: any phase. */
  phases: string[];
  /** `Ready=...`, `Reconciling=True`, `Stalled=True` as the row writes them, sorted. */
  summary: string[];
  /** Every condition type the row names. */
  named: Set<string>;
  deleting: boolean;
  notSeen: boolean;
  kstatus: KstatusStatus;
  argocd: ArgoHealthStatus;
  kubectlWait: WaitVerdict;
}

const backquoted = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

function parseRow(line: string): HealthRow {
  const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
  if (cells.length !== 6) throw new Error(`docs/health.md: a row of the phase table has ${cells.length} cells, not 6: ${line}`);
  const [kind = '', phase = '', conditions = '', kstatus = '', argocd = '', wait = ''] = cells;
  if (kind !== 'any' && !(KINDS as readonly string[]).includes(kind)) throw new Error(`docs/health.md: unknown kind ${kind} in ${line}`);
  const tokens = backquoted(conditions);
  const pairs = tokens.filter((t) => /^[A-Za-z]+=(True|False|Unknown)$/.test(t));
  return {
    text: line,
    kind: kind as HealthRow['kind'],
    phases: backquoted(phase),
    summary: pairs.filter((p) => SUMMARY.includes(p.split('=')[0]!)).sort(),
    named: new Set(tokens.map((t) => t.split('=')[0]!)),
    deleting: tokens.includes('deletionTimestamp'),
    notSeen: tokens.includes('observedGeneration'),
    kstatus: kstatus.split(/[ ,]/)[0] as KstatusStatus,
    argocd: argocd.split(/[ ,]/)[0] as ArgoHealthStatus,
    kubectlWait: wait.startsWith('returns') ? 'returns' : 'keeps waiting',
  };
}

/** The rows of the table under "Every phase of every kind". */
export async function readHealthTable(): Promise<HealthRow[]> {
  const doc = await readFile(healthDoc, 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Every phase of every kind'));
  if (!section) throw new Error('docs/health.md has no section "Every phase of every kind"');
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  // The header and the separator line come first.
  return lines.slice(2).map(parseRow);
}

interface Condition {
  type: string;
  status: string;
}

/** The rows an object falls in, by the rules written under the table. */
export function rowsFor(rows: readonly HealthRow[], written: WrittenObject): HealthRow[] {
  const { object, kind } = written;
  const conditions = (object.status?.conditions ?? []) as Condition[];
  const deleting = Boolean(object.metadata.deletionTimestamp);
  const notSeen = !deleting && object.status?.observedGeneration !== object.metadata.generation;
  const summary = conditions.filter((c) => SUMMARY.includes(c.type)).map((c) => `${c.type}=${c.status}`).sort();
  const others = conditions.filter((c) => !SUMMARY.includes(c.type)).map((c) => c.type);
  return rows.filter((row) => {
    if (row.kind !== 'any' && row.kind !== kind) return false;
    if (row.notSeen || notSeen) return row.notSeen && notSeen;
    if (row.deleting || deleting) return row.deleting && deleting && others.every((type) => row.named.has(type));
    if (row.phases.length > 0 && !row.phases.includes(object.status?.phase ?? '')) return false;
    return JSON.stringify(row.summary) === JSON.stringify(summary) && others.every((type) => row.named.has(type));
  });
}
