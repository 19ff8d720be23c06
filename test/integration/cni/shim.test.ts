/**
 * The real `bin/netloom-cni` shim (run by dash, with a CNI environment and stdin, as a runtime
 * would) against the real agent-side handler on a unix socket under /tmp/nl-cni/: once with a
 * recording fake backend (validation, codes, backend never called on bad input) and once with the
 * veth backend, which really plugs a veth into a namespace the test made (checked with `ip -n`).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { addNetns, delNetns, linkExists } from '../../../deploy/lab/netns';
import { listenCni, type CniServer } from '../../../netplugin/cni/server';
import { VethBackend } from '../../../tools/veth-cni-backend';
import { runShim, SHIM_COMPILED, SHIM_TRANSPORTS } from '../../support/cni-shim';
import { FakeBackend } from '../../unit/cni/fake-backend';

const SHIM = resolve(__dirname, '../../../../bin/netloom-cni');
const DIR = `/tmp/nl-cni/shim-${process.pid}`;
const NS1 = 'cnishim1';
const NS2 = 'cnishim2';

interface ShimRun {
  code: number;
  stdout: string;
  json: Record<string, unknown> | undefined;
}

/** Run the shim with exactly this CNI environment (plus PATH and the transport) and stdin. */
async function shimVia(transport: string, env: Record<string, string | undefined>, stdin: string): Promise<ShimRun> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', NETLOOM_CNI_TRANSPORT: transport };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const [cmd, args] = transport === 'compiled' ? [SHIM_COMPILED, []] : ['dash', [SHIM]];
  const r = await run(cmd, args, { env: clean, input: stdin, allowFailure: true, timeoutMs: 20_000 });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as Record<string, unknown>);
  } catch {
    json = undefined;
  }
  return { code: r.code, stdout: r.stdout, json };
}

