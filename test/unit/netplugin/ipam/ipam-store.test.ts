import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError } from '../../../../lib/errors';
import { IpamStore } from '../../../../netplugin/ipam/ipam-store';
import { LocalAllocator } from '../../../../netplugin/ipam/local-allocator';

const NET = 't1/net1';

describe('ipam IpamStore', () => {
  let dir: string;
  let path: string;
  const stores: IpamStore[] = [];
  const opened = (p: string, opts?: { maxBytes?: number }): IpamStore => {
    const st = new IpamStore(p, opts);
    stores.push(st);
    return st;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-ipam-store-'));
    path = join(dir, 'sub', 'ipam.json');
  });
  afterEach(async () => {
    for (const st of stores.splice(0)) await st.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts empty without a file, and reloads what was saved', async () => {
    const store = opened(path);
    const a = store.load();
    assert.deepEqual(a.snapshot(), { blocks: [], allocations: [] });
    a.addBlock({ cidr: '10.1.0.0/28', networkKey: NET, reserved: ['10.1.0.0'] });
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.allocate('e2', NET);
    await store.save(a);
    assert.ok(!existsSync(`${path}.tmp`), 'the temporary file was renamed');
    assert.deepEqual(new IpamStore(path).load().snapshot(), a.snapshot());
  });

  it('appends each save (one file, no rename after the first), reloads the last, and starts afresh past its limit', async () => {
    const store = opened(path, { maxBytes: 4096 });
    const a = store.load();
    a.addBlock({ cidr: '10.1.0.0/26', networkKey: NET, reserved: [] });
    for (let i = 0; i < 40; i++) {
      a.allocate(`e${i}`, NET);
      await store.save(a);
      assert.equal(opened(path).load().allocations().length, i + 1, `save ${i} is what a restart reads`);
    }
    const lines = readFileSync(path, 'utf8').split('\n').length - 1;
    assert.ok(lines >= 1 && lines <= 40, `${lines} snapshots in the file`);
    assert.ok(readFileSync(path).length <= Math.max(4096, 16 * readFileSync(path, 'utf8').split('\n')[lines - 1]!.length + 16));
  });

  it('reads a file in the format before the log (one indented JSON document) and goes on from it', async () => {
    const a = new LocalAllocator();
    a.addBlock({ cidr: '10.1.0.0/28', networkKey: NET, reserved: [] });
    a.allocate('old', NET);
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ version: 1, ...a.snapshot(), registrations: [] }, null, 1));
    const store = opened(join(dir, 'old.json'));
    const b = store.load();
    assert.deepEqual(b.snapshot(), a.snapshot());
    b.allocate('new', NET);
    await store.save(b);
    assert.equal(opened(join(dir, 'old.json')).load().allocations().length, 2);
  });

  it('keeps saves in call order: the last snapshot is the one on disk', async () => {
    const store = opened(path);
    const a = store.load();
    a.addBlock({ cidr: '10.1.0.0/26', networkKey: NET, reserved: [] });
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      a.allocate(`e${i}`, NET);
      saves.push(store.save(a));
    }
    await Promise.all(saves);
    assert.equal(new IpamStore(path).load().allocations().length, 20);
  });

  const damaged: [string, string][] = [
    ['a torn write (JSON cut short)', '{"version":1,"blocks":[{"cidr":"10.1.0.0/28","networkKey":"t1/net1","res'],
    ['an empty file', ''],
    ['a wrong shape', '{"version":1,"blocks":"no","allocations":[]}'],
    ['an unknown version', '{"version":2,"blocks":[],"allocations":[]}'],
    [
      'one address given twice',
      JSON.stringify({
        version: 1,
        blocks: [{ cidr: '10.1.0.0/28', networkKey: NET, reserved: [] }],
        allocations: [
          { endpointId: 'a', networkKey: NET, address: '10.1.0.1', state: 'local' },
          { endpointId: 'b', networkKey: NET, address: '10.1.0.1', state: 'registered' },
        ],
      }),
    ],
    [
      'an address outside the blocks',
      JSON.stringify({ version: 1, blocks: [], allocations: [{ endpointId: 'a', networkKey: NET, address: '10.1.0.1', state: 'local' }] }),
    ],
  ];
  for (const [what, text] of damaged) {
    it(`refuses ${what} with a DECODE_ERROR naming the file, and leaves the file as it was`, () => {
      writeFileSync(join(dir, 'ipam.json'), text);
      const p = join(dir, 'ipam.json');
      assert.throws(
        () => new IpamStore(p).load(),
        (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && e.message.includes(p) && e.field === 'state-dir',
      );
      assert.equal(readFileSync(p, 'utf8'), text);
    });
  }

  it('fails a save with an INTERNAL error naming the file when it cannot write, and saves again afterwards', async () => {
    writeFileSync(join(dir, 'sub'), 'not a directory');
    const store = opened(path);
    await assert.rejects(store.save(new LocalAllocator()), (e: unknown) => isNetloomError(e, 'INTERNAL') && e.message.includes(path));
    rmSync(join(dir, 'sub'));
    await store.save(new LocalAllocator());
    assert.ok(existsSync(path));
  });
});
