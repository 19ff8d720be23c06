/** EndpointStore: records survive a reload (agent restart); a damaged file is refused clearly. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointRecord, EndpointStore } from '../../../netplugin/agent/endpoint-store';
import { isNetloomError } from '../../../lib/errors';

const rec = (n: number): EndpointRecord => ({
  endpointId: `ep${n}`,
  idempotencyKey: `net/ctr${n}/eth0`,
  kind: 'cni',
  frontNetwork: 'net',
  containerId: `ctr${n}`,
  ifName: 'eth0',
  netnsPath: `/run/netns/c${n}`,
  hostIf: `nlabc${n}`,
  networkKey: 't:n',
  ip: `10.0.0.${n}`,
  prefixLength: 24,
  mac: `02:00:00:00:00:0${n}`,
  gateway: '10.0.0.254',
  mtu: 1450,
});

describe('agent EndpointStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nl-agent-unit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists records (written in the background, flush() waits) and reloads them in a new store', async () => {
    const path = join(dir, 'state', 'endpoints.json');
    const a = new EndpointStore(path);
    a.put(rec(1));
    a.put(rec(2));
    a.remove(rec(1).idempotencyKey);
    await a.flush();
    const b = new EndpointStore(path);
    assert.deepEqual(b.list(), [rec(2)]);
    assert.equal(b.byEndpointId('ep2')?.hostIf, 'nlabc2');
    assert.equal(b.get('net/ctr1/eth0'), undefined);
  });

  it('starts empty without a file, and keeps records in memory without a path', () => {
    assert.deepEqual(new EndpointStore(join(dir, 'none.json')).list(), []);
    const m = new EndpointStore(undefined);
    m.put(rec(3));
    assert.equal(m.list().length, 1);
  });

  it('flush() reports a failed write with the file named, and a later change writes again', async () => {
    const bad = join(dir, 'bad.json');
    mkdirSync(`${bad}.tmp`); // the temporary file cannot be written: a directory is in its place
    const s = new EndpointStore(bad);
    s.put(rec(1));
    await assert.rejects(s.flush(), (e: unknown) => isNetloomError(e, 'INTERNAL') && e.message.includes(bad));
    await s.flush(); // the failure was reported once
    const ok = join(dir, 'ok.json');
    const t = new EndpointStore(ok);
    t.put(rec(1));
    t.put(rec(2)); // while the first write runs
    await t.flush();
    assert.deepEqual(new EndpointStore(ok).list(), [rec(1), rec(2)]);
  });

  it('refuses a damaged file with DECODE_ERROR', () => {
    const path = join(dir, 'endpoints.json');
    writeFileSync(path, JSON.stringify({ version: 1, endpoints: [{ endpointId: 'x' }] }));
    assert.throws(
      () => new EndpointStore(path),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /damaged/.test(e.message),
    );
  });
});
