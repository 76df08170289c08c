import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CommandOptions {
  /** Every line the command prints (stdout and stderr), as it comes; by default only an error shows them. */
  onLine?: (line: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) and rejected after this long. */
  timeoutMs?: number;
}

/** A command that failed: how it ended and the last lines it printed. */
export class CommandError extends Error {
  /** "failed (exit 1)", "cannot start: not on PATH", ... */
  readonly exit: string;
  readonly outputTail: string;

  constructor(commandLine: string, exit: string, outputTail: string) {
    super(`${commandLine} ${exit}${outputTail ? `:\n${outputTail}` : ''}`);
    this.exit = exit;
    this.outputTail = outputTail;
  }
}

/**
 * Runs a command to completion and resolves with its stdout. Unlike execFile, lines reach the
 * caller while a long build runs, and a failure carries the tail of the output rather than all of it.
 */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  const commandLine = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        tail = `${tail}${line}\n`.slice(-6000);
        if (line.trim()) options.onLine?.(line);
      });
    }
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(commandLine, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'cannot start: not on PATH' : `cannot start (${err.message})`, ''));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new CommandError(commandLine, signal ? `was killed (${signal}${options.timeoutMs === undefined ? '' : `, after ${options.timeoutMs / 1000} s`})` : `failed (exit ${code})`, tail.trim()));
    });
  });
}
