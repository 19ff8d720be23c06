/**
 * The CNI handler against a recording fake backend: each command's semantics (ADD result in the
 * requested version, idempotent DEL, CHECK failures, STATUS readiness, GC), error mapping of
 * backend failures, and that invalid input never reaches the backend. Also one round trip over
 * HTTP on a unix socket to pin the header contract.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetloomError } from '../../../lib/errors';
import { serveCni, CNI_REQUEST_PATH } from '../../../netplugin/cni/handler';
import { listenCni, type CniServer } from '../../../netplugin/cni/server';
import type { CniEnv } from '../../../netplugin/cni/parse';
import { FakeBackend, FAKE_RESULT } from './fake-backend';

const ENV: CniEnv = { command: 'ADD', containerId: 'ctr1', netns: '/run/netns/cnix', ifName: 'eth0' };
const CONF = { cniVersion: '1.1.0', name: 'nlnet', type: 'netloom-cni', tenant: 'acme' };
const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ ...CONF, ...extra });

/** A fresh directory under /tmp/nl-cni/ (this area's directory). */
function tempDir(): string {
  mkdirSync('/tmp/nl-cni', { recursive: true });
  return mkdtempSync('/tmp/nl-cni/unit-');
}

function parseBody(b: string): Record<string, unknown> {
  return JSON.parse(b) as Record<string, unknown>;
}

