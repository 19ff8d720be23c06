/** takeRunLock: one dataplane run at a time; a killed run's lock is taken over. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError } from '../../../lib/errors';
import { takeRunLock } from '../../../bench/support/run-lock';

describe('bench takeRunLock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nl-run-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second run while the first one lives, naming its PID; the release lets the next one in', () => {
    const path = join(dir, 'sub', 'run.lock');
    const release = takeRunLock(path, 'dataplane benchmark', { pid: 111, alive: () => true });
    assert.equal(readFileSync(path, 'utf8').trim(), '111');
    assert.throws(
      () => takeRunLock(path, 'dataplane benchmark', { pid: 222, alive: (p) => p === 111 }),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && /another dataplane benchmark is running \(pid 111\)/.test(e.message),
    );
    assert.equal(readFileSync(path, 'utf8').trim(), '111', 'the refused run left the lock alone');
    release();
    assert.equal(existsSync(path), false);
    takeRunLock(path, 'dataplane benchmark', { pid: 222, alive: () => true });
    assert.equal(readFileSync(path, 'utf8').trim(), '222');
  });

  it('takes over the lock of a run that is gone, or an unreadable one', () => {
    const path = join(dir, 'run.lock');
    writeFileSync(path, '111\n');
    takeRunLock(path, 'dataplane benchmark', { pid: 222, alive: () => false });
    assert.equal(readFileSync(path, 'utf8').trim(), '222');
    writeFileSync(path, 'garbage');
    takeRunLock(path, 'dataplane benchmark', { pid: 333, alive: () => true });
    assert.equal(readFileSync(path, 'utf8').trim(), '333');
  });

  it("a release after another run took over a stale lock leaves that run's lock in place", () => {
    const path = join(dir, 'run.lock');
    const release = takeRunLock(path, 'dataplane benchmark', { pid: 111, alive: () => true });
    takeRunLock(path, 'dataplane benchmark', { pid: 222, alive: () => false });
    release();
    assert.equal(readFileSync(path, 'utf8').trim(), '222');
  });
});
