/**
 * ShellPool: commands through long-lived dash workers give what a spawn would (output, errors, exit
 * status, standard input exactly), nothing in an argument is interpreted, at most `size` run at
 * once, a command past its timeout is killed with its worker (which is replaced), and a closed pool
 * refuses work. Runs real dash processes (no root).
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { isNetloomError } from '../../../lib/errors';
import { requestScript, shellQuote, ShellPool } from '../../../lib/shell-pool';

describe('ShellPool', function () {
  this.timeout(10_000);
  let pool: ShellPool;
  beforeEach(() => (pool = new ShellPool({ size: 2 })));
  afterEach(() => pool.close());

  it('quotes only what needs it, and builds one request script (pure)', () => {
    assert.equal(shellQuote('ip'), 'ip');
    assert.equal(shellQuote('--net=/run/netns/x'), '--net=/run/netns/x');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("a b'c"), `'a b'\\''c'`);
    assert.equal(shellQuote('$(reboot)'), `'$(reboot)'`);
    const s = requestScript(7, ['ip', '-b', '-'], 'link show lo\n', 'T');
    assert.ok(s.startsWith("ip -b - <<'@@NL_IN_7_T'\nlink show lo\n@@NL_IN_7_T\n"), s);
    assert.throws(
      () => requestScript(1, [], undefined, 'T'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => requestScript(1, ['cat'], 'x\n@@NL_IN_1_T\n', 'T'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'input',
    );
  });

  it('returns output, errors and exit status apart, output without a final newline too', async () => {
    const r = await pool.run('sh', ['-c', 'echo out; echo err >&2; printf tail; exit 3'], { allowFailure: true });
    assert.deepEqual(r, { code: 3, stdout: 'out\ntail', stderr: 'err\n' });
    await assert.rejects(
      pool.run('sh', ['-c', 'echo bad >&2; exit 4']),
      (e: unknown) => isNetloomError(e, 'COMMAND_FAILED') && /exited with 4: bad/.test(e.message),
    );
  });

  it('passes standard input exactly (a final newline is added only when missing)', async () => {
    assert.equal((await pool.run('cat', [], { input: 'a\n\nb c\n' })).stdout, 'a\n\nb c\n');
    assert.equal((await pool.run('cat', [], { input: 'x' })).stdout, 'x\n');
    assert.equal((await pool.run('cat', [], { input: '$HOME `id` \\n\n' })).stdout, '$HOME `id` \\n\n');
    assert.equal((await pool.run('cat', [])).stdout, '', 'no input: /dev/null');
  });

  it('interprets nothing in arguments', async () => {
    const weird = ["it's", '$HOME', '`id`', 'a;b', '*', 'two words', '\n'];
    const r = await pool.run('printf', ['%s|', ...weird]);
    assert.equal(r.stdout, `${weird.join('|')}|`);
  });

  it('runs at most `size` commands at once and reuses its workers', async () => {
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => pool.run('sleep', ['0.2'])));
    const ms = Date.now() - t0;
    assert.ok(ms >= 390, `4 x 0.2 s on 2 workers took ${ms} ms`);
    assert.equal(pool.workerPids.length, 2);
    const pids = pool.workerPids;
    await pool.run('true', []);
    assert.ok(
      pool.workerPids.every((p) => pids.includes(p)),
      'same workers',
    );
  });

  it('kills a command past its timeout with its worker, and replaces the worker', async () => {
    await pool.run('true', []);
    const [before] = pool.workerPids;
    const r = await pool.run('sleep', ['10'], { timeoutMs: 150, allowFailure: true });
    assert.equal(r.code, -1);
    assert.match(r.stderr, /timed out after 150 ms/);
    assert.ok(before !== undefined && !pool.workerPids.includes(before), 'the worker is gone');
    const gone = (): boolean => {
      try {
        process.kill(before as number, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor('the killed worker process to exit', gone, { timeoutMs: 1000, intervalMs: 20 });
    assert.ok(gone(), 'the killed worker process does not exist any more');
    assert.equal((await pool.run('echo', ['again'])).stdout, 'again\n');
  });

  it('a closed pool refuses work', async () => {
    pool.close();
    await assert.rejects(pool.run('true', []), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
  });
});
