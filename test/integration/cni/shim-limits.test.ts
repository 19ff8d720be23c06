/**
 * issue 13, the CNI shim's hardening, through the real `bin/netloom-cni` and the real agent-side
 * handler on a unix socket (root: namespaces, veths): input over the limits is refused quickly
 * with the spec's code, big input is served in time linear in its size, and CNI_NETNS, CNI_ARGS
 * values the old shim turned into hangs or internal errors (999) get codes naming the variable.
 * Times are measured as the CPU of the shim's process tree (meaningful on a loaded machine); wall
 * time is only bounded loosely, against hangs.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { listenCni, type CniServer } from '../../../netplugin/cni/server';
import { VethBackend } from '../../../tools/veth-cni-backend';
import { runShim, SHIM_TRANSPORTS, type ShimOutcome } from '../../support/cni-shim';
import { FakeBackend } from '../../unit/cni/fake-backend';

const DIR = `/tmp/nl-cni/limits-${process.pid}`;
const NS = 'cnilim1';
/** the goals: refuse 1 MiB, serve 80 KB, each in < 100 ms of the shim's own time */
const GOAL_MS = 100;
/** against hangs only (the old shim: 10 s for a FIFO, minutes for 200,000 newlines) */
const HANG_MS = 5000;

function conf(sock: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: '1.1.0', name: 'nllim', type: 'netloom-cni', agentSocket: sock, tenant: 't1', ...extra };
}

/** A netconf of about `bytes` bytes: one long string before the keys the shim looks for (the case that was quadratic). */
function paddedFirst(sock: string, bytes: number): string {
  const tail = JSON.stringify(conf(sock));
  return `{"pad":"${'x'.repeat(Math.max(0, bytes - tail.length - 10))}",${tail.slice(1)}`;
}

function explain(r: ShimOutcome): string {
  return `exit ${r.code}, ${r.cpuMs.toFixed(0)} ms CPU, ${r.wallMs.toFixed(0)} ms wall: ${r.stdout.slice(0, 300)}${r.stderr.slice(0, 300)}`;
}

