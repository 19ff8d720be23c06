/**
 * issue 18 part 2: CNI conformance against the REAL agent (lab `tcnc`: one host with OVS, etcd and
 * netmaster), two ways:
 *  (a) a table of spec cases driven directly through `bin/netloom-cni` as a runtime calls it: every
 *      verb (ADD, CHECK, DEL, STATUS, GC, VERSION), every version of supportedVersions with its
 *      result shape, every error condition with its code; the deviations of issue 18 are cases
 *      (repeated ADD, a second interface, GC's two key names, codes 7/6/4, CHECK of routes/link);
 *  (b) ADD/CHECK/DEL through Debian's real libcni (1.1.2, spec up to 1.0.0) with the small Go driver
 *      of test/cni-driver/, built and cached by test/support/cni-driver.ts.
 * Both for the sh shim and for the compiled plugin (dist/bin/netloom-cni, issue 15).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../../../lib/exec';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { compareVersions, SUPPORTED_CNI_VERSIONS } from '../../../netplugin/cni/version';
import { cniDriver } from '../../support/cni-driver';
import { runShim, SHIM_COMPILED, type ShimOutcome } from '../../support/cni-shim';
import { BIN, labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tcnc';
const NS_A = 'tcnc-a';
const NS_B = 'tcnc-b';
const DIR = `/tmp/nl-cni/conformance-${process.pid}`;
const TENANT = 'conf';
/** the two networks of the tenant, and their gateways */
const NETS = { vx: { subnet: '10.83.1.0/24', gw: '10.83.1.254' }, vy: { subnet: '10.83.2.0/24', gw: '10.83.2.254' } };

function explain(r: ShimOutcome): string {
  return `exit ${r.code}: ${r.stdout.slice(0, 500)}${r.stderr.slice(0, 300)}`;
}

/** An error result with this code (exit 1, the spec's error JSON). */
function assertCode(r: ShimOutcome, code: number): void {
  assert.equal(r.code, 1, explain(r));
  assert.equal(r.json?.code, code, explain(r));
  assert.equal(typeof r.json?.msg, 'string', explain(r));
  assert.equal(typeof r.json?.cniVersion, 'string', explain(r));
}

interface Ip {
  address: string;
  gateway?: string;
  interface?: number;
  version?: string;
}

