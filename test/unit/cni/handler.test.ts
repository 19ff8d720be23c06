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
import { connect } from 'node:net';
import { KeyedMutex } from '../../../lib/keyed-mutex';
import { CniError, CNI_CODE } from '../../../netplugin/cni/errors';
import { serveCni, CNI_REQUEST_PATH, type CniServeOptions } from '../../../netplugin/cni/handler';
import type { CniAddRequest, CniDelRequest, CniResult } from '../../../netplugin/cni/types';
import { listenCni, type CniServer } from '../../../netplugin/cni/server';
import type { CniEnv } from '../../../netplugin/cni/parse';
import { FakeBackend, FAKE_RESULT } from './fake-backend';

const ENV: CniEnv = { command: 'ADD', containerId: 'ctr1', netns: '/run/netns/cnix', ifName: 'eth0' };
const CONF = { cniVersion: '1.1.0', name: 'nlnet', type: 'netloom-cni', tenant: 'acme' };
const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ ...CONF, ...extra });
/** every CNI_NETNS counts as a network namespace (the real probe has its own test) */
const anyNetns = async (): Promise<void> => {};
const serve = (env: CniEnv, b: string, backend: FakeBackend, opts: CniServeOptions = {}) =>
  serveCni(env, b, backend, { probeNetns: anyNetns, ...opts });

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
      ['old version', ENV, body({ cniVersion: '0.0.9' }), 1],
      ['missing name', ENV, JSON.stringify({ cniVersion: '1.1.0' }), 7],
      ['bad requested IP', ENV, body({ runtimeConfig: { ips: ['1.2.3'] } }), 7],
      ['ipam section', ENV, body({ ipam: { type: 'dhcp' } }), 2],
      ['CHECK without prevResult', { ...ENV, command: 'CHECK' }, body(), 7],
      ['GC without valid-attachments', { command: 'GC' }, body(), 7],
      ['STATUS in 0.4.0', { command: 'STATUS' }, body({ cniVersion: '0.4.0' }), 1],
    ];
    for (const [what, env, b, code] of cases) {
      it(`${what} -> code ${code}, backend not called`, async () => {
        const out = await serve(env, b, be);
        assert.notEqual(out.status, 200);
        assert.equal(parseBody(out.body).code, code);
        assert.equal(typeof parseBody(out.body).msg, 'string');
        assert.deepEqual(be.calls, []);
      });
    }
  });

  it('ADD passes the typed request and returns a 1.1.0 result', async () => {
    const out = await serve(
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
    const out = await serve(ENV, body({ cniVersion: '0.4.0', dns: { nameservers: ['10.1.0.53'] } }), be);
    const r = parseBody(out.body);
    assert.equal(r.cniVersion, '0.4.0');
    assert.deepEqual(r.ips, [{ version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 }]);
    assert.deepEqual(r.dns, { nameservers: ['10.1.0.53'] });
  });

  it('ADD with a prevResult appends our interfaces after the chain', async () => {
    const out = await serve(ENV, body({ prevResult: { cniVersion: '1.1.0', interfaces: [{ name: 'dummy0' }], ips: [] } }), be);
    const r = parseBody(out.body) as { interfaces: Array<{ name: string }>; ips: Array<{ interface: number }> };
    assert.deepEqual(
      r.interfaces.map((i) => i.name),
      ['dummy0', 'nlvhost0', 'eth0'],
    );
    assert.equal(r.ips[0]?.interface, 2);
  });

  it('DEL succeeds with an empty body, twice, also when the backend says NOT_FOUND and without netns', async () => {
    const del = { ...ENV, command: 'DEL' };
    assert.deepEqual(await serve(del, body(), be), { status: 200, body: '' });
    be.nextError = new NetloomError('NOT_FOUND', 'no such attachment');
    assert.deepEqual(await serve({ ...del, netns: undefined }, body(), be), { status: 200, body: '' });
    assert.deepEqual(be.ops(), ['del', 'del']);
    const second = be.calls[1];
    assert.ok(second?.op === 'del' && second.req.netnsPath === undefined);
  });

  it('DEL reports other backend failures', async () => {
    be.nextError = new NetloomError('UNAVAILABLE', 'ovsdb down');
    const out = await serve({ ...ENV, command: 'DEL' }, body(), be);
    assert.equal(out.status, 503);
    assert.equal(parseBody(out.body).code, 11);
  });

  it('CHECK passes prevResult and fails with code 102 and the problems', async () => {
    const prevResult = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/cnix' }],
      ips: [{ address: '10.1.0.5/24', interface: 0 }],
    };
    const ok = await serve({ ...ENV, command: 'CHECK' }, body({ prevResult }), be);
    assert.deepEqual(ok, { status: 200, body: '' });
    const c = be.calls[0];
    assert.ok(c?.op === 'check' && c.req.prevResult.ips[0]?.address === '10.1.0.5/24');
    be.checkProblems = ['interface eth0 is missing'];
    const bad = await serve({ ...ENV, command: 'CHECK' }, body({ prevResult }), be);
    assert.equal(parseBody(bad.body).code, 102);
    assert.match(String(parseBody(bad.body).details), /eth0 is missing/);
  });

  it('STATUS: empty success when ready, 50 when not', async () => {
    assert.deepEqual(await serve({ command: 'STATUS' }, body(), be), { status: 200, body: '' });
    be.statusAnswer = { ready: false, code: 50, message: 'agent starting' };
    const out = await serve({ command: 'STATUS' }, body(), be);
    assert.equal(out.status, 503);
    assert.deepEqual(parseBody(out.body), { cniVersion: '1.1.0', code: 50, msg: 'agent starting' });
  });

  it('GC releases every attachment not listed', async () => {
    for (const id of ['a', 'b', 'c']) await serve({ ...ENV, containerId: id }, body(), be);
    const out = await serve({ command: 'GC' }, body({ 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }), be);
    assert.deepEqual(out, { status: 200, body: '' });
    assert.deepEqual([...be.live], ['nlnet/b/eth0']);
  });

  for (const keys of [['cni.dev/attachments'], ['cni.dev/valid-attachments', 'cni.dev/attachments']]) {
    it(`GC takes the attachments to keep from ${keys.join(' and ')} (the spec names it both ways)`, async () => {
      for (const id of ['a', 'b', 'c']) await serve({ ...ENV, containerId: id }, body(), be);
      const lists = keys.map((k, i) => [k, [{ containerID: i === 0 ? 'b' : 'c', ifname: 'eth0' }]]);
      const out = await serve({ command: 'GC' }, body(Object.fromEntries(lists) as Record<string, unknown>), be);
      assert.deepEqual(out, { status: 200, body: '' });
      assert.deepEqual([...be.live].sort(), keys.length === 1 ? ['nlnet/b/eth0'] : ['nlnet/b/eth0', 'nlnet/c/eth0']);
    });
  }

  it('maps backend errors to CNI codes', async () => {
    const table: Array<[unknown, number]> = [
      [new NetloomError('EXHAUSTED', 'no addresses'), 101],
      [new NetloomError('NOT_FOUND', 'netns gone', { field: 'netns' }), 3],
      // ADD: what is not found is what the configuration names (7, invalid network configuration)
      [new NetloomError('NOT_FOUND', "network 'nope' of tenant 'acme' does not exist", { field: 'network' }), 7],
      [new NetloomError('NOT_FOUND', 'group g does not exist'), 7],
      [new NetloomError('ALREADY_EXISTS', 'eth0 exists'), 100],
      [new Error('bug'), 999],
    ];
    for (const [err, code] of table) {
      be.nextError = err;
      const out = await serve(ENV, body(), be);
      assert.equal(parseBody(out.body).code, code, String(err));
    }
  });

  describe('CNI_NETNS is probed before the backend sees it', () => {
    const refuse = (code: 3 | 4) => async (path: string) => {
      throw new CniError(code, `probe says no to ${path}`);
    };
    for (const command of ['ADD', 'CHECK']) {
      it(`${command}: the probe's code, backend not called`, async () => {
        const prevResult = { cniVersion: '1.1.0', interfaces: [], ips: [] };
        for (const code of [3, 4] as const) {
          const out = await serve({ ...ENV, command }, body({ prevResult }), be, { probeNetns: refuse(code) });
          assert.equal(parseBody(out.body).code, code);
        }
        assert.deepEqual(be.calls, []);
      });
    }

    it('DEL goes on without a namespace that is not one (releases what the host holds)', async () => {
      const out = await serve({ ...ENV, command: 'DEL' }, body(), be, { probeNetns: refuse(4) });
      assert.deepEqual(out, { status: 200, body: '' });
      const call = be.calls[0];
      assert.ok(call?.op === 'del' && call.req.netnsPath === undefined);
    });

    it('the probe is not asked for STATUS, GC or a DEL without CNI_NETNS', async () => {
      const asked: string[] = [];
      const probeNetns = async (p: string) => void asked.push(p);
      await serve({ command: 'STATUS' }, body(), be, { probeNetns });
      await serve({ command: 'GC' }, body({ 'cni.dev/valid-attachments': [] }), be, { probeNetns });
      await serve({ ...ENV, command: 'DEL', netns: undefined }, body(), be, { probeNetns });
      assert.deepEqual(asked, []);
    });
  });

  describe('operations on one container run one at a time', () => {
    /** A backend whose ADD and DEL wait for the test to let them finish, logging start and end. */
    class GatedBackend extends FakeBackend {
      log: string[] = [];
      gates = new Map<string, () => void>();
      private gated(tag: string): Promise<void> {
        this.log.push(`${tag}+`);
        return new Promise<void>((resolve) =>
          this.gates.set(tag, () => {
            this.log.push(`${tag}-`);
            resolve();
          }),
        );
      }
      override async add(req: CniAddRequest): Promise<CniResult> {
        await this.gated(`add ${req.containerId}`);
        return super.add(req);
      }
      override async del(req: CniDelRequest): Promise<void> {
        await this.gated(`del ${req.containerId}`);
        return super.del(req);
      }
    }
    const settle = () => new Promise((r) => setImmediate(r));

    it('ADD and DEL of one container ID wait for each other; another container does not wait', async () => {
      const gb = new GatedBackend();
      const lock = new KeyedMutex();
      const opts = { probeNetns: anyNetns, lock };
      const add = serveCni({ ...ENV, containerId: 'c1' }, body(), gb, opts);
      const del = serveCni({ ...ENV, command: 'DEL', containerId: 'c1' }, body(), gb, opts);
      const other = serveCni({ ...ENV, containerId: 'c2' }, body(), gb, opts);
      await settle();
      assert.deepEqual(gb.log, ['add c1+', 'add c2+'], 'the DEL of c1 waits; c2 runs');
      gb.gates.get('add c1')?.();
      await settle();
      assert.deepEqual(gb.log, ['add c1+', 'add c2+', 'add c1-', 'del c1+']);
      gb.gates.get('del c1')?.();
      gb.gates.get('add c2')?.();
      const outs = await Promise.all([add, del, other]);
      assert.deepEqual(
        outs.map((o) => o.status),
        [200, 200, 200],
      );
      assert.equal(lock.size, 0);
    });

    it('a refused request holds no lock (refusals do not wait behind work)', async () => {
      const gb = new GatedBackend();
      const lock = new KeyedMutex();
      const add = serveCni({ ...ENV, containerId: 'c1' }, body(), gb, { probeNetns: anyNetns, lock });
      await settle();
      const bad = await serveCni({ ...ENV, containerId: 'c1', ifName: 'a/b' }, body(), gb, { probeNetns: anyNetns, lock });
      assert.equal(parseBody(bad.body).code, CNI_CODE.INVALID_ENV);
      gb.gates.get('add c1')?.();
      assert.equal((await add).status, 200);
    });
  });

  it('VERSION is answered without the backend', async () => {
    const out = await serve({ command: 'VERSION' }, '{"cniVersion":"1.0.0"}', be);
    assert.deepEqual(parseBody(out.body), {
      cniVersion: '1.0.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    assert.deepEqual(be.calls, []);
  });

  describe('over HTTP on a unix socket', () => {
    let dir: string;
    let srv: CniServer;
    const httpBe = new FakeBackend();
    const served: Array<{ command: string; ok: boolean; ms: number }> = [];
    before(async () => {
      dir = tempDir();
      srv = await listenCni(join(dir, 'agent.sock'), { backend: httpBe, probeNetns: anyNetns, onServed: (r) => served.push(r) });
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
      const told = served.at(-1);
      assert.ok(told?.command === 'ADD' && told.ok && told.ms >= 0, 'each request served is told (metrics)');
    });

    it('answers 404 with a CNI error for another path', async () => {
      const out = await post('/other', {}, '');
      assert.equal(out.status, 404);
      assert.equal(parseBody(out.body).code, 4);
    });

    it('refuses an oversized body with code 7 (invalid configuration)', async () => {
      const out = await post(CNI_REQUEST_PATH, { 'CNI-Command': 'ADD' }, 'x'.repeat(1024 * 1024 + 10));
      assert.equal(parseBody(out.body).code, 7);
      assert.match(String(parseBody(out.body).msg), /larger than 1048577 bytes/);
    });

    it('takes a 1 MiB netconf plus the nc transport newline', async () => {
      const conf = body({ pad: '' });
      const padded = body({ pad: 'x'.repeat(1024 * 1024 - conf.length) });
      const out = await post(
        CNI_REQUEST_PATH,
        { 'CNI-Command': 'ADD', 'CNI-ContainerID': 'big', 'CNI-Netns': '/n', 'CNI-IfName': 'eth0' },
        `${padded}\n`,
      );
      assert.equal(out.status, 200, out.body.slice(0, 200));
    });

    it("an oversized CNI_ARGS is code 4 naming it, not the HTTP server's 431", async () => {
      const out = await post(CNI_REQUEST_PATH, { 'CNI-Command': 'ADD', 'CNI-Args': `A=${'x'.repeat(20_000)}` }, body());
      assert.equal(out.status, 400);
      assert.equal(parseBody(out.body).code, 4);
      assert.match(String(parseBody(out.body).msg), /CNI_ARGS/);
    });

    it('decodes header values as the UTF-8 the shim sent', async () => {
      const netns = '/run/netns/zürich';
      const data = body();
      const head = [
        `POST ${CNI_REQUEST_PATH} HTTP/1.0`,
        'CNI-Command: ADD',
        'CNI-ContainerID: utf1',
        `CNI-Netns: ${netns}`,
        'CNI-IfName: eth0',
        `Content-Length: ${Buffer.byteLength(data)}`,
        '',
        '',
      ].join('\r\n');
      const answer = await new Promise<string>((resolve, reject) => {
        const c = connect(srv.socketPath);
        let got = '';
        c.on('data', (d) => (got += d.toString('utf8')));
        c.on('end', () => resolve(got));
        c.on('error', reject);
        c.end(Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(data, 'utf8')]));
      });
      assert.match(answer, /^HTTP\/1\.1 200/);
      const last = httpBe.calls.at(-1);
      assert.ok(last?.op === 'add');
      assert.equal(last.req.netnsPath, netns);
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
