import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

/** Every server child still running, so that an exiting process can take them down with it. */
const running = new Set<ChildProcess>();

process.once('exit', () => {
  // 'exit' handlers must be synchronous: SIGKILL is the only stop that needs no waiting.
  for (const child of running) child.kill('SIGKILL');
});

/** A server binary run as a child process, its output kept in a log file for when it fails. */
export class ServerProcess {
  readonly name: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;

  constructor(name: string, logFile: string) {
    this.name = name;
    this.logFile = logFile;
  }

  start(binary: string, args: string[]): void {
    const out = openSync(this.logFile, 'a');
    try {
      const child = spawn(binary, args, { stdio: ['ignore', out, out] });
      this.child = child;
      running.add(child);
      this.exited = new Promise((resolve) => {
        child.once('exit', (code) => {
          running.delete(child);
          resolve(code);
        });
        child.once('error', () => {
          running.delete(child);
          resolve(null);
        });
      });
    } finally {
      closeSync(out);
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && running.has(this.child);
  }

  /** Polls `probe` until it answers true; fails early, with the log's tail, if the process exits. */
  async waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning) throw new Error(`${this.name} exited while starting:\n${this.logTail()}`);
      if (await probe().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name} not ready after ${timeoutMs / 1000} s:\n${this.logTail()}`);
  }

  /** SIGTERM, then SIGKILL if the process has not gone within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.exited || !running.has(child)) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