describe('CNI conformance against the real agent (issue 18)', function () {
  this.timeout(300_000);
  const plan = planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1 });
  const lab = labCli(LAB);
  const nm = plan.netmasters[0]!.url;
  const host = plan.hosts[0]!;
  const sock = agentPaths(plan, host.name).cniSocket;
  const conf = (extra: Record<string, unknown> = {}) =>
    ({ cniVersion: '1.1.0', name: 'conf-vx', type: 'netloom-cni', agentSocket: sock, tenant: TENANT, network: 'vx', ...extra }) as Record<
      string,
      unknown
    >;
  const env = (command: string, id: string, over: Record<string, string | undefined> = {}) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: `/run/netns/${NS_A}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: BIN,
    ...over,
  });
  /** `ip -j` inside a namespace of the test */
  const ipJson = async <T>(ns: string, args: string[]): Promise<T> => JSON.parse((await run('ip', ['-n', ns, '-j', ...args])).stdout) as T;
  const defaultRoutes = (ns: string) => ipJson<Array<{ gateway?: string; dev: string }>>(ns, ['route', 'show', 'default']);

  before(async function () {
    this.timeout(240_000);
    mkdirSync(DIR, { recursive: true });
    writeFileSync(`${DIR}/plain-file`, 'not a namespace\n');
    await lab(['down'], true);
    await lab(['up', '--hosts', '1', '--etcd-members', '1', '--netmasters', '1'], false, 180_000);
    const netctl = netctlCli(nm);
    await netctl(['tenant', 'create', TENANT]);
    for (const [name, n] of Object.entries(NETS))
      await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', n.subnet, '-g', n.gw, name]);
    await addNetns(NS_A);
    await addNetns(NS_B);
  });

  after(async function () {
    this.timeout(120_000);
    await delNetns(NS_A);
    await delNetns(NS_B);
    await lab(['down'], true, 120_000);
    rmSync(DIR, { recursive: true, force: true });
  });

  for (const compiled of [false, true])
    describe(`(a) the spec table through ${compiled ? 'the compiled dist/bin/netloom-cni' : 'bin/netloom-cni (sh)'}`, () => {
      const runPlugin = (e: Record<string, string | undefined>, stdin: string) =>
        runShim(compiled ? { ...e, NETLOOM_CNI_TRANSPORT: 'compiled' } : e, stdin);
      const shimCall = (command: string, id: string, extra: Record<string, unknown> = {}, over: Record<string, string | undefined> = {}) =>
        runPlugin(env(command, id, over), JSON.stringify(conf(extra)));
      for (const v of SUPPORTED_CNI_VERSIONS) {
        it(`VERSION ${v}: echoes the version and lists every supported one`, async () => {
          const r = await runPlugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: v }));
          assert.equal(r.code, 0, explain(r));
          assert.deepEqual(r.json, { cniVersion: v, supportedVersions: [...SUPPORTED_CNI_VERSIONS] });
        });

        it(`cniVersion ${v}: ADD gives that version's result shape; CHECK${compareVersions(v, '0.4.0') < 0 ? ' is refused (1)' : ' passes'}; DEL twice succeeds`, async () => {
          const id = `ver-${v.replace(/\./g, '')}`;
          const add = await shimCall('ADD', id, { cniVersion: v });
          assert.equal(add.code, 0, explain(add));
          const res = add.json!;
          assert.equal(res.cniVersion, v);
          if (compareVersions(v, '0.3.0') < 0) {
            // 0.1.0/0.2.0 (what Mesos reads): one ip4 with its routes, no interfaces
            assert.deepEqual(Object.keys(res).sort(), ['cniVersion', 'dns', 'ip4']);
            const ip4 = res.ip4 as { ip: string; gateway?: string; routes?: unknown };
            assert.match(ip4.ip, /^10\.83\.1\.\d+\/24$/);
            assert.equal(ip4.gateway, NETS.vx.gw);
            assert.deepEqual(ip4.routes, [{ dst: '0.0.0.0/0', gw: NETS.vx.gw }]);
            assertCode(await shimCall('CHECK', id, { cniVersion: v, prevResult: res }), 1);
            for (let i = 0; i < 2; i++) {
              const del = await shimCall('DEL', id, { cniVersion: v });
              assert.deepEqual([del.code, del.stdout], [0, ''], explain(del));
            }
            assert.deepEqual(await defaultRoutes(NS_A), [], 'DEL took the default route with the interface');
            return;
          }
          const ips = res.ips as Ip[];
          const ifaces = res.interfaces as Array<Record<string, unknown>>;
          assert.equal(ips.length, 1);
          assert.match(ips[0]!.address, /^10\.83\.1\.\d+\/24$/);
          assert.equal(ips[0]!.gateway, NETS.vx.gw);
          assert.equal(ifaces[ips[0]!.interface ?? -1]?.name, 'eth0', 'ips[0].interface points at eth0');
          assert.equal(ifaces[1]?.sandbox, `/run/netns/${NS_A}`);
          // 0.3.x/0.4.0 carry ips[].version; 1.0.0 dropped it; interface mtu is new in 1.1.0
          assert.equal(ips[0]!.version, compareVersions(v, '1.0.0') < 0 ? '4' : undefined);
          assert.equal(typeof ifaces[1]?.mtu, v === '1.1.0' ? 'number' : 'undefined');
          assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0', gw: NETS.vx.gw }]);
          const check = await shimCall('CHECK', id, { cniVersion: v, prevResult: res });
          if (compareVersions(v, '0.4.0') < 0) assertCode(check, 1);
          else assert.deepEqual([check.code, check.stdout], [0, ''], explain(check));
          for (let i = 0; i < 2; i++) {
            const del = await shimCall('DEL', id, { cniVersion: v, prevResult: res });
            assert.deepEqual([del.code, del.stdout], [0, ''], explain(del));
          }
          assert.deepEqual(await defaultRoutes(NS_A), [], 'DEL took the default route with the interface');
        });
      }

      it('a repeated ADD of one attachment fails (100), also with another netns; after a DEL it works again', async () => {
        const first = await shimCall('ADD', 'dup1');
        assert.equal(first.code, 0, explain(first));
        assertCode(await shimCall('ADD', 'dup1'), 100);
        assertCode(await shimCall('ADD', 'dup1', {}, { CNI_NETNS: `/run/netns/${NS_B}` }), 100);
        const links = await ipJson<unknown[]>(NS_B, ['link', 'show']);
        assert.equal(links.length, 1, 'nothing was made in the other namespace (lo only)');
        assert.equal((await shimCall('DEL', 'dup1')).code, 0);
        const again = await shimCall('ADD', 'dup1');
        assert.equal(again.code, 0, explain(again));
        assert.equal((await shimCall('DEL', 'dup1')).code, 0);
      });

      it("a second interface on another network: only the first attachment's network installs the default route", async () => {
        const eth0 = await shimCall('ADD', 'two1');
        assert.equal(eth0.code, 0, explain(eth0));
        const eth1 = await shimCall('ADD', 'two1', { name: 'conf-vy', network: 'vy' }, { CNI_IFNAME: 'eth1' });
        assert.equal(eth1.code, 0, explain(eth1));
        assert.deepEqual(eth1.json?.routes, undefined, 'no routes in the second result');
        assert.equal((eth1.json?.ips as Ip[])[0]?.gateway, NETS.vy.gw, 'its gateway is still reported');
        assert.deepEqual(
          (await defaultRoutes(NS_A)).map((r) => [r.gateway, r.dev]),
          [[NETS.vx.gw, 'eth0']],
        );
        const check0 = await shimCall('CHECK', 'two1', { prevResult: eth0.json });
        const check1 = await shimCall('CHECK', 'two1', { name: 'conf-vy', network: 'vy', prevResult: eth1.json }, { CNI_IFNAME: 'eth1' });
        assert.deepEqual([check0.code, check1.code], [0, 0], `${explain(check0)} / ${explain(check1)}`);
        // a conflist may say which one installs it instead: true where the container has one is a conflict
        const eth3 = await shimCall('ADD', 'two1', { name: 'conf-vy3', network: 'vy', defaultRoute: true }, { CNI_IFNAME: 'eth3' });
        assertCode(eth3, 100);
        assert.match(String(eth3.json?.msg), /default route exists already/);
        assert.equal((await ipJson<unknown[]>(NS_A, ['link', 'show'])).length, 3, 'the refused eth3 was undone (lo, eth0, eth1)');
        const eth2 = await shimCall('ADD', 'two1', { name: 'conf-vy2', network: 'vy', defaultRoute: false }, { CNI_IFNAME: 'eth2' });
        assert.equal(eth2.code, 0, explain(eth2));
        assert.equal((await shimCall('DEL', 'two1', { name: 'conf-vy2', network: 'vy' }, { CNI_IFNAME: 'eth2' })).code, 0);
        assert.equal((await shimCall('DEL', 'two1', { name: 'conf-vy', network: 'vy' }, { CNI_IFNAME: 'eth1' })).code, 0);
        assert.equal((await shimCall('DEL', 'two1')).code, 0);
      });

      it('CHECK fails (102) once the default route is deleted, and once the link is set down', async () => {
        const add = await shimCall('ADD', 'chk1');
        assert.equal(add.code, 0, explain(add));
        await run('ip', ['-n', NS_A, 'route', 'del', 'default']);
        const noRoute = await shimCall('CHECK', 'chk1', { prevResult: add.json });
        assertCode(noRoute, 102);
        assert.match(String(noRoute.json?.details), /route 0\.0\.0\.0\/0 via 10\.83\.1\.254 is missing/);
        await run('ip', ['-n', NS_A, 'route', 'add', 'default', 'via', NETS.vx.gw, 'dev', 'eth0']);
        assert.equal((await shimCall('CHECK', 'chk1', { prevResult: add.json })).code, 0, 'the route back: CHECK passes');
        await run('ip', ['-n', NS_A, 'link', 'set', 'eth0', 'down']);
        const down = await shimCall('CHECK', 'chk1', { prevResult: add.json });
        assertCode(down, 102);
        assert.match(String(down.json?.details), /interface eth0 is down/);
        assert.equal((await shimCall('DEL', 'chk1')).code, 0);
      });

      it('STATUS: ready is exit 0 with no output; 1.0.0 has no STATUS (1)', async () => {
        const ok = await shimCall('STATUS', '', {}, { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined });
        assert.deepEqual([ok.code, ok.stdout], [0, ''], explain(ok));
        assertCode(await shimCall('STATUS', '', { cniVersion: '1.0.0' }, { CNI_CONTAINERID: undefined }), 1);
      });

      for (const key of ['cni.dev/valid-attachments', 'cni.dev/attachments'])
        it(`GC with ${key}: releases the attachments not listed, keeps the listed one`, async () => {
          for (const [id, ns] of [
            ['gc-keep', NS_A],
            ['gc-drop', NS_B],
          ] as const) {
            const a = await shimCall('ADD', id, {}, { CNI_NETNS: `/run/netns/${ns}` });
            assert.equal(a.code, 0, explain(a));
          }
          const gc = await runPlugin(
            { CNI_COMMAND: 'GC', CNI_PATH: BIN },
            JSON.stringify(conf({ [key]: [{ containerID: 'gc-keep', ifname: 'eth0' }] })),
          );
          assert.deepEqual([gc.code, gc.stdout], [0, ''], explain(gc));
          assert.equal((await ipJson<unknown[]>(NS_B, ['link', 'show', 'eth0']).catch(() => [])).length, 0, 'gc-drop lost eth0');
          assert.equal((await ipJson<unknown[]>(NS_A, ['link', 'show', 'eth0'])).length, 1, 'gc-keep kept eth0');
          assert.equal((await shimCall('DEL', 'gc-keep')).code, 0);
        });

      const bad: Array<[string, () => Promise<ShimOutcome>, number]> = [
        ['stdin is no JSON object', () => runPlugin(env('ADD', 'e1'), 'hello'), 6],
        ['stdin is JSON cut short', () => runPlugin(env('ADD', 'e1'), JSON.stringify(conf()).slice(0, 40)), 6],
        [
          'a malformed JSON object reaching the agent',
          () => runPlugin(env('ADD', 'e1'), `{"cniVersion":"1.1.0" "agentSocket":"${sock}"}`),
          6,
        ],
        ['unknown network', () => shimCall('ADD', 'e1', { network: 'nosuch' }), 7],
        ['unknown tenant', () => shimCall('ADD', 'e1', { tenant: 'nosuch' }), 7],
        ['CNI_NETNS a plain file', () => shimCall('ADD', 'e1', {}, { CNI_NETNS: `${DIR}/plain-file` }), 4],
        ['CNI_NETNS a directory', () => shimCall('ADD', 'e1', {}, { CNI_NETNS: DIR }), 4],
        ['CNI_NETNS missing', () => shimCall('ADD', 'e1', {}, { CNI_NETNS: '/run/netns/tcnc-none' }), 3],
        ['CNI_NETNS unset on ADD', () => shimCall('ADD', 'e1', {}, { CNI_NETNS: undefined }), 4],
        ['CNI_COMMAND unset', () => shimCall('ADD', 'e1', {}, { CNI_COMMAND: undefined }), 4],
        ['CNI_COMMAND unknown', () => shimCall('PUT', 'e1'), 4],
        ['CNI_CONTAINERID unset', () => shimCall('ADD', 'e1', {}, { CNI_CONTAINERID: undefined }), 4],
        ['CNI_IFNAME too long', () => shimCall('ADD', 'e1', {}, { CNI_IFNAME: 'a-very-long-ifname' }), 4],
        ['cniVersion 0.2.1 (none such)', () => shimCall('ADD', 'e1', { cniVersion: '0.2.1' }), 1],
        ['an ipam section', () => shimCall('ADD', 'e1', { ipam: { type: 'host-local' } }), 2],
        ['an unsupported capability', () => shimCall('ADD', 'e1', { runtimeConfig: { bandwidth: { ingressRate: 1 } } }), 2],
        ['CHECK without prevResult', () => shimCall('CHECK', 'e1'), 7],
        ['CHECK of an attachment never added', () => shimCall('CHECK', 'e1', { prevResult: { interfaces: [], ips: [] } }), 102],
        ['GC without a list of attachments', () => runPlugin({ CNI_COMMAND: 'GC' }, JSON.stringify(conf())), 7],
      ];
      for (const [what, call, code] of bad)
        it(`${what} -> ${code}`, async () => {
          assertCode(await call(), code);
        });
    });

  for (const bindir of [BIN, dirname(SHIM_COMPILED)])
    describe(`(b) through the real libcni (test/cni-driver), the plugin from ${bindir}`, () => {
      let driver: string;
      before(async function () {
        this.timeout(300_000);
        driver = await cniDriver();
      });
      const conflist = (cniVersion: string, extra: Record<string, unknown> = {}): string => {
        const path = join(DIR, `conflist-${cniVersion}.json`);
        const plugin = { type: 'netloom-cni', agentSocket: sock, tenant: TENANT, network: 'vx', ...extra };
        writeFileSync(path, JSON.stringify({ cniVersion, name: 'conf-vx', plugins: [plugin] }));
        return path;
      };
      const drive = async (op: string, cniVersion: string, id = '', ns = NS_A) => {
        const args = ['-op', op, '-conflist', conflist(cniVersion), '-bindir', bindir, '-cachedir', join(DIR, 'cache')];
        if (id) args.push('-id', id, '-netns', `/run/netns/${ns}`, '-ifname', 'eth0');
        const r = await run(driver, args, { allowFailure: true, timeoutMs: 90_000 });
        return { code: r.code, json: JSON.parse(r.stdout || '{}') as Record<string, unknown>, text: `${r.stdout}${r.stderr}` };
      };

      it('VERSION and validation: the plugin speaks every version libcni knows', async () => {
        const version = await drive('version', '1.0.0');
        assert.equal(version.code, 0, version.text);
        assert.deepEqual(version.json.supportedVersions, [...SUPPORTED_CNI_VERSIONS]);
        for (const v of ['0.3.1', '0.4.0', '1.0.0']) {
          const valid = await drive('validate', v);
          assert.equal(valid.code, 0, valid.text);
        }
      });

      for (const v of ['0.3.1', '0.4.0', '1.0.0'])
        it(`cniVersion ${v}: ADD${compareVersions(v, '0.4.0') >= 0 ? ', CHECK' : ''}, DEL (result from libcni's cache), ADD again`, async () => {
          const id = `lib-${v.replace(/\./g, '')}`;
          const add = await drive('add', v, id);
          assert.equal(add.code, 0, add.text);
          assert.equal(add.json.cniVersion, v);
          assert.match((add.json.ips as Ip[])[0]?.address ?? '', /^10\.83\.1\.\d+\/24$/);
          if (compareVersions(v, '0.4.0') >= 0) {
            const check = await drive('check', v, id);
            assert.equal(check.code, 0, check.text);
          }
          const dup = await drive('add', v, id);
          assert.deepEqual([dup.code, dup.json.code], [1, 100], dup.text);
          const del = await drive('del', v, id);
          assert.equal(del.code, 0, del.text);
          const again = await drive('add', v, id);
          assert.equal(again.code, 0, again.text);
          assert.equal((await drive('del', v, id)).code, 0);
        });

      it('CHECK through libcni fails (102) once the container lost its default route', async () => {
        const add = await drive('add', '1.0.0', 'lib-chk');
        assert.equal(add.code, 0, add.text);
        await run('ip', ['-n', NS_A, 'route', 'del', 'default']);
        const check = await drive('check', '1.0.0', 'lib-chk');
        assert.deepEqual([check.code, check.json.code], [1, 102], check.text);
        assert.equal((await drive('del', '1.0.0', 'lib-chk')).code, 0);
      });
    });
});
