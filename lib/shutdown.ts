/**
 * Daemon shutdown on SIGTERM/SIGINT: log, run `stop` once, exit 0 when it finishes, 1 when it
 * fails or takes longer than `forceAfterMs`.
 */
import type { Logger } from './logger';
import { errorMessage } from './errors';

export function exitOnTerminationSignals(
  stop: () => Promise<void>,
  opts: { logger: Logger; message?: string; forceAfterMs?: number },
): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal }, opts.message ?? 'shutting down');
    setTimeout(() => process.exit(1), opts.forceAfterMs ?? 10_000).unref();
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        opts.logger.error({ err: errorMessage(e) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
