/** The lab lock: commands holding it never overlap, and a lock left by a dead process is taken over. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLabLock } from '../../../deploy/lab/state';

describe('lab lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs holders one after the other and releases the lock', async () => {
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        withLabLock(dir, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 15));
          order.push(i);
          inside--;
        }),
      ),
    );
    assert.equal(maxInside, 1);
    assert.equal(order.length, 4);
    assert.equal(existsSync(join(dir, 'lock')), false);
  });

  it('releases the lock when the holder throws', async () => {
    await assert.rejects(
      withLabLock(dir, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(existsSync(join(dir, 'lock')), false);
  });

  it('takes over a lock whose holder is gone, and waits for a live one up to the timeout', async () => {
    writeFileSync(join(dir, 'lock'), '999999999');
    assert.equal(await withLabLock(dir, () => Promise.resolve(readFileSync(join(dir, 'lock'), 'utf8'))), String(process.pid));
    writeFileSync(join(dir, 'lock'), '1'); // pid 1 is alive
    await assert.rejects(
      withLabLock(dir, () => Promise.resolve(0), 100),
      /held by pid 1/,
    );
  });
});
