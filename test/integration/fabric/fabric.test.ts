/**
 * The whole fabric in the lab, driven only through `bin/netloom-lab` and `bin/netctl`: 3 hosts,
 * each with its own OVS and netplugin, 2 netmaster replicas (agents dealt round-robin: host1 and
 * host3 follow netmaster1, host2 follows netmaster2). Containers made through the real CNI plugin
 * talk across hosts in a VLAN and a VXLAN network (ping + TCP); networks and tenants (the same
 * subnet in two tenants) stay apart; `rm` releases the endpoint in netmaster; forwarding survives
 * a netmaster outage and a change made meanwhile through the other replica arrives once the agents
 * reconnect; a netplugin restart loses no packet; a podman container and a Docker container on
 * different hosts share a netloom network; `down` leaves nothing.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { planLab } from '../../../deploy/lab/plan';
import type { LabStatus } from '../../../deploy/lab/lab';
import { markedProcesses, snapshot } from '../../support/leak-guard';
import { pingEventually, pingOk, tcpTransfer } from '../../support/traffic';
import { BIN, labCli, netctlCli, netloomNetworkCreate } from '../../support/lab-cli';

const LAB = 'tfab';
const lab = labCli(LAB);

describe('the fabric in the lab (netmaster + one netplugin per host, real CNI, podman and Docker)', function () {
  this.timeout(60_000);
  const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1, netmasters: 2 });
  const nm1 = plan.netmasters[0]!.url;
  const nm2 = plan.netmasters[1]!.url;
  const ns = (c: string) => `${plan.prefix}c-${c}`;
  const ips = new Map<string, string>();
  let baseline: ReturnType<typeof snapshot>;

  const netctl = (url: string, args: string[], allowFailure = false) => netctlCli(url)(args, allowFailure);
  async function runCtr(host: string, name: string, tenant: string, network: string, ip?: string): Promise<string> {
    const r = await lab(['run', host, name, '--tenant', tenant, '--network', network, ...(ip ? ['--ip', ip] : [])]);
    const [n, h, addr] = r.stdout.trim().split('\t');
    assert.equal(n, name);
    assert.equal(h, host);
    assert.match(addr ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    ips.set(name, addr ?? '');
    return addr ?? '';
  }
  const ip = (c: string) => ips.get(c) ?? assert.fail(`no address for ${c}`);
  /** ping -c count -i interval from a container; the number of replies */
  async function pingCount(from: string, to: string, count: number, intervalSec: number): Promise<{ sent: number; received: number }> {
    const r = await run('ping', ['-c', String(count), '-i', String(intervalSec), '-W', '1', '-q', to], {
      netns: ns(from),
      allowFailure: true,
      timeoutMs: 60_000,
    });
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
  }

  before(async function () {
    this.timeout(120_000);
    baseline = snapshot();
    await lab(['down'], true);
    await lab(['up', '--hosts', '3', '--etcd-members', '1', '--netmasters', '2']);
    await netctl(nm1, ['tenant', 'create', 'blue']);
    await netctl(nm1, ['net', 'create', '-t', 'blue', '-e', 'vlan', '-s', '10.71.1.0/24', '-g', '10.71.1.254', 'vl']);
    await netctl(nm1, ['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.71.2.0/24', '-g', '10.71.2.254', 'vx']);
    await netctl(nm1, ['tenant', 'create', 'red']);
    await netctl(nm1, ['net', 'create', '-t', 'red', '-e', 'vlan', '-s', '10.71.1.0/24', '-g', '10.71.1.254', 'vl']);
  });
  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it('up starts one ready netplugin per host, each following a netmaster replica', async () => {
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.equal(s.hosts.length, 3);
    for (const h of s.hosts) {
      assert.ok(h.agent, `${h.name} has an agent`);
      assert.ok(h.agent.pid !== null && h.agent.ready, `${h.name} agent ready`);
    }
    assert.deepEqual(
      s.hosts.map((h) => h.agent?.netmasterGrpc),
      [plan.netmasters[0]!.grpcListen, plan.netmasters[1]!.grpcListen, plan.netmasters[0]!.grpcListen],
    );
  });

  it('containers made through the real CNI talk across three hosts in a VLAN and a VXLAN network (ping + TCP)', async () => {
    for (const [i, host] of ['host1', 'host2', 'host3'].entries()) {
      await runCtr(host, `v${i + 1}`, 'blue', 'vl');
      await runCtr(host, `x${i + 1}`, 'blue', 'vx');
    }
    for (const c of ['v1', 'v2', 'v3']) assert.match(ip(c), /^10\.71\.1\./);
    for (const c of ['x1', 'x2', 'x3']) assert.match(ip(c), /^10\.71\.2\./);
    for (const [a, b] of [
      ['v1', 'v2'],
      ['v1', 'v3'],
      ['v3', 'v2'],
      ['x1', 'x2'],
      ['x1', 'x3'],
      ['x3', 'x2'],
    ] as const) {
      assert.ok(await pingEventually(ns(a), ip(b)), `${a} -> ${b} (${ip(b)}) ping`);
    }
    const vlanTcp = await tcpTransfer(ns('v1'), ns('v3'), ip('v3'));
    assert.ok(vlanTcp.ok, `VLAN TCP host1 -> host3: ${vlanTcp.error ?? ''}`);
    const vxTcp = await tcpTransfer(ns('x2'), ns('x1'), ip('x1'));
    assert.ok(vxTcp.ok, `VXLAN TCP host2 -> host1: ${vxTcp.error ?? ''}`);
  });

  it('keeps networks and tenants apart, also with the same subnet in two tenants', async () => {
    // r1 takes v2's address in red's copy of the subnet; r2 is its peer on another host, at an
    // address no blue container has (so a reply from a blue address can only come from blue)
    await runCtr('host1', 'r1', 'red', 'vl', ip('v2'));
    await runCtr('host3', 'r2', 'red', 'vl', '10.71.1.200');
    assert.ok(![ip('v1'), ip('v3')].includes(ip('r1')) && ![ip('v1'), ip('v2'), ip('v3')].includes(ip('r2')));
    assert.ok(await pingEventually(ns('r1'), ip('r2')), 'red reaches its own peer across hosts');
    assert.ok(await pingEventually(ns('r2'), ip('r1')), 'red peer answers at the shared address');
    assert.equal(await pingOk(ns('r1'), ip('v1'), 1), false, 'red reaches blue (v1)');
    assert.equal(await pingOk(ns('r2'), ip('v3'), 1), false, 'red reaches blue (v3, same host)');
    assert.ok(await pingOk(ns('v1'), ip('v2'), 1), 'blue still gets blue at the shared address');
    assert.equal(await pingOk(ns('v1'), ip('x2'), 1), false, 'VLAN network reaches the VXLAN network');
  });

  it('refuses what cannot work with a message naming it', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', 'host9', 'zz', '--tenant', 'blue', '--network', 'vl'], /no host "host9"/],
      [['run', 'host1', 'v1', '--tenant', 'blue', '--network', 'vl'], /already exists/],
      [['run', 'host1', 'zz', '--tenant', 'blue', '--network', 'nosuch'], /CNI ADD of zz on host1 failed/],
      [['rm', 'nosuch'], /no container "nosuch"/],
      [['detach', 'v1'], /made by run/],
      [['restart', 'host1', 'nosuch'], /ovs, netplugin, dockerd, containerd or kubelet/],
    ];
    for (const [args, re] of cases) {
      const r = await lab(args, true);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.equal(
      s.containers.some((c) => c.name === 'zz'),
      false,
      'a failed run leaves no container behind',
    );
    assert.ok(!existsSync(`/run/netns/${ns('zz')}`));
  });

  it('rm runs CNI DEL: netmaster releases the endpoint and the namespace goes', async () => {
    const before = (await netctl(nm1, ['endpoint', 'ls'])).stdout;
    assert.match(before, new RegExp(`lab-${LAB}-v3\\b`));
    await lab(['rm', 'v3']);
    const after = (await netctl(nm2, ['endpoint', 'ls'])).stdout;
    assert.doesNotMatch(after, new RegExp(`lab-${LAB}-v3\\b`));
    assert.ok(!existsSync(`/run/netns/${ns('v3')}`));
    assert.equal(await pingOk(ns('v1'), ip('v3'), 1), false, 'v3 is gone');
  });

  it('forwarding continues while netmaster1 is down; a container made meanwhile through netmaster2 is reachable once the agents reconnect', async () => {
    const loop = pingCount('x1', ip('x3'), 40, 0.1); // host1 -> host3, both follow netmaster1
    await new Promise((r) => setTimeout(r, 300));
    await lab(['stop', 'netmaster', 'netmaster1']);
    const down = await run('curl', ['-sk', '-m', '1', `${nm1}/healthz`], { allowFailure: true }); // -k: any answer counts
    assert.notEqual(down.code, 0, 'netmaster1 is down');
    // host2 follows netmaster2: the change goes through it
    await runCtr('host2', 'x4', 'blue', 'vx');
    await new Promise((r) => setTimeout(r, 1000));
    await lab(['start', 'netmaster', 'netmaster1']);
    const p = await loop;
    assert.equal(p.received, p.sent, `no loss during the outage: ${p.received}/${p.sent}`);
    // host1's agent reconnects and learns x4 (VXLAN: it needs x4's VTEP and MAC)
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) reached = await pingOk(ns('x1'), ip('x4'), 1);
    assert.ok(reached, 'x1 (host1) reaches x4 (made on host2 during the outage)');
  });

  it('restart HOST netplugin during a ping loses no packet', async () => {
    const loop = pingCount('x1', ip('x2'), 60, 0.05); // 3 s: longer than the restart
    await new Promise((r) => setTimeout(r, 200));
    await lab(['restart', 'host2', 'netplugin']);
    const p = await loop;
    assert.equal(p.received, p.sent, `${p.received}/${p.sent}`);
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.ok(s.hosts.find((h) => h.name === 'host2')?.agent?.ready);
  });

  it('a podman container (host1) and a Docker container (host2) in one netloom network talk (ping + TCP)', async function () {
    this.timeout(120_000);
    const pod = await lab([
      'podman',
      'host1',
      '--',
      'run',
      '-d',
      '--name',
      'pm1',
      '--cap-add',
      'NET_RAW',
      '--network',
      'blue/vx',
      'netloom/busybox',
      'sleep',
      '300',
    ]);
    assert.match(pod.stdout, /[0-9a-f]{12}/);
    // host2 already has blue/vx in its desired state (x2), which the CNM pool lookup needs
    const blueVx = { tenant: 'blue', network: 'vx' };
    await lab(['docker', 'host2', '--', ...netloomNetworkCreate('nlvx', { opts: blueVx, ipam: blueVx, subnet: '10.71.2.0/24' })]);
    await lab(['docker', 'host2', '--', 'run', '-d', '--name', 'dk2', '--network', 'nlvx', 'netloom/busybox', 'sleep', '300']);
    const podIp = /inet (10\.71\.2\.\d+)\//.exec(
      (await lab(['podman', 'host1', '--', 'exec', 'pm1', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout,
    )?.[1];
    const dkIp = /inet (10\.71\.2\.\d+)\//.exec(
      (await lab(['docker', 'host2', '--', 'exec', 'dk2', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout,
    )?.[1];
    assert.ok(podIp && dkIp, `addresses: podman ${podIp ?? '?'}, docker ${dkIp ?? '?'}`);
    const st = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.ok(st.hosts.find((h) => h.name === 'host2')?.agent?.dockerd, 'status shows host2 dockerd');
    assert.equal(st.hosts.find((h) => h.name === 'host1')?.agent?.dockerd, null);
    const eps = (await netctl(nm2, ['endpoint', 'ls'])).stdout;
    assert.ok(eps.includes(podIp) && eps.includes(dkIp), 'netmaster knows both endpoints');
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++)
      ok = (await lab(['podman', 'host1', '--', 'exec', 'pm1', 'ping', '-c', '1', '-W', '1', dkIp], true)).code === 0;
    assert.ok(ok, 'podman -> docker ping');
    assert.equal(
      (await lab(['docker', 'host2', '--', 'exec', 'dk2', 'ping', '-c', '2', '-W', '2', podIp], true)).code,
      0,
      'docker -> podman ping',
    );
    // TCP: a listener in the Docker container, a client in the podman container
    const server = spawn(
      `${BIN}/netloom-lab`,
      // each `lab podman exec` below starts the lab CLI: seconds on a busy machine, so the listener waits long enough
      ['--lab', LAB, 'docker', 'host2', '--', 'exec', 'dk2', 'timeout', '40', 'nc', '-l', '-p', '5000'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let got = '';
    server.stdout.on('data', (b: Buffer) => (got += b.toString()));
    const done = new Promise<void>((r) => server.once('exit', () => r()));
    const payload = `netloom-${Date.now()}`;
    for (let i = 0; i < 20 && !got.includes(payload); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await lab(['podman', 'host1', '--', 'exec', 'pm1', 'sh', '-c', `echo ${payload} | nc -w 2 ${dkIp} 5000`], true);
    }
    await done;
    assert.ok(got.includes(payload), `the Docker container received the podman container's TCP bytes (got "${got.trim()}")`);
  });

  it('run in parallel (a shell loop with &) records every container', async () => {
    const names = ['p1', 'p2', 'p3', 'p4'];
    const rs = await Promise.all(names.map((n, i) => lab(['run', `host${(i % 3) + 1}`, n, '--tenant', 'blue', '--network', 'vx'])));
    const got = new Set(rs.map((r) => r.stdout.split('\t')[2]?.trim()));
    assert.equal(got.size, 4, 'four distinct addresses');
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    for (const n of names)
      assert.ok(
        s.containers.some((c) => c.name === n && c.ip !== ''),
        `${n} in the state file`,
      );
    await Promise.all(names.map((n) => lab(['rm', n])));
    const after = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.equal(after.containers.filter((c) => names.includes(c.name)).length, 0);
  });

  it('down leaves no namespace, link, process, mount or cgroup of the lab', async function () {
    this.timeout(120_000);
    await lab(['down'], false, 120_000);
    const now = snapshot();
    const ours = (n: string) => n.startsWith(`${LAB}-`) || n === plan.rootVeth;
    assert.deepEqual(
      [...now.netns].filter((n) => !baseline.netns.has(n) && ours(n)),
      [],
    );
    assert.deepEqual(
      [...now.links].filter((l) => !baseline.links.has(l) && ours(l)),
      [],
    );
    const procs = markedProcesses(process.env.NETLOOM_TEST_RUN ?? '-').filter(
      (p) => p.cmdline.includes(LAB) || /netplugin|dockerd|containerd|conmon/.test(p.cmdline),
    );
    assert.deepEqual(procs, []);
    assert.equal(readFileSync('/proc/mounts', 'utf8').includes(plan.dir), false, 'no mount under the lab dir');
    assert.ok(!existsSync(plan.dir));
    const cg = existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup').filter((d) => d.startsWith(`nl-lab-${LAB}-`)) : [];
    assert.deepEqual(cg, []);
  });
});
