/**
 * Test-only crash points of an ADD (issue 15 lab test): with NETLOOM_TEST_PAUSE_AT=<step>, the
 * agent writes `<run dir>/paused-<step>` when an ADD reaches that step and never goes on with it,
 * so that the test can SIGKILL the agent exactly there. Off (no cost) unless the variable is set.
 * Steps, in order: allocated (address chosen, not yet durable), recorded (durable, the runtime
 * not answered), answered (the registration held before it goes to netmaster), registered (held
 * after netmaster took it). The last two pause only the background registration: the ADD goes on
 * and answers, possibly after the pause file appears, so a test waits for the answer first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetloomError } from '../../lib/errors';

export const PAUSE_STEPS = ['allocated', 'recorded', 'answered', 'registered'] as const;
export type PauseStep = (typeof PAUSE_STEPS)[number];

export type PausePoint = (step: PauseStep) => Promise<void>;

/** A no-op unless `env.NETLOOM_TEST_PAUSE_AT` names a step; bad values are refused naming the variable. */
export function pausePoint(runDir: string, env: NodeJS.ProcessEnv = process.env): PausePoint {
  const at = env.NETLOOM_TEST_PAUSE_AT;
  if (at === undefined || at === '') return () => Promise.resolve();
  if (!(PAUSE_STEPS as readonly string[]).includes(at)) {
    throw new NetloomError('INVALID_ARGUMENT', `NETLOOM_TEST_PAUSE_AT must be one of ${PAUSE_STEPS.join(', ')}, got '${at}'`, {
      field: 'NETLOOM_TEST_PAUSE_AT',
    });
  }
  return (step) => {
    if (step !== at) return Promise.resolve();
    writeFileSync(join(runDir, `paused-${step}`), `${process.pid}\n`);
    // never resolves: this ADD stops here until the test kills the agent
    return new Promise<void>(() => undefined);
  };
}
