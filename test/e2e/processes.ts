import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Processes still alive in a process group (the way a terminal's Ctrl-C reaches a whole command). */
export async function groupMembers(pgid: number): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pgid=,pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.trim().split(/\s+/)[0] === String(pgid))
    .map((line) => line.trim());
}

/** Waits (up to 30 s) for a process group to empty; returns what is still in it. */
export async function groupEmptied(pgid: number): Promise<string[]> {
  let members = await groupMembers(pgid);
  for (let i = 0; i < 150 && members.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    members = await groupMembers(pgid);
  }
  return members;
}

export interface Foreground {
  child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until the output matches, failing early if the command exits. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Ctrl-C: SIGINT to the whole group. */
  interrupt(): void;
}

/** A command run as a shell runs a foreground job: its own process group, output collected. */
export function foreground(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Foreground {
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited (${child.exitCode}):\n${output}`);
        if (Date.now() > deadline) throw new Error(`${command} ${args.join(' ')}: no ${pattern} after ${timeoutMs / 1000} s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    interrupt() {
      if (child.pid) process.kill(-child.pid, 'SIGINT');
    },
  };
}

/**
 * The README's install into `prefix`: what `npm ci` does after installing (its prepare script
 * builds dist/), then `npm install -g .`, which puts `labimage` and `kubectl-labimage` in
 * `prefix/bin`. Returns an environment with that folder first on PATH.
 */
export async function installAsReadmeSays(prefix: string): Promise<NodeJS.ProcessEnv> {
  await run('npm', ['run', 'build'], { cwd: repoRoot });
  await run('npm', ['install', '--global', '--prefix', prefix, '.'], { cwd: repoRoot });
  return { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}` };
}