describe('cni handler', () => {
  let be: FakeBackend;
  beforeEach(() => {
    be = new FakeBackend();
  });

  describe('invalid input never reaches the backend (table)', () => {
    const cases: Array<[string, CniEnv, string, number]> = [
      ['no command', { ...ENV, command: undefined }, body(), 4],
      ['unknown command', { ...ENV, command: 'NOPE' }, body(), 4],
      ['bad container id', { ...ENV, containerId: '../x' }, body(), 4],
      ['bad ifname', { ...ENV, ifName: 'a/b' }, body(), 4],
      ['no netns', { ...ENV, netns: undefined }, body(), 4],
      ['malformed CNI_ARGS', { ...ENV, args: 'novalue' }, body(), 4],
      ['undecodable body', ENV, '{not json', 6],
      ['old version', ENV, body({ cniVersion: '0.1.0' }), 1],
      ['missing name', ENV, JSON.stringify({ cniVersion: '1.1.0' }), 7],
      ['bad requested IP', ENV, body({ runtimeConfig: { ips: ['1.2.3'] } }), 7],
      ['ipam section', ENV, body({ ipam: { type: 'dhcp' } }), 2],
      ['CHECK without prevResult', { ...ENV, command: 'CHECK' }, body(), 7],
      ['GC without valid-attachments', { command: 'GC' }, body(), 7],
      ['STATUS in 0.4.0', { command: 'STATUS' }, body({ cniVersion: '0.4.0' }), 1],
    ];
    for (const [what, env, b, code] of cases) {
      it(`${what} -> code ${code}, backend not called`, async () => {
        const out = await serveCni(env, b, be);
        assert.notEqual(out.status, 200);
        assert.equal(parseBody(out.body).code, code);
        assert.equal(typeof parseBody(out.body).msg, 'string');
        assert.deepEqual(be.calls, []);
      });
    }
  });

  it('ADD passes the typed request and returns a 1.1.0 result', async () => {
    const out = await serveCni(
      { ...ENV, args: 'K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0' },
      body({ runtimeConfig: { ips: ['10.1.0.5/24'] } }),
      be,
    );
    assert.equal(out.status, 200);
    const r = parseBody(out.body);
    assert.equal(r.cniVersion, '1.1.0');
    assert.deepEqual(r.ips, FAKE_RESULT.ips);
    assert.deepEqual(be.ops(), ['add']);
    const call = be.calls[0];
    assert.ok(call?.op === 'add');
    assert.deepEqual(call.req.network, { cniNetwork: 'nlnet', tenant: 'acme', network: 'nlnet' });
    assert.deepEqual(call.req.pod, { namespace: 'prod', name: 'web-0' });
    assert.deepEqual(call.req.requestedIps, [{ ip: '10.1.0.5', prefixLength: 24 }]);
  });

  it('ADD converts the result to the requested 0.4.0 and uses the netconf DNS', async () => {
    const out = await serveCni(ENV, body({ cniVersion: '0.4.0', dns: { nameservers: ['10.1.0.53'] } }), be);
    const r = parseBody(out.body);
    assert.equal(r.cniVersion, '0.4.0');
    assert.deepEqual(r.ips, [{ version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 }]);
    assert.deepEqual(r.dns, { nameservers: ['10.1.0.53'] });
  });

  it('ADD with a prevResult appends our interfaces after the chain', async () => {
    const out = await serveCni(ENV, body({ prevResult: { cniVersion: '1.1.0', interfaces: [{ name: 'dummy0' }], ips: [] } }), be);
    const r = parseBody(out.body) as { interfaces: Array<{ name: string }>; ips: Array<{ interface: number }> };
    assert.deepEqual(
      r.interfaces.map((i) => i.name),
      ['dummy0', 'nlvhost0', 'eth0'],
    );
    assert.equal(r.ips[0]?.interface, 2);
  });

  it('DEL succeeds with an empty body, twice, also when the backend says NOT_FOUND and without netns', async () => {
    const del = { ...ENV, command: 'DEL' };
    assert.deepEqual(await serveCni(del, body(), be), { status: 200, body: '' });
    be.nextError = new NetloomError('NOT_FOUND', 'no such attachment');
    assert.deepEqual(await serveCni({ ...del, netns: undefined }, body(), be), { status: 200, body: '' });
    assert.deepEqual(be.ops(), ['del', 'del']);
    const second = be.calls[1];
    assert.ok(second?.op === 'del' && second.req.netnsPath === undefined);
  });

  it('DEL reports other backend failures', async () => {
    be.nextError = new NetloomError('UNAVAILABLE', 'ovsdb down');
    const out = await serveCni({ ...ENV, command: 'DEL' }, body(), be);
    assert.equal(out.status, 503);
    assert.equal(parseBody(out.body).code, 11);
  });

  it('CHECK passes prevResult and fails with code 102 and the problems', async () => {
    const prevResult = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/cnix' }],
      ips: [{ address: '10.1.0.5/24', interface: 0 }],
    };
    const ok = await serveCni({ ...ENV, command: 'CHECK' }, body({ prevResult }), be);
    assert.deepEqual(ok, { status: 200, body: '' });
    const c = be.calls[0];
    assert.ok(c?.op === 'check' && c.req.prevResult.ips[0]?.address === '10.1.0.5/24');
    be.checkProblems = ['interface eth0 is missing'];
    const bad = await serveCni({ ...ENV, command: 'CHECK' }, body({ prevResult }), be);
    assert.equal(parseBody(bad.body).code, 102);
    assert.match(String(parseBody(bad.body).details), /eth0 is missing/);
  });

  it('STATUS: empty success when ready, 50 when not', async () => {
    assert.deepEqual(await serveCni({ command: 'STATUS' }, body(), be), { status: 200, body: '' });
    be.statusAnswer = { ready: false, code: 50, message: 'agent starting' };
    const out = await serveCni({ command: 'STATUS' }, body(), be);
    assert.equal(out.status, 503);
    assert.deepEqual(parseBody(out.body), { cniVersion: '1.1.0', code: 50, msg: 'agent starting' });
  });

  it('GC releases every attachment not listed', async () => {
    for (const id of ['a', 'b', 'c']) await serveCni({ ...ENV, containerId: id }, body(), be);
    const out = await serveCni({ command: 'GC' }, body({ 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }), be);
    assert.deepEqual(out, { status: 200, body: '' });
    assert.deepEqual([...be.live], ['nlnet/b/eth0']);
  });

  it('maps backend errors to CNI codes', async () => {
    const table: Array<[unknown, number]> = [
      [new NetloomError('EXHAUSTED', 'no addresses'), 101],
      [new NetloomError('NOT_FOUND', 'netns gone'), 3],
      [new NetloomError('ALREADY_EXISTS', 'eth0 exists'), 100],
      [new Error('bug'), 999],
    ];
    for (const [err, code] of table) {
      be.nextError = err;
      const out = await serveCni(ENV, body(), be);
      assert.equal(parseBody(out.body).code, code, String(err));
    }
  });

  it('VERSION is answered without the backend', async () => {
    const out = await serveCni({ command: 'VERSION' }, '{"cniVersion":"1.0.0"}', be);
    assert.deepEqual(parseBody(out.body), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    assert.deepEqual(be.calls, []);
  });

  describe('over HTTP on a unix socket', () => {
    let dir: string;
    let srv: CniServer;
    const httpBe = new FakeBackend();
    before(async () => {
      dir = tempDir();
      srv = await listenCni(join(dir, 'agent.sock'), { backend: httpBe });
    });
    after(async () => {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    });

    function post(path: string, headers: Record<string, string>, data: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = request({ socketPath: srv.socketPath, path, method: 'POST', headers }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        });
        req.on('error', reject);
        req.end(data);
      });
    }

    it('reads the CNI environment from the CNI-* headers', async () => {
      const out = await post(
        CNI_REQUEST_PATH,
        {
          'CNI-Command': 'ADD',
          'CNI-ContainerID': 'web1',
          'CNI-Netns': '/run/netns/cniweb',
          'CNI-IfName': 'net1',
          'CNI-Args': 'NETLOOM_GROUP=fe',
          'CNI-Path': '/opt/cni/bin',
        },
        body(),
      );
      assert.equal(out.status, 200);
      const last = httpBe.calls.at(-1);
      assert.ok(last?.op === 'add');
      assert.equal(last.req.containerId, 'web1');
      assert.equal(last.req.netnsPath, '/run/netns/cniweb');
      assert.equal(last.req.ifName, 'net1');
      assert.equal(last.req.network.group, 'fe');
    });

    it('answers 404 with a CNI error for another path', async () => {
      const out = await post('/other', {}, '');
      assert.equal(out.status, 404);
      assert.equal(parseBody(out.body).code, 4);
    });

    it('refuses an oversized body with code 5', async () => {
      const out = await post(CNI_REQUEST_PATH, { 'CNI-Command': 'ADD' }, 'x'.repeat(1024 * 1024 + 10));
      assert.equal(parseBody(out.body).code, 5);
    });
  });
});

describe('cni socket', () => {
  it('refuses a socket path another live server answers on, replaces a stale one', async () => {
    const dir = tempDir();
    const path = join(dir, 'agent.sock');
    const first = await listenCni(path, { backend: new FakeBackend() });
    try {
      await assert.rejects(
        listenCni(path, { backend: new FakeBackend() }),
        (e: unknown) => e instanceof NetloomError && e.code === 'IN_USE',
      );
    } finally {
      await first.close();
    }
    writeFileSync(join(dir, 'plain'), 'x');
    await assert.rejects(
      listenCni(join(dir, 'plain'), { backend: new FakeBackend() }),
      (e: unknown) => e instanceof NetloomError && e.code === 'ALREADY_EXISTS',
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
