import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The process's root logger: JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(level: LevelWithSilent = (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}
