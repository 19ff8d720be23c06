/**
 * A benchmark file run by itself (`node dist/bench/NAME.js ...`) rather than through run.ts:
 * run it with the command line, exit with its code (0 when it returns none), print the stack of
 * a failure and exit 1. A NetloomError is a refusal the person running it can act on (a bad
 * option, another run holding the lab): its message alone.
 */
import { isNetloomError } from '../../lib/errors';

export function runIfMain(mod: NodeModule, run: (args: string[]) => Promise<number | void>): void {
  if (require.main !== mod) return;
  run(process.argv.slice(2)).then(
    (code) => process.exit(typeof code === 'number' ? code : 0),
    (e: unknown) => {
      process.stderr.write(`${isNetloomError(e) ? `error: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
