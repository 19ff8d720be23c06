/**
 * The CNM plugin's HTTP server on a unix socket (content type, status codes, stale and live
 * sockets), the atomic JSON state file (round trip, missing, corrupt, no temporary left behind),
 * and the address and naming helpers. No root, no daemons: sockets and files in a temp directory.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { isNetloomError } from '../../../lib/errors';
import { CnmPlugin } from '../../../netplugin/cnm/plugin';
import { CnmServer } from '../../../netplugin/cnm/server';
import { FileStateStore, MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { emptyState } from '../../../netplugin/cnm/state';
import { PLUGIN_CONTENT_TYPE } from '../../../netplugin/cnm/protocol';
import { MAX_BODY_BYTES } from '../../../netplugin/cnm/limits';
import { bareAddress, firstHost, macForAddress, parseSubnet, subnetContains } from '../../../netplugin/cnm/addresses';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import { bindingFromDriverOptions, poolHintFromIpamOptions } from '../../../netplugin/cnm/options';
import { FakeBackend } from './fake-backend';

function post(socketPath: string, path: string, body: string, method = 'POST'): Promise<{ status: number; type: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers: { 'Content-Type': PLUGIN_CONTENT_TYPE } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: JSON.parse(data) as unknown }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('cnm server and state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-cnm-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('HTTP over a unix socket', () => {
    let server: CnmServer;
    let sock: string;
    beforeEach(async () => {
      sock = join(dir, 'plugins', 'netloom.sock');
      server = new CnmServer(new CnmPlugin({ backend: new FakeBackend(), store: new MemoryStateStore() }), sock);
      await server.start();
    });
    afterEach(() => server.stop());

    it('answers POSTs with Docker plugin JSON', async () => {
      const r = await post(sock, '/Plugin.Activate', '');
      assert.deepEqual(r, { status: 200, type: PLUGIN_CONTENT_TYPE, body: { Implements: ['NetworkDriver', 'IpamDriver'] } });
      const p = await post(sock, '/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: 'netloom', Pool: '10.1.0.0/16' }));
      assert.equal((p.body as { Pool: string }).Pool, '10.1.0.0/16');
    });
    it('400 for bad JSON, 404 for unknown methods, 405 for GET, always with Err', async () => {
      assert.equal((await post(sock, '/NetworkDriver.Join', '{')).status, 400);
      const nf = await post(sock, '/Nope.Nope', '{}');
      assert.equal(nf.status, 404);
      assert.match((nf.body as { Err: string }).Err, /unknown method/);
      const g = await post(sock, '/Plugin.Activate', '', 'GET');
      assert.equal(g.status, 405);
      assert.match((g.body as { Err: string }).Err, /POST/);
    });
    it('413 for a body over the limit, declared or streamed, without reading it all; the server keeps serving', async () => {
      // declared: refused on the header alone
      const big = 'x'.repeat(MAX_BODY_BYTES + 1);
      const declared = await post(sock, '/IpamDriver.RequestPool', big);
      assert.equal(declared.status, 413);
      assert.match((declared.body as { Err: string }).Err, /request body larger than 262144 bytes/);
      // streamed (chunked, no length): refused once the limit is passed, while the client would go on sending
      const streamed = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
        let sent = 0;
        const req = request({ socketPath: sock, path: '/IpamDriver.RequestPool', method: 'POST' }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, sent });
          req.destroy();
        });
        req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (sent < 64 * MAX_BODY_BYTES && !req.destroyed) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      assert.equal(streamed.status, 413);
      assert.ok(streamed.sent < 16 * MAX_BODY_BYTES, `answered after ${streamed.sent} bytes`);
      assert.equal((await post(sock, '/Plugin.Activate', '')).status, 200);
    });
    it('stop lets a call in progress finish and reply', async () => {
      // the call stays in progress until the test lets it go, after stop() has begun
      const slow = new FakeBackend();
      const origResolve = slow.resolvePool.bind(slow);
      let entered = false;
      let letGo: () => void = () => undefined;
      const held = new Promise<void>((r) => (letGo = r));
      slow.resolvePool = async (req) => {
        entered = true;
        await held;
        return origResolve(req);
      };
      const sock2 = join(dir, 'slow.sock');
      const s2 = new CnmServer(new CnmPlugin({ backend: slow, store: new MemoryStateStore() }), sock2);
      await s2.start();
      const pending = post(
        sock2,
        '/IpamDriver.RequestPool',
        JSON.stringify({ AddressSpace: 'netloom', Pool: '10.2.0.0/24', Options: { tenant: 't' } }),
      );
      await waitFor('the call to reach the backend', () => entered, { timeoutMs: 5000, intervalMs: 5 });
      const stopping = s2.stop();
      letGo();
      await stopping;
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal((r.body as { Pool: string }).Pool, '10.2.0.0/24');
      assert.ok(!existsSync(sock2));
    });
    it('removes its socket on stop, and a second server refuses to take a live socket', async () => {
      const other = new CnmServer(new CnmPlugin({ backend: new FakeBackend(), store: new MemoryStateStore() }), sock);
      await assert.rejects(other.start(), (e) => isNetloomError(e, 'ALREADY_EXISTS'));
      assert.equal((await post(sock, '/Plugin.Activate', '')).status, 200, 'the first server still answers');
      await server.stop();
      assert.ok(!existsSync(sock));
    });
  });

  it('replaces a stale socket file left by a dead server', async () => {
    const sock = join(dir, 'stale.sock');
    // a server that dies without cleaning up (SIGKILL) leaves its socket file behind
    const script = `require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script, sock], { timeout: 10_000 });
    assert.ok(existsSync(sock), 'stale socket file present');
    const server = new CnmServer(new CnmPlugin({ backend: new FakeBackend(), store: new MemoryStateStore() }), sock);
    await server.start();
    try {
      assert.equal((await post(sock, '/Plugin.Activate', '')).status, 200);
    } finally {
      await server.stop();
    }
  });

  describe('FileStateStore', () => {
    it('a missing file is an empty state; save then load round-trips, leaving no temporary file', () => {
      const path = join(dir, 'sub', 'cnm-state.json');
      const store = new FileStateStore(path);
      assert.deepEqual(store.load(), emptyState());
      const s = emptyState();
      s.networks.n = { dockerNetworkId: 'n', binding: { tenant: 't', network: 'x', group: 'g' }, subnet: '10.0.0.0/24' };
      store.save(s);
      assert.deepEqual(new FileStateStore(path).load(), s);
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['cnm-state.json']);
    });
    it('a corrupt or foreign file is an error naming the file, not a silent reset', () => {
      const path = join(dir, 'cnm-state.json');
      writeFileSync(path, '{"version":1,');
      assert.throws(
        () => new FileStateStore(path).load(),
        (e) => isNetloomError(e, 'DECODE_ERROR') && /not valid JSON/.test(e.message) && e.message.includes(path),
      );
      writeFileSync(path, JSON.stringify({ version: 1, pools: {}, networks: { n: { binding: {} } }, endpoints: {} }));
      assert.throws(
        () => new FileStateStore(path).load(),
        (e) => isNetloomError(e, 'DECODE_ERROR') && /networks\.n\./.test(e.message),
      );
    });
    it('a plugin saves after each changing call, and a new plugin reloads it', async () => {
      const path = join(dir, 'cnm-state.json');
      const p1 = new CnmPlugin({ backend: new FakeBackend(), store: new FileStateStore(path) });
      const r = await p1.handle('/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: 'netloom', Pool: '10.5.0.0/24' }));
      assert.equal(r.status, 200);
      const p2 = new CnmPlugin({ backend: new FakeBackend(), store: new FileStateStore(path) });
      assert.deepEqual(p2.snapshot(), p1.snapshot());
      assert.equal(Object.keys(p2.snapshot().pools).length, 1);
    });
  });

  describe('helpers', () => {
    it('addresses', () => {
      assert.deepEqual(parseSubnet('10.55.0.7/24', 'f'), { network: '10.55.0.0', prefix: 24, cidr: '10.55.0.0/24' });
      assert.equal(firstHost(parseSubnet('10.55.0.0/24', 'f')), '10.55.0.1');
      assert.equal(bareAddress('10.55.0.2/24', 'f'), '10.55.0.2');
      assert.ok(subnetContains(parseSubnet('10.55.0.0/16', 'f'), '10.55.200.1'));
      assert.ok(!subnetContains(parseSubnet('10.55.0.0/24', 'f'), '10.56.0.1'));
      assert.equal(macForAddress('10.55.0.2'), '02:02:0a:37:00:02');
      assert.throws(
        () => bareAddress('10.0.0.256', 'Address'),
        (e) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'Address',
      );
    });
    it('endpoint link names are unique per endpoint, start with the prefix and fit 15 characters', () => {
      const a = endpointLinkNames('0123456789abcdef0123');
      assert.deepEqual(a, { host: 'nlc0123456789ah', container: 'nlc0123456789ac' });
      assert.ok(a.host.length <= 15);
      const b = endpointLinkNames('ff', 'nl');
      assert.deepEqual(b, { host: 'nlffh', container: 'nlffc' });
    });
    it('option mapping functions', () => {
      assert.deepEqual(bindingFromDriverOptions('f'.repeat(64), {}), { tenant: 'default', network: 'ffffffffffff' });
      assert.deepEqual(bindingFromDriverOptions('f'.repeat(64), {}, { tenant: 'x', network: 'y' }), { tenant: 'x', network: 'y' });
      assert.deepEqual(poolHintFromIpamOptions({ tenant: 't' }), { tenant: 't' });
      assert.throws(
        () => poolHintFromIpamOptions({ network: '-bad' }),
        (e) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'Options.network',
      );
      assert.throws(
        () => bindingFromDriverOptions('x', { 'com.docker.network.generic': 'nope' }),
        (e) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'Options.com.docker.network.generic',
      );
    });
  });
});
