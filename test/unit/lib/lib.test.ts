import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { Clock, waitFor } from '../../../lib/clock';
import { errorMessage, isNetloomError, NetloomError } from '../../../lib/errors';
import { run } from '../../../lib/exec';
import { isOurProcess, signalIfOurs, stopProcess } from '../../../lib/process';
import { formatTable } from '../../../lib/table';

function fakeClock(): Clock & { slept: number } {
  let t = 0;
  const c = {
    slept: 0,
    now: () => t,
    monotonic: () => t,
    after: () => ({ cancel: () => undefined }),
    sleep: async (ms: number) => {
      t += ms;
      c.slept += ms;
    },
  };
  return c;
}

describe('lib', () => {
  it('NetloomError carries code and field into JSON', () => {
    const e = new NetloomError('INVALID_ARGUMENT', 'subnet is not a CIDR', { field: 'subnet' });
    assert.deepEqual(e.toJSON(), { code: 'INVALID_ARGUMENT', error: 'subnet is not a CIDR', field: 'subnet' });
    assert.ok(isNetloomError(e, 'INVALID_ARGUMENT'));
    assert.ok(!isNetloomError(e, 'NOT_FOUND'));
    assert.equal(errorMessage('plain'), 'plain');
  });

  it('waitFor returns the first truthy value and times out on a fake clock', async () => {
    const clock = fakeClock();
    let n = 0;
    assert.equal(await waitFor('n to reach 3', () => (++n >= 3 ? n : false), { clock, intervalMs: 10 }), 3);
    assert.equal(clock.slept, 20);
    await assert.rejects(
      waitFor('never', () => false, { clock, timeoutMs: 100, intervalMs: 30 }),
      /timed out after 100 ms waiting for never/,
    );
  });

  it('run returns output and throws COMMAND_FAILED with stderr on failure', async () => {
    assert.equal((await run('sh', ['-c', 'echo hi'])).stdout, 'hi\n');
    await assert.rejects(
      run('sh', ['-c', 'echo oops >&2; exit 3']),
      (e: unknown) => isNetloomError(e, 'COMMAND_FAILED') && /exit 3: oops/.test(e.message),
    );
    assert.equal((await run('sh', ['-c', 'exit 4'], { allowFailure: true })).code, 4);
    assert.equal((await run('cat', [], { input: 'abc' })).stdout, 'abc');
  });

  it('run: a program that exits without reading its input is judged by its exit, not an uncaught EPIPE', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      // stdin closed at once, 4 MiB to write: the write fails with EPIPE
      const r = await run('sh', ['-c', 'exec 0<&-; sleep 0.2; exit 3'], { input: 'x'.repeat(4 << 20), allowFailure: true });
      assert.equal(r.code, 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const h of mochaHandlers) process.on('uncaughtException', h);
    }
    assert.deepEqual(uncaught, []);
  });

  it('signals a PID only while it still runs the expected program', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = new Promise((r) => child.once('exit', r));
    assert.ok(isOurProcess(pid, 'sleep'));
    assert.equal(signalIfOurs(pid, 'etcd'), false, 'a PID running another program is left alone');
    assert.ok(isOurProcess(pid, 'sleep'), 'still running after the refused signal');
    await stopProcess(pid, 'sleep');
    await exited;
    assert.equal(isOurProcess(pid, 'sleep'), false);
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    assert.equal(
      formatTable(
        ['A', 'LONGER'],
        [
          ['xyz', 1],
          ['q', 'last'],
        ],
      ),
      'A    LONGER\nxyz  1\nq    last',
    );
  });
});

describe('exitOnTerminationSignals', () => {
  const SHUTDOWN_JS = require.resolve('../../../lib/shutdown');
  async function daemon(stopBody: string): Promise<{ code: number | null; out: string }> {
    const script = `
      const { exitOnTerminationSignals } = require(${JSON.stringify(SHUTDOWN_JS)});
      const logger = { info() {}, error() {} };
      exitOnTerminationSignals(async () => { ${stopBody} }, { logger, forceAfterMs: 2000 });
      process.stdout.write('ready\\n');
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    await new Promise<void>((res) => child.stdout?.on('data', (d: Buffer) => ((out += d.toString()), out.includes('ready') && res())));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    return { code, out };
  }
  it('runs stop once on SIGTERM and exits 0', async () => {
    const r = await daemon("process.stdout.write('stopped\\\\n');");
    assert.equal(r.code, 0);
    assert.match(r.out, /stopped/);
  });
  it('exits 1 when stop fails', async () => {
    assert.equal((await daemon("throw new Error('boom');")).code, 1);
  });
});
