import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';

const WATCHDOG_JS = resolve(__dirname, '../../support/exit-watchdog.js');

/** A node process that arms the watchdog (200 ms) and then runs `rest`. */
function child(rest: string): Promise<{ code: number; stderr: string }> {
  const script = `require(${JSON.stringify(WATCHDOG_JS)}).armExitWatchdog(200); ${rest}`;
  return run(process.execPath, ['-e', script], { allowFailure: true, timeoutMs: 10_000 });
}

describe('test support: the exit watchdog', () => {
  it('a process held by a forgotten timer exits 1 and names what holds it', async () => {
    const r = await child('setInterval(() => undefined, 1000);');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /still running 200 ms after the last test, held by: .*Timeout/);
  });

  it('a process with nothing left open exits at once with its own status', async () => {
    const r = await child('setTimeout(() => undefined, 20);');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
  });
});
