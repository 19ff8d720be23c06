/**
 * unoccupiedNetns on a made-up /proc: a namespace file whose inode no process's ns/net names is
 * unoccupied, as is one that does not exist; an unreadable process entry is skipped.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unoccupiedNetns } from '../../../netplugin/agent/netns-occupancy';

describe('agent unoccupiedNetns', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-netns-occ-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the namespaces no process is in, and those that are gone', async () => {
    const proc = join(dir, 'proc');
    const ns = (name: string) => {
      const p = join(dir, name);
      writeFileSync(p, '');
      return p;
    };
    const [busy, idle] = [ns('busy'), ns('idle')];
    const inProc = (pid: string, target: string) => {
      mkdirSync(join(proc, pid, 'ns'), { recursive: true });
      symlinkSync(target, join(proc, pid, 'ns', 'net'));
    };
    inProc('1', `net:[${statSync(busy).ino}]`);
    inProc('22', 'net:[1]');
    mkdirSync(join(proc, '33')); // a process without ns/ (ended meanwhile)
    mkdirSync(join(proc, 'self'));
    const gone = join(dir, 'gone');
    assert.deepEqual([...(await unoccupiedNetns([busy, idle, gone], proc))].sort(), [gone, idle].sort());
    assert.deepEqual([...(await unoccupiedNetns([], join(dir, 'no-proc')))], [], 'nothing asked, nothing read');
  });

  it("the real /proc: this process's namespace is occupied", async () => {
    assert.deepEqual([...(await unoccupiedNetns(['/proc/self/ns/net']))], []);
  });
});
