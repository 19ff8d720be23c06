/**
 * The CNI_NETNS probe (netplugin/cni/netns-probe.ts) on real paths any user can make or read:
 * a namespace of this process, a FIFO (which must not block), a plain file, a directory, a missing
 * path and a namespace of another type.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/exec';
import { CniError } from '../../../netplugin/cni/errors';
import { probeNetns } from '../../../netplugin/cni/netns-probe';

async function codeOf(path: string): Promise<number | 'ok'> {
  try {
    await probeNetns(path);
    return 'ok';
  } catch (e) {
    if (e instanceof CniError) return e.code;
    throw e;
  }
}

describe('CNI_NETNS probe', () => {
  let dir: string;
  before(async () => {
    mkdirSync('/tmp/nl-cni', { recursive: true });
    dir = mkdtempSync('/tmp/nl-cni/probe-');
    writeFileSync(join(dir, 'file'), 'x');
    mkdirSync(join(dir, 'dir'));
    await run('mkfifo', [join(dir, 'fifo')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a network namespace', async () => {
    assert.equal(await codeOf(`/proc/${process.pid}/ns/net`), 'ok');
    assert.equal(await codeOf('/proc/self/ns/net'), 'ok');
  });

  it('refuses a FIFO at once with code 4 naming CNI_NETNS (nothing opens it)', async () => {
    const t0 = performance.now();
    await assert.rejects(
      probeNetns(join(dir, 'fifo')),
      (e: unknown) => e instanceof CniError && e.code === 4 && /CNI_NETNS: .* a FIFO/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 1000, 'answered without waiting for a writer');
  });

  const cases: Array<[string, () => string, number, RegExp]> = [
    ['a plain file', () => '/etc/passwd', 4, /\/etc\/passwd is a file, not a network namespace/],
    ['a directory', () => join(dir, 'dir'), 4, /is a directory/],
    ['a device', () => '/dev/null', 4, /is a device/],
    ['a mount namespace', () => '/proc/self/ns/mnt', 4, /is a mnt namespace/],
    ['a missing path', () => join(dir, 'nothing'), 3, /does not exist/],
    ['a path through a file', () => join(dir, 'file', 'x'), 3, /does not exist/],
  ];
  for (const [what, path, code, msg] of cases) {
    it(`refuses ${what} with code ${code}`, async () => {
      await assert.rejects(probeNetns(path()), (e: unknown) => e instanceof CniError && e.code === code && msg.test(e.message));
    });
  }
});
