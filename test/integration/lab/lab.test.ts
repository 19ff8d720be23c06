/**
 * The lab on real components: namespaces, one OVS per host, the underlay (including 802.1Q-tagged
 * frames between hosts), a 3-member etcd cluster, containers exchanging TCP, and a `down` that
 * leaves the machine as it was, also after `up` was killed half-way.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { planLab } from '../../../deploy/lab/plan';
import { etcdClientTls, pkiPaths } from '../../../deploy/lab/pki';
import type { LabStatus } from '../../../deploy/lab/lab';
import type { LabState } from '../../../deploy/lab/state';
import { startCapture } from '../../support/capture';
import { markedProcesses, snapshot } from '../../support/leak-guard';
import { pingEventually, pingOk, tcpTransfer } from '../../support/traffic';

const LAB_BIN = resolve(__dirname, '../../../../bin/netloom-lab');
const LAB = 'tlab';

function lab(args: string[], allowFailure = false) {
  return run(LAB_BIN, ['--lab', LAB, ...args], { allowFailure, timeoutMs: 90_000 });
}

/**
 * What this lab left behind: namespaces and root links that did not exist before and carry this
 * lab's names (other suites may run labs of their own meanwhile), and processes of this run.
 */
function leftovers(before: ReturnType<typeof snapshot>): string[] {
  const now = snapshot();
  const ours = (n: string) => n.startsWith(`${LAB}-`) || n === planLab({ name: LAB, hosts: 1, etcdMembers: 1 }).rootVeth;
  const out = [...now.netns].filter((n) => !before.netns.has(n) && ours(n)).map((n) => `netns ${n}`);
  out.push(...[...now.links].filter((l) => !before.links.has(l) && ours(l)).map((l) => `link ${l}`));
  out.push(...markedProcesses(process.env.NETLOOM_TEST_RUN ?? '').map((p) => `process ${p.pid} ${p.cmdline.slice(0, 60)}`));
  return out;
}

