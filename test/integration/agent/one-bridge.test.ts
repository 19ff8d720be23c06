/**
 * netplugin --one-bridge on the lab's real OVS (issue 17): the uplink eth1 and the VTEP address on
 * br-int itself, no br-phy. The fabric cases (reachability, isolation, TSO, flows) in VLAN and
 * VXLAN mode with real traffic; then a host made with two bridges converted to one by an agent
 * restart (traffic back within seconds: the uplink's port moves), a restart in one-bridge mode
 * that loses no ping and changes nothing in OVSDB, an ovs-vswitchd restart (ping back within 2 s),
 * and the way back to two bridges.
 */
import { strict as assert } from 'node:assert';
import { restartVswitchd, startOvs } from '../../../deploy/lab/ovs-instance';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { UPLINK_OFPORT } from '../../../netplugin/agent/bridge-setup';
import { defineFabricTests } from './fabric-cases';
import { ctr, scenario } from './scenario';
import { AgentLab, msUntilPing, pingOnce } from './support';

const ONE_BRIDGE = ['--one-bridge'];

describe('netplugin agents on the lab, one bridge, VLAN networks', function () {
  defineFabricTests(this, 'vlan', { agentExtra: ONE_BRIDGE });
});

describe('netplugin agents on the lab, one bridge, VXLAN networks', function () {
  defineFabricTests(this, 'vxlan', { agentExtra: ONE_BRIDGE });
});

