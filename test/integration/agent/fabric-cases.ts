/**
 * The cases both fabric tests run (VLAN and VXLAN): plug six containers on two hosts through the
 * CNI shim, then check reachability and isolation with real traffic.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import type { Encap } from '../../../netplugin/state/host-state';
import { tcpTransfer } from '../../support/traffic';
import { ctr, scenario } from './scenario';
import { AgentLab, pingOnce } from './support';

/** `agentExtra`: more agent options (the one-bridge runs: `--one-bridge`) */
export function defineFabricTests(suite: Mocha.Suite, encap: Encap, opts: { agentExtra?: string[] } = {}): void {
  suite.timeout(60_000);
  const lab = new AgentLab();
  const sc = scenario(encap);
  const ns = (name: string) => lab.ns(ctr(sc, name));
  const results = new Map<string, Record<string, unknown>>();

  before(async function () {
    this.timeout(60_000);
    await lab.up(2);
    lab.writeFabric(sc);
    const t0 = Date.now();
    await Promise.all([lab.startAgent('host1', opts.agentExtra), lab.startAgent('host2', opts.agentExtra)]);
    const startMs = Date.now() - t0;
    const addMs: number[] = [];
    for (const c of sc.containers) {
      const t = Date.now();
      results.set(c.name, await lab.plug(c));
      addMs.push(Date.now() - t);
    }
    addMs.sort((a, b) => a - b);
    console.log(
      `      ${encap}: agents up in ${startMs} ms; netns + CNI ADD through the shim: p50 ${addMs[addMs.length >> 1]} ms, max ${addMs[addMs.length - 1]} ms (${addMs.length})`,
    );
  });
  after(async function () {
    this.timeout(60_000);
    await lab.teardown();
  });

  it('the CNI result carries the interface, address, gateway, route and MTU, and CHECK agrees', async () => {
    const mtu = encap === 'vxlan' ? 1450 : 1500;
    const res = results.get('a1') as {
      interfaces: Array<{ name: string; mac?: string; mtu?: number; sandbox?: string }>;
      ips: unknown[];
      routes: unknown[];
    };
    assert.deepEqual(res.interfaces[1], { name: 'eth0', mac: '02:00:00:00:01:01', mtu, sandbox: `/run/netns/${ns('a1')}` });
    assert.deepEqual(res.ips, [{ address: '10.50.1.1/24', gateway: '10.50.1.254', interface: 1 }]);
    assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0', gw: '10.50.1.254' }]);
    const r = await lab.cni('CHECK', ctr(sc, 'a1'), {
      prevResult: {
        cniVersion: '1.1.0',
        interfaces: [{ name: 'eth0', sandbox: `/run/netns/${ns('a1')}` }],
        ips: [{ address: '10.50.1.1/24', interface: 0 }],
      },
    });
    assert.equal(r.code, 0, r.stdout);
    const link = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', 'eth0'], { netns: ns('a1') })).stdout) as Array<{
      mtu: number;
      address: string;
    }>;
    assert.equal(link[0]?.mtu, mtu);
    assert.equal(link[0]?.address, '02:00:00:00:01:01');
    const addr = JSON.parse((await run('ip', ['-4', '-j', 'addr', 'show', 'dev', 'eth0'], { netns: ns('a1') })).stdout) as Array<{
      addr_info: Array<{ local: string; prefixlen: number }>;
    }>;
    assert.deepEqual(
      addr[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
      ['10.50.1.1/24'],
    );
    const route = (await run('ip', ['route', 'show', 'default'], { netns: ns('a1') })).stdout;
    assert.match(route, /default via 10\.50\.1\.254 dev eth0/);
  });

  it('same-network containers on different hosts reach each other (ping and TCP)', async () => {
    assert.ok(await pingOnce(ns('a1'), '10.50.1.2', 2), 't1: a1 -> b2');
    assert.ok(await pingOnce(ns('b2'), '10.50.1.1', 2), 't1: b2 -> a1');
    const tcp = await tcpTransfer(ns('a1'), ns('b2'), '10.50.1.2', { seconds: 1, port: 5301 });
    assert.ok(tcp.ok, `TCP a1 -> b2: ${tcp.error ?? ''}`);
  });

  it('userspace TSO (the lab starts OVS with it): VLAN containers keep tx checksum offload, VXLAN ones have it off', async () => {
    const br = await run('ip', ['-d', 'link', 'show', 'dev', 'br-int'], { netns: lab.host('host1').netns });
    assert.match(br.stdout, /vnet_hdr on/, 'ovs-vswitchd opened br-int with a virtio-net header');
    const k = await run('ethtool', ['-k', 'eth0'], { netns: ns('a1') });
    // OVS 3.1 drops offloaded segments at a tunnel port: VXLAN keeps the workaround
    assert.match(k.stdout, new RegExp(`^tx-checksumming: ${encap === 'vlan' ? 'on' : 'off'}`, 'm'), k.stdout);
  });

  it('a second tenant with the same subnet and addresses works side by side', async () => {
    assert.ok(await pingOnce(ns('x1'), '10.50.1.2', 2), 't2: x1 -> y2');
    const tcp = await tcpTransfer(ns('x1'), ns('y2'), '10.50.1.2', { seconds: 1, port: 5302 });
    assert.ok(tcp.ok, `TCP x1 -> y2: ${tcp.error ?? ''}`);
    // x1 (t2) reaching 10.50.1.2 got y2, not t1's b2: y2 saw the traffic on its own MAC
    const neigh = (await run('ip', ['neigh', 'show', '10.50.1.2'], { netns: ns('x1') })).stdout;
    assert.match(neigh, /02:00:00:00:03:02/);
  });

  it('other networks and other tenants are not reachable', async () => {
    const [otherNet, otherTenant, fromT2] = await Promise.all([
      pingOnce(ns('a1'), '10.50.2.2', 1), // t1 blue -> t1 red (bridge mode: no routing)
      pingOnce(ns('a1'), '10.50.1.3', 1), // t1 -> t2's z2 (its address is not in t1)
      pingOnce(ns('z2'), '10.50.2.2', 1), // t2 -> t1 red
    ]);
    assert.equal(otherNet, false, 'a1 reached another network');
    assert.equal(otherTenant, false, 'a1 reached another tenant');
    assert.equal(fromT2, false, 'z2 reached another tenant');
    // and the positive path still works right after (the failures are isolation, not breakage)
    assert.ok(await pingOnce(ns('a1'), '10.50.1.2', 2));
  });

  it('ADD again is the duplicate-attachment error (100); STATUS is ready; GC releases what is not listed; DEL is idempotent', async () => {
    const again = await lab.cni('ADD', ctr(sc, 'a1'));
    assert.equal(again.code, 1, again.stdout);
    assert.equal(again.json?.code, 100, again.stdout);
    assert.ok(await pingOnce(ns('a1'), '10.50.1.2', 2), 'the refused ADD left a1 as it was');
    const status = await lab.cni('STATUS', ctr(sc, 'a1'));
    assert.equal(status.code, 0, status.stdout);
    assert.ok(await pingOnce(ns('a1'), '10.50.1.9', 2), 'g1 is plugged before GC');
    const keep = sc.containers
      .filter((c) => c.host === 'host1' && c.name !== 'g1')
      .map((c) => ({ containerID: `ctr-${c.name}`, ifname: 'eth0' }));
    const gc = await lab.cni('GC', ctr(sc, 'a1'), { 'cni.dev/valid-attachments': keep });
    assert.equal(gc.code, 0, gc.stdout);
    const links = (await run('ip', ['-o', 'link', 'show'], { netns: ns('g1') })).stdout;
    assert.ok(!links.includes('eth0'), 'g1 lost its interface');
    assert.equal(await pingOnce(ns('a1'), '10.50.1.9', 1), false, 'g1 unreachable after GC');
    assert.ok(await pingOnce(ns('a1'), '10.50.1.2', 2), 'a1 kept');
    for (let i = 0; i < 2; i++) {
      const del = await lab.cni('DEL', ctr(sc, 'g1'));
      assert.equal(del.code, 0, del.stdout);
    }
  });

  it("a port removed and re-added behind the agent's back (OVSDB monitor) loses and regains its flows", async () => {
    const h = lab.host('host1');
    const opts = { netns: h.netns, env: { ...process.env, OVS_RUNDIR: `${h.ovsDir}/run` } };
    // the host end is named after the CNI attachment; OVSDB knows it by endpoint id
    const port = (
      await run('ovs-vsctl', ['--bare', '--columns=name', 'find', 'Interface', 'external_ids:iface-id=ep-a1'], opts)
    ).stdout.trim();
    assert.match(port, /^nl[0-9a-f]{11}$/);
    const ofport = (await run('ovs-vsctl', ['get', 'Interface', port, 'ofport'], opts)).stdout.trim();
    const before = await lab.metric('host1', 'netplugin_flows_installed');
    await run('ovs-vsctl', ['del-port', 'br-int', port], opts);
    await waitFor(
      'flows of the removed port gone',
      async () => !(await lab.ofctl('host1', ['dump-flows', 'br-int'])).includes(`in_port=${ofport},`) || undefined,
      { timeoutMs: 3000, intervalMs: 50 },
    );
    assert.ok((await lab.metric('host1', 'netplugin_flows_installed')) < before);
    assert.equal(await pingOnce(ns('a1'), '10.50.1.2', 1), false);
    await run('ovs-vsctl', ['add-port', 'br-int', port], opts);
    await waitFor('ping after the port is back', () => pingOnce(ns('a1'), '10.50.1.2', 1), { timeoutMs: 5000, intervalMs: 50 });
    assert.equal(await lab.metric('host1', 'netplugin_flows_installed'), before);
  });

  it('the flows on br-int are exactly the ones the agent installed', async () => {
    for (const host of ['host1', 'host2']) {
      const dump = await lab.ofctl(host, ['dump-flows', 'br-int']);
      const n = dump.split('\n').filter((l) => l.includes('cookie=')).length;
      assert.equal(n, await lab.metric(host, 'netplugin_flows_installed'), host);
      assert.ok(n > 20, `${host} has ${n} flows`);
      for (const peer of ['ovsdb', 'openflow', 'netmaster'])
        assert.equal(await lab.metric(host, `netplugin_connected{peer="${peer}"}`), 1, `${host} ${peer}`);
      assert.equal(await lab.metric(host, 'netplugin_endpoints'), sc.containers.filter((c) => c.host === host && c.name !== 'g1').length);
      const runs = await lab.metric(host, 'netplugin_reconcile_duration_seconds_count');
      const sum = await lab.metric(host, 'netplugin_reconcile_duration_seconds_sum');
      console.log(`      ${host}: ${n} flows; ${runs} reconciles, mean ${((sum / runs) * 1000).toFixed(1)} ms`);
    }
  });
}