describe('netloom-lab', function () {
  const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 3, netmasters: 2 });
  let baseline: ReturnType<typeof snapshot>;

  before(() => {
    baseline = snapshot();
  });
  after(async () => {
    await lab(['down'], true);
  });

  describe('up --hosts 3 --etcd-members 3', function () {
    before(async () => {
      await lab(['up', '--hosts', '3', '--etcd-members', '3', '--netmasters', '2', '--no-agents']);
    });

    it('reports every host and etcd member healthy in status -o json', async () => {
      const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
      assert.equal(s.hosts.length, 3);
      for (const h of s.hosts) {
        assert.ok(h.healthy, `${h.name} healthy`);
        assert.ok(h.pids.ovsVswitchd && h.pids.ovsdbServer, `${h.name} has daemon PIDs`);
        assert.ok(existsSync(`${h.ovsRunDir}/db.sock`), `${h.name} OVS run dir is private`);
      }
      assert.equal(s.etcd.members.length, 3);
      assert.ok(s.etcd.members.every((m) => m.healthy && m.pid !== null));
      assert.equal(s.netmasters.length, 2);
      assert.ok(s.netmasters.every((m) => m.healthy && m.pid !== null));
    });

    it('serves the intent API from every netmaster replica, reachable from the hosts, and writes the URL file netctl reads', async () => {
      assert.equal(readFileSync(plan.netmasterUrlFile, 'utf8').trim(), plan.netmasters[0]?.url);
      const netctl = resolve(__dirname, '../../../../bin/netctl');
      await run(netctl, ['--netmaster', plan.netmasters[0]?.url ?? '', 'tenant', 'create', 'labt']);
      const ls = await run(netctl, ['--netmaster', plan.netmasters[1]?.url ?? '', 'tenant', 'ls', '-q']);
      assert.match(ls.stdout, /^labt$/m, 'the second replica sees what the first wrote');
      // with the lab's admin certificate (credentials: docs/security.md)
      const p = pkiPaths(plan);
      const tls = ['--cacert', p.ca.cert, '--cert', p.admin.cert, '--key', p.admin.key];
      const fromHost = await run('curl', ['-sf', ...tls, `${plan.netmasters[1]?.url ?? ''}/api/v1/tenants/labt/`], {
        netns: plan.hosts[2]?.netns,
      });
      assert.equal((JSON.parse(fromHost.stdout) as { tenantName: string }).tenantName, 'labt');
    });

    it("answers from every host's own OVS, each with its own database", async () => {
      const ids = new Set<string>();
      for (const h of plan.hosts) {
        const r = await lab(['exec', h.name, '--', 'ovs-vsctl', '--timeout=5', 'get', 'Open_vSwitch', '.', 'external_ids:system-id']);
        ids.add(r.stdout.trim());
        const v = await lab([
          'exec',
          h.name,
          '--',
          'ovs-appctl',
          '-t',
          `${h.ovsDir}/run/ovs-vswitchd.${readFileSync(`${h.ovsDir}/run/ovs-vswitchd.pid`, 'utf8').trim()}.ctl`,
          'version',
        ]);
        assert.match(v.stdout, /ovs-vswitchd \(Open vSwitch\) 3\./);
      }
      assert.equal(ids.size, 3, 'three distinct OVS instances');
    });

    it('lets hosts ping each other and the root namespace over the underlay', async () => {
      for (const a of plan.hosts) {
        for (const b of plan.hosts) if (a !== b) assert.ok(await pingOk(a.netns, b.mgmtIp, 1), `${a.name} -> ${b.name}`);
        assert.ok(await pingOk(a.netns, plan.rootMgmtIp, 1), `${a.name} -> root`);
      }
    });

    it('serves a 3-member etcd cluster healthy from inside a host', async () => {
      const env = { ...process.env, ETCDCTL_API: '3' };
      const t = etcdClientTls(plan);
      // etcd speaks TLS and wants a client certificate of its CA (the lab tools' own)
      const eps = [plan.etcd.map((m) => m.clientUrl).join(','), '--cacert', t.ca, '--cert', t.cert, '--key', t.key];
      const list = await run('etcdctl', ['--endpoints', ...eps, 'member', 'list', '-w', 'json'], { netns: plan.hosts[0]?.netns, env });
      assert.equal((JSON.parse(list.stdout) as { members: unknown[] }).members.length, 3);
      const health = await run('etcdctl', ['--endpoints', ...eps, 'endpoint', 'health'], { netns: plan.hosts[1]?.netns, env });
      assert.equal((health.stdout + health.stderr).match(/is healthy/g)?.length, 3);
      await run('etcdctl', ['--endpoints', ...eps, 'put', '/lab-test', 'v'], { netns: plan.hosts[2]?.netns, env });
      const got = await run('etcdctl', ['--endpoints', ...eps, 'get', '--print-value-only', '/lab-test'], { env });
      assert.equal(got.stdout.trim(), 'v');
    });

    it("exchanges TCP between two containers attached to one host's OVS", async () => {
      await lab(['attach', 'host1', 'ca', '--ip', '10.50.0.1/24']);
      await lab(['attach', 'host1', 'cb', '--ip', '10.50.0.2/24']);
      assert.ok(await pingEventually(`${plan.prefix}c-ca`, '10.50.0.2'));
      const tcp = await tcpTransfer(`${plan.prefix}c-ca`, `${plan.prefix}c-cb`, '10.50.0.2');
      assert.ok(tcp.ok, `TCP transfer failed: ${tcp.error ?? ''}`);
      assert.ok(tcp.bytes > 100_000, `only ${tcp.bytes} bytes crossed`);
    });

    it('carries 802.1Q-tagged frames between hosts over the underlay, keeping VLANs apart', async () => {
      const vsctl = (h: string, args: string[]) => lab(['exec', h, '--', 'ovs-vsctl', '--timeout=5', '--may-exist', ...args]);
      for (const h of ['host1', 'host2']) {
        await vsctl(h, ['add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev']);
        await vsctl(h, ['add-port', 'br-int', 'eth1', '--', 'set', 'port', 'eth1', 'trunks=100,200']);
      }
      await lab(['attach', 'host1', 'v1', '--ip', '10.60.0.1/24', '--vlan', '100']);
      await lab(['attach', 'host2', 'v2', '--ip', '10.60.0.2/24', '--vlan', '100']);
      await lab(['attach', 'host2', 'v3', '--ip', '10.60.0.3/24', '--vlan', '200']);
      const capture = await startCapture(plan.underlayNetns, ['-e', '-n', '-c', '1', '-i', 'br-data', 'vlan 100 and icmp'], {
        maxSeconds: 20,
      });
      assert.ok(await pingEventually(`${plan.prefix}c-v1`, '10.60.0.2'), 'same VLAN across hosts');
      const seen = await capture.output;
      assert.match(seen, /vlan 100/, 'the underlay saw the frame tagged with VLAN 100');
      assert.equal(await pingOk(`${plan.prefix}c-v1`, '10.60.0.3', 2), false, 'VLAN 200 is not reachable from VLAN 100');
      const tcp = await tcpTransfer(`${plan.prefix}c-v1`, `${plan.prefix}c-v2`, '10.60.0.2');
      assert.ok(tcp.ok, `TCP across hosts: ${tcp.error ?? ''}`);
    });

    it('passes the exit code of exec through and names unknown targets', async () => {
      assert.equal((await lab(['exec', 'host1', '--', 'sh', '-c', 'exit 7'], true)).code, 7);
      const r = await lab(['exec', 'nosuch', '--', 'true'], true);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /no host or container "nosuch"/);
    });

    it('a lab made with --no-agents runs no netplugin, and run, restart HOST netplugin and docker say why they cannot work', async () => {
      const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
      assert.ok(s.hosts.every((h) => h.agent === undefined));
      for (const args of [
        ['run', 'host1', 'c1', '--tenant', 't', '--network', 'n'],
        ['restart', 'host1', 'netplugin'],
        ['docker', 'host1', '--', 'ps'],
      ]) {
        const r = await lab(args, true);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, /no agents/, args.join(' '));
      }
    });

    it("restarts one host's ovs-vswitchd and a netmaster replica by name, keeping the rest", async () => {
      const before = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
      await lab(['restart', 'host2', 'ovs']);
      await lab(['restart', 'netmaster', 'netmaster2']);
      const after = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
      const pid = (s: LabStatus, h: string) => s.hosts.find((x) => x.name === h)?.pids.ovsVswitchd;
      assert.notEqual(pid(after, 'host2'), pid(before, 'host2'), 'host2 has a new ovs-vswitchd');
      assert.equal(pid(after, 'host1'), pid(before, 'host1'), 'host1 is untouched');
      assert.ok(after.hosts.every((h) => h.healthy));
      assert.notEqual(after.netmasters[1]?.pid, before.netmasters[1]?.pid);
      assert.equal(after.netmasters[0]?.pid, before.netmasters[0]?.pid);
      assert.ok(after.netmasters.every((n) => n.healthy));
      const bad = await lab(['restart', 'host2', 'bogus'], true);
      assert.match(bad.stderr, /needs what to restart: ovs/);
    });

    it('keeps a healthy lab when up runs again', async () => {
      const pidsBefore = (JSON.parse(readFileSync(plan.stateFile, 'utf8')) as LabState).pids.map((p) => p.pid);
      const r = await lab(['up', '--hosts', '3', '--etcd-members', '3', '--netmasters', '2', '--no-agents']);
      assert.match(r.stderr, /already up/);
      const pidsAfter = (JSON.parse(readFileSync(plan.stateFile, 'utf8')) as LabState).pids.map((p) => p.pid);
      assert.deepEqual(pidsAfter, pidsBefore);
    });

    it('down leaves namespaces, links and processes as they were', async () => {
      await lab(['down']);
      assert.deepEqual(leftovers(baseline), []);
      assert.equal(existsSync(plan.stateFile), false);
    });
  });

  it('down cleans up after up was killed half-way', async () => {
    const child = spawn(LAB_BIN, ['--lab', LAB, 'up', '--hosts', '3', '--etcd-members', '1'], { stdio: 'ignore' });
    // kill it once it has recorded a host namespace, before it could finish
    await waitFor(
      'up to create host namespaces',
      () => existsSync(plan.stateFile) && (JSON.parse(readFileSync(plan.stateFile, 'utf8')) as LabState).netns.length >= 3,
      { timeoutMs: 20_000, intervalMs: 5 },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const state = JSON.parse(readFileSync(plan.stateFile, 'utf8')) as LabState;
    assert.equal(state.complete, false, 'the killed up did not finish');
    await lab(['down']);
    assert.deepEqual(leftovers(baseline), []);
  });

  it('refuses bad arguments with a message naming them', async () => {
    const r = await run(LAB_BIN, ['--lab', 'Bad_Name', 'up'], { allowFailure: true });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /lab name "Bad_Name"/);
    const h = await lab(['up', '--hosts', '0'], true);
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /--hosts must be an integer from 1 to 50/);
    const a = await lab(['up', '--apic-url', 'http://127.0.0.1:9'], true);
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /--apic-url and --apic-password-file go together/);
    const s = await lab(['status'], true);
    assert.match(s.stderr, /no lab "tlab" is up/);
  });
});