for (const transport of SHIM_TRANSPORTS)
  describe(`netloom-cni limits and codes (transport ${transport})`, function () {
    this.timeout(60_000);
    const fake = new FakeBackend();
    const veth = new VethBackend({ subnet: '10.79.0.0/24', hostPrefix: 'nlli' });
    let fakeSrv: CniServer;
    let vethSrv: CniServer;
    const fakeSock = `${DIR}/fake.sock`;
    const vethSock = `${DIR}/veth.sock`;
    const env = (over: Record<string, string | undefined> = {}) => ({
      NETLOOM_CNI_TRANSPORT: transport,
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'lim1',
      CNI_NETNS: `/run/netns/${NS}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      ...over,
    });

    before(async () => {
      mkdirSync(DIR, { recursive: true });
      await addNetns(NS);
      await run('mkfifo', [`${DIR}/fifo`]);
      fakeSrv = await listenCni(fakeSock, { backend: fake });
      vethSrv = await listenCni(vethSock, { backend: veth });
    });

    after(async () => {
      for (const a of veth.list()) await run('ip', ['link', 'del', a.hostIf], { allowFailure: true });
      await fakeSrv?.close();
      await vethSrv?.close();
      await delNetns(NS);
      rmSync(DIR, { recursive: true, force: true });
    });

    afterEach(() => {
      fake.calls = [];
    });

    describe('size', () => {
      for (const mib of [1.05, 8]) {
        it(`a ${mib} MiB netconf is refused with code 7 in < ${GOAL_MS} ms of CPU, the agent never asked`, async () => {
          const r = await runShim(env(), paddedFirst(fakeSock, mib * 1024 * 1024));
          assert.equal(r.code, 1, explain(r));
          assert.equal(r.json?.code, 7, explain(r));
          assert.match(String(r.json?.msg), /larger than 1048576 bytes/);
          assert.ok(r.cpuMs < GOAL_MS, explain(r));
          assert.ok(r.wallMs < HANG_MS, explain(r));
          assert.deepEqual(fake.calls, []);
        });
      }

      it('a netconf of exactly 1 MiB is served whole', async () => {
        const text = paddedFirst(fakeSock, 1024 * 1024);
        const exact = text.replace('"pad":"', `"pad":"${'y'.repeat(1024 * 1024 - Buffer.byteLength(text))}`);
        assert.equal(Buffer.byteLength(exact), 1024 * 1024);
        const r = await runShim(env(), exact);
        assert.equal(r.code, 0, explain(r));
        const last = fake.calls.at(-1);
        assert.ok(last?.op === 'add');
        assert.equal(JSON.stringify(last.req.netconf), exact);
      });

      const served: Array<[string, (sock: string) => string]> = [
        ['80 KB, the keys after a long string', (s) => paddedFirst(s, 80 * 1000)],
        ['80 KB, the keys first', (s) => JSON.stringify({ ...conf(s), pad: 'x'.repeat(80 * 1000) })],
        [
          '80 KB pretty-printed over 5,000 lines',
          (s) =>
            JSON.stringify(
              // a key netloom does not read (labels are capped at 64 since they reach endpoints)
              conf(s, { pad: Array.from({ length: 1250 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(20) })) }),
              null,
              1,
            ),
        ],
      ];
      for (const [what, make] of served) {
        it(`${what}: served in < ${GOAL_MS} ms of CPU`, async () => {
          const text = make(fakeSock);
          const r = await runShim(env(), text);
          assert.equal(r.code, 0, explain(r));
          assert.ok(r.cpuMs < GOAL_MS, explain(r));
          const last = fake.calls.at(-1);
          assert.ok(last?.op === 'add');
          assert.equal(JSON.stringify(last.req.netconf), JSON.stringify(JSON.parse(text)));
        });
      }

      it('200,000 newlines: served, no hang', async () => {
        const text = JSON.stringify(conf(fakeSock)).replace(/}$/, `${'\n'.repeat(200_000)}}`);
        const r = await runShim(env(), text);
        assert.equal(r.code, 0, explain(r));
        assert.ok(r.wallMs < HANG_MS, explain(r));
      });

      it('time grows linearly: 800 KB with the keys last costs far less than 10x the quadratic 80 KB did', async () => {
        const small = await runShim(env(), paddedFirst(fakeSock, 80 * 1000));
        const big = await runShim(env(), paddedFirst(fakeSock, 800 * 1000));
        assert.equal(big.code, 0, explain(big));
        // quadratic would be 100x; linear plus process starts is well under 10x
        assert.ok(big.cpuMs < 10 * Math.max(small.cpuMs, 20), `80 KB: ${explain(small)}\n800 KB: ${explain(big)}`);
      });
    });

    describe('CNI_NETNS that is not a network namespace (real veth backend: nsenter would see it)', () => {
      const cases: Array<[string, () => string, number, RegExp]> = [
        ['a FIFO', () => `${DIR}/fifo`, 4, /CNI_NETNS: .*fifo is a FIFO, not a network namespace/],
        ['/etc/passwd', () => '/etc/passwd', 4, /CNI_NETNS: \/etc\/passwd is a file, not a network namespace/],
        ['a directory', () => DIR, 4, /CNI_NETNS: .* is a directory/],
        ['a missing path', () => `${DIR}/none`, 3, /does not exist/],
      ];
      for (const [what, path, code, msg] of cases) {
        it(`${what}: code ${code} at once, nothing plugged`, async () => {
          const r = await runShim(env({ CNI_NETNS: path() }), JSON.stringify(conf(vethSock)));
          assert.equal(r.code, 1, explain(r));
          assert.equal(r.json?.code, code, explain(r));
          assert.match(String(r.json?.msg), msg);
          assert.ok(r.wallMs < HANG_MS, explain(r));
          assert.deepEqual(veth.list(), []);
        });
      }

      it('DEL with a FIFO as CNI_NETNS succeeds and releases the attachment', async () => {
        const add = await runShim(env({ CNI_CONTAINERID: 'fifodel' }), JSON.stringify(conf(vethSock)));
        assert.equal(add.code, 0, explain(add));
        const del = await runShim(
          env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'fifodel', CNI_NETNS: `${DIR}/fifo` }),
          JSON.stringify(conf(vethSock)),
        );
        assert.equal(del.code, 0, explain(del));
        assert.ok(del.wallMs < HANG_MS, explain(del));
        assert.deepEqual(veth.list(), []);
      });
    });

    describe('CNI_ARGS', () => {
      it('a zero MAC: code 4 naming CNI_ARGS, nothing plugged', async () => {
        const r = await runShim(env({ CNI_ARGS: 'IgnoreUnknown=1;MAC=00:00:00:00:00:00' }), JSON.stringify(conf(vethSock)));
        assert.equal(r.json?.code, 4, explain(r));
        assert.match(String(r.json?.msg), /CNI_ARGS: MAC/);
        assert.deepEqual(veth.list(), []);
      });

      for (const [variable, bytes] of [
        ['CNI_ARGS', 20_000],
        ['CNI_PATH', 100_000],
        ['CNI_CONTAINERID', 5000],
        ['CNI_NETNS', 5000],
      ] as const) {
        it(`${variable} of ${bytes} bytes: code 4 naming it (the shim refuses; not the agent's 431)`, async () => {
          const value = variable === 'CNI_ARGS' ? `A=${'x'.repeat(bytes)}` : `/${'x'.repeat(bytes)}`;
          const r = await runShim(env({ [variable]: value }), JSON.stringify(conf(fakeSock)));
          assert.equal(r.code, 1, explain(r));
          assert.equal(r.json?.code, 4, explain(r));
          assert.match(String(r.json?.msg), new RegExp(`${variable}: is \\d+ bytes long, more than`));
          assert.deepEqual(fake.calls, []);
        });
      }
    });
  });