for (const transport of SHIM_TRANSPORTS)
  describe(`netloom-cni shim + agent handler (transport ${transport})`, function () {
    this.timeout(30_000);
    const shim = (env: Record<string, string | undefined>, stdin: string) => shimVia(transport, env, stdin);
    const fake = new FakeBackend();
    const veth = new VethBackend({ subnet: '10.77.0.0/24', hostPrefix: 'nlsh' });
    let fakeSrv: CniServer;
    let vethSrv: CniServer;
    const fakeSock = `${DIR}/fake.sock`;
    const vethSock = `${DIR}/veth.sock`;
    const fakeConf = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({ cniVersion: '1.1.0', name: 'nlfake', type: 'netloom-cni', agentSocket: fakeSock, ...extra });
    const vethConf = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({ cniVersion: '1.1.0', name: 'nlveth', type: 'netloom-cni', agentSocket: vethSock, tenant: 't1', ...extra });
    const attach = (cmd: string, id: string, ns: string) => ({
      CNI_COMMAND: cmd,
      CNI_CONTAINERID: id,
      CNI_NETNS: `/run/netns/${ns}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
    });

    before(async () => {
      mkdirSync(DIR, { recursive: true });
      await addNetns(NS1);
      await addNetns(NS2);
      fakeSrv = await listenCni(fakeSock, { backend: fake });
      vethSrv = await listenCni(vethSock, { backend: veth });
    });

    after(async () => {
      for (const a of veth.list()) await run('ip', ['link', 'del', a.hostIf], { allowFailure: true });
      await fakeSrv?.close();
      await vethSrv?.close();
      await delNetns(NS1);
      await delNetns(NS2);
      rmSync(DIR, { recursive: true, force: true });
    });

    it('answers VERSION without any agent', async () => {
      const r = await shim({ CNI_COMMAND: 'VERSION', NETLOOM_AGENT_SOCKET: `${DIR}/none.sock` }, '{"cniVersion":"1.1.0"}');
      assert.equal(r.code, 0);
      assert.deepEqual(r.json, { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    });

    describe('with a real veth backend', () => {
      let prevResult: Record<string, unknown>;

      it('ADD plugs eth0 with the returned IP into the namespace', async () => {
        const r = await shim(attach('ADD', 'ctr1', NS1), vethConf());
        assert.equal(r.code, 0, r.stdout);
        assert.ok(r.json);
        prevResult = r.json;
        assert.equal(r.json.cniVersion, '1.1.0');
        const ips = r.json.ips as Array<{ address: string; gateway: string; interface: number }>;
        assert.equal(ips.length, 1);
        const addr = ips[0]?.address ?? '';
        assert.match(addr, /^10\.77\.0\.\d+\/24$/);
        const inNs = JSON.parse((await run('ip', ['-n', NS1, '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as Array<{
          address: string;
          operstate: string;
          addr_info: Array<{ local: string; prefixlen: number }>;
        }>;
        assert.ok(
          inNs[0]?.addr_info.some((a) => `${a.local}/${a.prefixlen}` === addr),
          `eth0 in ${NS1} has ${addr}`,
        );
        const ifaces = r.json.interfaces as Array<{ name: string; mac: string; sandbox?: string }>;
        assert.equal(ifaces[1]?.mac, inNs[0]?.address, 'reported MAC is the real one');
        assert.equal(ifaces[1]?.sandbox, `/run/netns/${NS1}`);
        assert.ok(await linkExists(ifaces[0]?.name ?? '?'), 'host end exists in the root namespace');
        const route = (await run('ip', ['-n', NS1, 'route', 'show', 'default'])).stdout;
        assert.match(route, /default via 10\.77\.0\.1 dev eth0/);
      });

      it('ADD converts to an older requested cniVersion', async () => {
        const r = await shim(attach('ADD', 'ctr9', NS2), vethConf({ cniVersion: '0.4.0' }));
        assert.equal(r.code, 0, r.stdout);
        assert.equal(r.json?.cniVersion, '0.4.0');
        assert.equal((r.json?.ips as Array<{ version: string }>)[0]?.version, '4');
        assert.equal((await shim(attach('DEL', 'ctr9', NS2), vethConf({ cniVersion: '0.4.0' }))).code, 0);
      });

      it('ADD of an interface that exists already fails and leaves the first one alone', async () => {
        const r = await shim({ ...attach('ADD', 'ctr1', NS1) }, vethConf());
        assert.equal(r.code, 1);
        assert.equal(r.json?.code, 100);
        assert.ok(await linkExists('eth0', NS1));
      });

      it('CHECK passes, then fails once the interface is gone', async () => {
        const ok = await shim(attach('CHECK', 'ctr1', NS1), vethConf({ prevResult }));
        assert.equal(ok.code, 0, ok.stdout);
        assert.equal(ok.stdout, '');
        await run('ip', ['-n', NS1, 'link', 'del', 'eth0']);
        const bad = await shim(attach('CHECK', 'ctr1', NS1), vethConf({ prevResult }));
        assert.equal(bad.code, 1);
        assert.equal(bad.json?.code, 102);
        assert.match(String(bad.json?.details), /eth0 is missing/);
      });

      it('DEL succeeds, and succeeds again, also without CNI_NETNS', async () => {
        const hostIf = (prevResult.interfaces as Array<{ name: string }>)[0]?.name ?? '?';
        const first = await shim(attach('DEL', 'ctr1', NS1), vethConf({ prevResult }));
        assert.equal(first.code, 0, first.stdout);
        assert.equal(await linkExists(hostIf), false);
        const second = await shim(attach('DEL', 'ctr1', NS1), vethConf({ prevResult }));
        assert.equal(second.code, 0, second.stdout);
        const third = await shim({ ...attach('DEL', 'ctr1', NS1), CNI_NETNS: undefined }, vethConf());
        assert.equal(third.code, 0, third.stdout);
        assert.equal(veth.list().length, 0);
      });

      it('DEL after the namespace was deleted succeeds and frees the address', async () => {
        const ns = 'cnishimgone';
        await addNetns(ns);
        try {
          const add = await shim(attach('ADD', 'gone1', ns), vethConf());
          assert.equal(add.code, 0, add.stdout);
          await delNetns(ns);
          const del = await shim(attach('DEL', 'gone1', ns), vethConf({ prevResult: add.json }));
          assert.equal(del.code, 0, del.stdout);
          assert.equal(veth.list().length, 0);
          const host = (add.json?.interfaces as Array<{ name: string }>)[0]?.name ?? '?';
          assert.equal(await linkExists(host), false);
        } finally {
          await delNetns(ns);
        }
      });

      it('ADD into a namespace that does not exist: code 3', async () => {
        const r = await shim({ ...attach('ADD', 'ctrX', NS1), CNI_NETNS: '/run/netns/cni-does-not-exist' }, vethConf());
        assert.equal(r.json?.code, 3);
        assert.equal(veth.list().length, 0);
      });

      it('STATUS is empty success when ready and code 50 when not', async () => {
        const ok = await shim({ CNI_COMMAND: 'STATUS', CNI_PATH: '/usr/lib/cni' }, vethConf());
        assert.equal(ok.code, 0);
        assert.equal(ok.stdout, '');
        veth.setReady(false);
        try {
          const down = await shim({ CNI_COMMAND: 'STATUS' }, vethConf());
          assert.equal(down.code, 1);
          assert.equal(down.json?.code, 50);
        } finally {
          veth.setReady(true);
        }
      });

      it('GC frees the attachments not listed and keeps the listed one', async () => {
        const a = await shim(attach('ADD', 'gc1', NS1), vethConf());
        const b = await shim(attach('ADD', 'gc2', NS2), vethConf());
        assert.equal(a.code + b.code, 0, a.stdout + b.stdout);
        const hostA = (a.json?.interfaces as Array<{ name: string }>)[0]?.name ?? '?';
        const hostB = (b.json?.interfaces as Array<{ name: string }>)[0]?.name ?? '?';
        const gc = await shim(
          { CNI_COMMAND: 'GC', CNI_PATH: '/usr/lib/cni' },
          vethConf({ 'cni.dev/valid-attachments': [{ containerID: 'gc2', ifname: 'eth0' }] }),
        );
        assert.equal(gc.code, 0, gc.stdout);
        assert.equal(await linkExists(hostA), false, 'gc1 host end released');
        assert.equal(await linkExists('eth0', NS1), false, 'gc1 container end went with it');
        assert.ok(await linkExists(hostB), 'gc2 kept');
        assert.deepEqual(
          veth.list().map((x) => x.containerId),
          ['gc2'],
        );
        // the freed address can be handed out again
        const c = await shim(attach('ADD', 'gc3', NS1), vethConf());
        assert.equal((c.json?.ips as Array<{ address: string }>)[0]?.address, (a.json?.ips as Array<{ address: string }>)[0]?.address);
        for (const [id, ns] of [
          ['gc2', NS2],
          ['gc3', NS1],
        ] as const)
          assert.equal((await shim(attach('DEL', id, ns), vethConf())).code, 0);
      });
    });

    describe('bad input gets the right code and the backend is never called', () => {
      const cases: Array<[string, Record<string, string | undefined>, string, number]> = [
        ['no CNI_COMMAND', { ...attach('ADD', 'c1', NS1), CNI_COMMAND: undefined }, fakeConf(), 4],
        ['unknown CNI_COMMAND', attach('FROB', 'c1', NS1), fakeConf(), 4],
        ['no CNI_CONTAINERID', { ...attach('ADD', 'c1', NS1), CNI_CONTAINERID: undefined }, fakeConf(), 4],
        ['no CNI_NETNS on ADD', { ...attach('ADD', 'c1', NS1), CNI_NETNS: undefined }, fakeConf(), 4],
        ['no CNI_IFNAME on DEL', { ...attach('DEL', 'c1', NS1), CNI_IFNAME: undefined }, fakeConf(), 4],
        ['CNI_IFNAME too long', { ...attach('ADD', 'c1', NS1), CNI_IFNAME: 'averyveryverylongname' }, fakeConf(), 4],
        ['CNI_CONTAINERID with a newline', { ...attach('ADD', 'c1', NS1), CNI_CONTAINERID: 'a\nCNI-Command: DEL' }, fakeConf(), 4],
        ['malformed CNI_ARGS', { ...attach('ADD', 'c1', NS1), CNI_ARGS: 'K8S_POD_NAME' }, fakeConf(), 4],
        ['stdin not JSON', attach('ADD', 'c1', NS1), `{"agentSocket":"${fakeSock}", nope`, 6],
        ['empty stdin', { ...attach('ADD', 'c1', NS1), NETLOOM_AGENT_SOCKET: fakeSock }, '', 6],
        ['cniVersion 0.2.1 (none such)', attach('ADD', 'c1', NS1), fakeConf({ cniVersion: '0.2.1' }), 1],
        ['no network name', attach('ADD', 'c1', NS1), JSON.stringify({ cniVersion: '1.1.0', agentSocket: fakeSock }), 7],
        ['bad runtimeConfig.ips', attach('ADD', 'c1', NS1), fakeConf({ runtimeConfig: { ips: ['300.1.1.1/24'] } }), 7],
        ['delegated ipam', attach('ADD', 'c1', NS1), fakeConf({ ipam: { type: 'host-local' } }), 2],
        ['GC without valid-attachments', { CNI_COMMAND: 'GC' }, fakeConf(), 7],
      ];
      for (const [what, env, stdin, code] of cases) {
        it(`${what} -> ${code}`, async () => {
          const r = await shim(env, stdin);
          assert.equal(r.code, 1, r.stdout);
          assert.equal(r.json?.code, code, r.stdout);
          assert.equal(typeof r.json?.msg, 'string');
          assert.deepEqual(fake.calls, []);
        });
      }
    });

    describe('socket choice and an agent that is down', () => {
      it('uses NETLOOM_AGENT_SOCKET when the netconf has no agentSocket', async () => {
        const r = await shim(
          { ...attach('ADD', 'env1', NS1), NETLOOM_AGENT_SOCKET: fakeSock },
          JSON.stringify({ cniVersion: '1.1.0', name: 'nlfake', type: 'netloom-cni' }),
        );
        assert.equal(r.code, 0, r.stdout);
        assert.deepEqual(fake.ops(), ['add']);
        fake.calls = [];
      });

      it('agentSocket in the netconf beats NETLOOM_AGENT_SOCKET', async () => {
        const r = await shim({ ...attach('DEL', 'env1', NS1), NETLOOM_AGENT_SOCKET: `${DIR}/none.sock` }, fakeConf());
        assert.equal(r.code, 0, r.stdout);
        assert.deepEqual(fake.ops(), ['del']);
        fake.calls = [];
      });

      it('environment errors are answered without contacting the agent (code 4, not 11)', async () => {
        const nowhere = fakeConf({ agentSocket: `${DIR}/gone.sock` });
        for (const env of [
          { ...attach('ADD', 'c1', NS1), CNI_COMMAND: undefined },
          attach('FROB', 'c1', NS1),
          { ...attach('ADD', 'c1', NS1), CNI_CONTAINERID: undefined },
          { ...attach('CHECK', 'c1', NS1), CNI_NETNS: undefined },
          { ...attach('DEL', 'c1', NS1), CNI_IFNAME: undefined },
          { ...attach('ADD', 'c1', NS1), CNI_ARGS: 'A=1\r\nCNI-Command: DEL' },
        ]) {
          const r = await shim(env, nowhere);
          assert.equal(r.json?.code, 4, `${JSON.stringify(env)}: ${r.stdout}`);
        }
      });

      it('no socket file: code 11 naming the socket', async () => {
        const r = await shim(attach('ADD', 'c1', NS1), fakeConf({ agentSocket: `${DIR}/gone.sock` }));
        assert.equal(r.code, 1);
        assert.equal(r.json?.code, 11);
        assert.match(String(r.json?.msg), new RegExp(`${DIR}/gone.sock`));
      });

      it('a stale socket nobody listens on: code 11; STATUS says 50', async () => {
        const stale = `${DIR}/stale.sock`;
        await run('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind('${stale}')`]);
        const r = await shim(attach('ADD', 'c1', NS1), fakeConf({ agentSocket: stale }));
        assert.equal(r.json?.code, 11, r.stdout);
        assert.match(String(r.json?.msg), /stale\.sock/);
        const s = await shim({ CNI_COMMAND: 'STATUS' }, fakeConf({ agentSocket: stale }));
        assert.equal(s.json?.code, 50, s.stdout);
        assert.deepEqual(fake.calls, []);
      });

      it('an agent that closes the connection without answering: code 11', async () => {
        const { createServer } = await import('node:net');
        const rude = createServer((c) => c.destroy());
        const path = `${DIR}/rude.sock`;
        await new Promise<void>((r) => rude.listen(path, r));
        try {
          const r = await shim(attach('ADD', 'c1', NS1), fakeConf({ agentSocket: path }));
          assert.equal(r.json?.code, 11, r.stdout);
        } finally {
          await new Promise((r) => rude.close(r));
        }
      });
    });

    it('passes a multi-byte body whole also when /bin/sh is bash in a UTF-8 locale', async () => {
      const conf = fakeConf({ args: { cni: { labels: [{ key: 'city', value: 'Zürich 東京' }] } } });
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        NETLOOM_CNI_TRANSPORT: transport,
        ...attach('ADD', 'bash1', NS1),
      };
      const [cmd, args] = transport === 'compiled' ? [SHIM_COMPILED, []] : ['bash', ['--posix', SHIM]];
      const r = await run(cmd, args, { env, input: conf, allowFailure: true, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stdout);
      const last = fake.calls.at(-1);
      assert.ok(last?.op === 'add');
      assert.deepEqual(last.req.labels, { city: 'Zürich 東京' });
      fake.calls = [];
    });

    it('passes a 200 KiB body whole; refuses one over 1 MiB with code 7', async () => {
      const big = await shim(attach('ADD', 'big1', NS1), fakeConf({ padding: 'x'.repeat(200 * 1024) }));
      assert.equal(big.code, 0, big.stdout.slice(0, 300));
      const last = fake.calls.at(-1);
      assert.ok(last?.op === 'add');
      assert.equal((last.req.netconf.padding as string).length, 200 * 1024);
      fake.calls = [];
      // runShim: the shim stops reading at the limit, so writing the rest may fail (EPIPE)
      const huge = await runShim(
        { NETLOOM_CNI_TRANSPORT: transport, ...attach('ADD', 'huge1', NS1) },
        fakeConf({ padding: 'x'.repeat(1100 * 1024) }),
      );
      assert.equal(huge.code, 1);
      assert.equal(huge.json?.code, 7, huge.stdout.slice(0, 300));
      assert.deepEqual(fake.calls, []);
    });

    it('passes a multi-byte body verbatim (Content-Length in bytes)', async () => {
      const r = await shim(attach('ADD', 'utf8', NS1), fakeConf({ args: { cni: { labels: [{ key: 'owner', value: 'Zoë — 東京' }] } } }));
      assert.equal(r.code, 0, r.stdout);
      const last = fake.calls.at(-1);
      assert.ok(last?.op === 'add');
      assert.deepEqual(last.req.labels, { owner: 'Zoë — 東京' });
      fake.calls = [];
    });
  });
