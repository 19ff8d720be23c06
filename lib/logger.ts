import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs (pino). Level from NETLOOM_LOG_LEVEL (default info); NETLOOM_LOG_LEVEL=silent
 * turns them off, which the unit tests use.
 */
export function createLogger(component: string, opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = opts.level ?? process.env.NETLOOM_LOG_LEVEL ?? 'info';
  const base = { component };
  return opts.destination ? pino({ level, base }, opts.destination) : pino({ level, base });
}
