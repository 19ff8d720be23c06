/**
 * ACI mode on real OVS with real traffic: two lab hosts, each with a real netplugin fed a fabric
 * file, whose VLAN network app has two groups with VLANs of their own (web 201, db 202: their
 * EPGs' encaps), containers of both groups on both hosts plugged through the real CNI shim, and the
 * hosts' uplinks plugged into a leaf stand-in (test/support/aci-leaf.ts) that switches between
 * the two EPG VLANs of the bridge domain. Shows: each group's packets are on its own VLAN on the
 * uplink (tcpdump on the host's eth1); ping and TCP between the groups, on one host and across
 * hosts, pass through the leaf and fail when the leaf stops switching between the EPGs; a group
 * reaches itself across hosts either way.
 */
import { strict as assert } from 'node:assert';
import { startCapture } from '../../support/capture';
import { AciLeaf } from '../../support/aci-leaf';
import { pingEventually, pingOk, tcpTransfer } from '../../support/traffic';
import { AgentLab, hostState, type Ctr, type Scenario } from './support';

const LAB = 'taci';
const WEB_VLAN = 201;
const DB_VLAN = 202;

const CONTAINERS: Ctr[] = [
  { name: 'w1', host: 'host1', tenant: 't1', network: 'app', ip: '10.61.0.11', mac: '02:00:00:00:61:11' },
  { name: 'd1', host: 'host1', tenant: 't1', network: 'app', ip: '10.61.0.21', mac: '02:00:00:00:61:21' },
  { name: 'w2', host: 'host2', tenant: 't1', network: 'app', ip: '10.61.0.12', mac: '02:00:00:00:61:12' },
  { name: 'd2', host: 'host2', tenant: 't1', network: 'app', ip: '10.61.0.22', mac: '02:00:00:00:61:22' },
];
const GROUP_OF: Record<string, string> = { w1: 't1:web', w2: 't1:web', d1: 't1:db', d2: 't1:db' };

const SCENARIO: Scenario = {
  encap: 'vlan',
  tenants: [{ name: 't1', vrfId: 1, ctZone: 1 }],
  networks: [{ tenant: 't1', name: 'app', tag: 100, subnet: '10.61.0.0/24', gateway: '10.61.0.254', networkId: 1 }],
  containers: CONTAINERS,
};

describe('netplugin agents on the lab, ACI mode: each group on its own VLAN, through a leaf stand-in', function () {
  this.timeout(60_000);
  const lab = new AgentLab(LAB);
  let leaf: AciLeaf | undefined;
  const c = (name: string) => CONTAINERS.find((x) => x.name === name) ?? assert.fail(`no container ${name}`);
  const ns = (name: string) => lab.ns(c(name));
  const ip = (name: string) => c(name).ip;

  before(async function () {
    this.timeout(120_000);
    await lab.up(2);
    leaf = await AciLeaf.start({
      netns: `${lab.plan.prefix}leaf`,
      underlayNetns: lab.plan.underlayNetns,
      bridge: 'br-data',
      hostPorts: lab.plan.hosts.map((h) => h.dataPeer),
      vlans: [WEB_VLAN, DB_VLAN],
      dir: `${lab.plan.dir}/leaf-ovs`,
    });
    const base = hostState(lab.plan, SCENARIO) as { endpoints: Array<Record<string, unknown>> };
    lab.writeState({
      ...base,
      groups: [
        { key: 't1:web', tenant: 't1', name: 'web', network: 't1:app', groupId: 11, pktTag: WEB_VLAN },
        { key: 't1:db', tenant: 't1', name: 'db', network: 't1:app', groupId: 12, pktTag: DB_VLAN },
      ],
      endpoints: base.endpoints.map((e) => ({ ...e, group: GROUP_OF[String(e.id).replace(/^ep-/, '')] })),
    });
    await Promise.all([lab.startAgent('host1'), lab.startAgent('host2')]);
    for (const x of CONTAINERS) await lab.plug(x);
  });
  after(async function () {
    this.timeout(60_000);
    await leaf?.stop();
    await lab.teardown();
  });

  it("the uplink carries each group's packets on the group's VLAN", async () => {
    assert.ok(await pingEventually(ns('w1'), ip('d2')), 'w1 -> d2 before the capture (ARP and MAC learning)');
    assert.ok(await pingEventually(ns('d1'), ip('w2')), 'd1 -> w2 before the capture');
    const cap = await startCapture(lab.host('host1').netns, ['-e', '-n', '-l', '-i', 'eth1', 'vlan and icmp'], { maxSeconds: 6 });
    assert.ok(await pingOk(ns('w1'), ip('d2'), 2), 'w1 -> d2');
    assert.ok(await pingOk(ns('d1'), ip('w2'), 2), 'd1 -> w2');
    const out = await cap.output;
    const seen = (vlan: number, from: string, to: string, what: string) =>
      new RegExp(`vlan ${vlan}, .*${from.replace(/\./g, '\\.')} > ${to.replace(/\./g, '\\.')}: ICMP echo ${what}`).test(out);
    assert.ok(seen(WEB_VLAN, ip('w1'), ip('d2'), 'request'), `web's request leaves on VLAN ${WEB_VLAN}:\n${out}`);
    assert.ok(seen(WEB_VLAN, ip('d2'), ip('w1'), 'reply'), `db's reply comes back on web's VLAN (the leaf's egress encap):\n${out}`);
    assert.ok(seen(DB_VLAN, ip('d1'), ip('w2'), 'request'), `db's request leaves on VLAN ${DB_VLAN}:\n${out}`);
    assert.ok(!/vlan 100,/.test(out), `nothing on the network's VLAN:\n${out}`);
  });

  it('between the groups, on one host and across hosts: ping and TCP through the leaf', async () => {
    for (const [a, b] of [
      ['w1', 'd1'],
      ['d1', 'w1'],
      ['w1', 'd2'],
      ['d2', 'w1'],
    ] as const)
      assert.ok(await pingEventually(ns(a), ip(b)), `${a} -> ${b}`);
    const local = await tcpTransfer(ns('w1'), ns('d1'), ip('d1'));
    assert.ok(local.ok, `TCP w1 -> d1 (same host): ${local.error ?? ''}`);
    const across = await tcpTransfer(ns('d2'), ns('w1'), ip('w1'));
    assert.ok(across.ok, `TCP d2 -> w1 (across hosts): ${across.error ?? ''}`);
  });

  it('with the leaf not switching between the EPGs, the groups cannot reach each other, even on one host; a group still reaches itself across hosts', async () => {
    await leaf!.setBridging(false);
    try {
      assert.equal(await pingOk(ns('w1'), ip('d1'), 2), false, 'w1 -> d1 (same host) is not switched locally');
      assert.equal(await pingOk(ns('w1'), ip('d2'), 2), false, 'w1 -> d2 (across hosts)');
      assert.equal(await pingOk(ns('d2'), ip('w2'), 2), false, 'd2 -> w2 (same host)');
      assert.ok(await pingEventually(ns('w1'), ip('w2')), 'web reaches web across hosts');
      assert.ok(await pingEventually(ns('d2'), ip('d1')), 'db reaches db across hosts');
      const same = await tcpTransfer(ns('w2'), ns('w1'), ip('w1'));
      assert.ok(same.ok, `TCP w2 -> w1 (one group): ${same.error ?? ''}`);
    } finally {
      await leaf!.setBridging(true);
    }
    assert.ok(await pingEventually(ns('w1'), ip('d1')), 'back through the leaf');
  });
});