describe('netplugin one bridge: conversion from two bridges, restart, and back', function () {
  this.timeout(60_000);
  const lab = new AgentLab();
  const full = scenario('vxlan');
  const sc = { ...full, containers: full.containers.filter((c) => c.name === 'a1' || c.name === 'b2') };
  const a1 = ctr(sc, 'a1');
  const b2 = ctr(sc, 'b2');
  /** each host's VTEP MAC with two bridges, before the conversion */
  let macs: string[] = [];

  const vsctl = async (host: string, args: string[]): Promise<string> => {
    const h = lab.host(host);
    return (await run('ovs-vsctl', args, { netns: h.netns, env: { ...process.env, OVS_RUNDIR: `${h.ovsDir}/run` } })).stdout.trim();
  };
  /** Which bridges exist, where eth1 is (and its ofport), and which device holds the VTEP address. */
  async function layout(host: string): Promise<{ bridges: string; eth1: string; ofport: string; vtepOn: string }> {
    const h = lab.host(host);
    const addr = await run('ip', ['-o', '-4', 'addr', 'show', 'to', `${h.dataIp}/32`], { netns: h.netns });
    return {
      bridges: (await vsctl(host, ['list-br'])).split('\n').join(','),
      eth1: await vsctl(host, ['port-to-br', 'eth1']),
      ofport: await vsctl(host, ['get', 'Interface', 'eth1', 'ofport']),
      vtepOn: addr.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[1])
        .join(','),
    };
  }
  /** The MAC of the device that holds host's VTEP address (what peers' tunnel neighbour caches hold). */
  async function vtepMac(host: string): Promise<string> {
    const dev = (await layout(host)).vtepOn;
    return (await run('cat', [`/sys/class/net/${dev}/address`], { netns: lab.host(host).netns })).stdout.trim();
  }
  async function restartBoth(extra: string[]): Promise<void> {
    for (const host of ['host1', 'host2']) {
      await lab.stopAgent(host);
      await lab.startAgent(host, extra);
    }
  }
  async function pingLoss(during: () => Promise<void>): Promise<{ sent: number; received: number; out: string }> {
    const ping = run('ping', ['-i', '0.1', '-c', '60', '-q', b2.ip], { netns: lab.ns(a1), allowFailure: true, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    await during();
    const r = await ping;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return { sent: Number(m[1]), received: Number(m[2]), out: r.stdout };
  }
  /** Every bridge, port and interface row with its uuid and settings (read only). */
  async function ovsdbRows(host: string): Promise<string> {
    const parts = await Promise.all([
      vsctl(host, ['--columns=_uuid,name,datapath_type,fail_mode,protocols,ports', 'list', 'Bridge']),
      vsctl(host, ['--columns=_uuid,name,tag,trunks,interfaces', 'list', 'Port']),
      vsctl(host, ['--columns=_uuid,name,type,options,ofport', 'list', 'Interface']),
    ]);
    return parts.join('\n');
  }

  before(async function () {
    await lab.up(2);
    lab.writeFabric(sc);
    await Promise.all([lab.startAgent('host1'), lab.startAgent('host2')]);
    await lab.plug(a1);
    await lab.plug(b2);
    await waitFor('a1 -> b2 with two bridges', () => pingOnce(lab.ns(a1), b2.ip, 1), { timeoutMs: 10_000, intervalMs: 100 });
  });
  after(async function () {
    await lab.teardown();
  });

  it('an agent started with --one-bridge converts a two-bridge host: eth1 on br-int as port 4001, the VTEP address on br-int, br-phy gone', async () => {
    const before = await layout('host1');
    macs = await Promise.all(['host1', 'host2'].map(vtepMac));
    assert.deepEqual({ ...before, ofport: '' }, { bridges: 'br-int,br-phy', eth1: 'br-phy', ofport: '', vtepOn: 'br-phy' });
    await restartBoth(ONE_BRIDGE);
    for (const host of ['host1', 'host2'])
      assert.deepEqual(await layout(host), { bridges: 'br-int', eth1: 'br-int', ofport: String(UPLINK_OFPORT), vtepOn: 'br-int' }, host);
    // the uplink's port was deleted and added; the VTEP's MAC stayed (peers' tunnel neighbours hold it)
    assert.deepEqual(await Promise.all(['host1', 'host2'].map(vtepMac)), macs);
    const t0 = Date.now();
    await waitFor('a1 -> b2 with one bridge', () => pingOnce(lab.ns(a1), b2.ip, 0.3), { timeoutMs: 10_000, intervalMs: 50 });
    console.log(`      ping back ${Date.now() - t0} ms after both agents converted their hosts`);
    const flows = await lab.ofctl('host1', ['dump-flows', 'br-int', 'table=0']);
    assert.match(flows, new RegExp(`in_port=${UPLINK_OFPORT},vlan_tci=0x0000/0x1fff actions=LOCAL`));
    assert.match(flows, new RegExp(`in_port=LOCAL actions=output:${UPLINK_OFPORT}`));
  });

  it('restarting both agents in one-bridge mode during a 0.1 s ping loses no packet and changes nothing in OVSDB', async () => {
    const rowsBefore = await Promise.all(['host1', 'host2'].map(ovsdbRows));
    const r = await pingLoss(() => restartBoth(ONE_BRIDGE));
    assert.equal(r.received, r.sent, `lost pings: ${r.out}`);
    assert.deepEqual(
      await Promise.all(['host1', 'host2'].map(ovsdbRows)),
      rowsBefore,
      'the restarted agents re-created or changed OVSDB rows',
    );
  });

  it('after an ovs-vswitchd restart with one bridge the underlay flows are back and the ping works again within 2 s', async () => {
    const h = lab.host('host1');
    const inst = await startOvs(h.ovsDir, h.netns); // adopts the running instance
    await restartVswitchd(inst);
    const ms = (await msUntilPing(lab.ns(a1), b2.ip)) ?? assert.fail('ping never came back');
    assert.ok(ms < 2000, `ping came back after ${ms} ms`);
    console.log(`      ping back ${ms} ms after ovs-vswitchd answered`);
    assert.deepEqual(await layout('host1'), { bridges: 'br-int', eth1: 'br-int', ofport: String(UPLINK_OFPORT), vtepOn: 'br-int' });
  });

  it('an agent started without --one-bridge goes back to two bridges: br-phy with eth1 and the VTEP address, none on br-int', async () => {
    await restartBoth([]);
    for (const host of ['host1', 'host2']) {
      const l = await layout(host);
      assert.deepEqual({ ...l, ofport: '' }, { bridges: 'br-int,br-phy', eth1: 'br-phy', ofport: '', vtepOn: 'br-phy' }, host);
    }
    assert.deepEqual(await Promise.all(['host1', 'host2'].map(vtepMac)), macs);
    await waitFor('a1 -> b2 with two bridges again', () => pingOnce(lab.ns(a1), b2.ip, 0.3), { timeoutMs: 10_000, intervalMs: 50 });
    const flows = await lab.ofctl('host1', ['dump-flows', 'br-int', 'table=0']);
    assert.doesNotMatch(flows, /in_port=LOCAL/);
  });
});
