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
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-ipam-store-'));
    path = join(dir, 'sub', 'ipam.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty without a file, and reloads what was saved', async () => {
    const store = new IpamStore(path);
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

  it('keeps saves in call order: the last snapshot is the one on disk', async () => {
    const store = new IpamStore(path);
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
    const store = new IpamStore(path);
    await assert.rejects(store.save(new LocalAllocator()), (e: unknown) => isNetloomError(e, 'INTERNAL') && e.message.includes(path));
    rmSync(join(dir, 'sub'));
    await store.save(new LocalAllocator());
    assert.ok(existsSync(path));
  });
});
