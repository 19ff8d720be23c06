/**
 * ACI mode in the pipeline: groups with a VLAN of their own (EndpointGroup.pktTag, their EPG's
 * encap). Two hosts' pipelines (every flow held to the table contracts) wired by a trunk between
 * their uplinks and, optionally, a model of the ACI leaf, which switches a frame of one EPG VLAN of
 * the bridge domain into the others (to every host, the sender's too). Shows: packets leave with the
 * source group's VLAN; between two groups nothing is switched locally (it needs the leaf); a group
 * reaches itself locally and across hosts without it; broadcasts stay in their VLAN; ARP from the
 * uplink is answered on the request's VLAN; bad group VLANs are refused naming the field; networks
 * without group VLANs keep exactly their flows.
 */
import { strict as assert } from 'node:assert';
import { pipelineView } from '../../../netplugin/pipeline/input';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { table } from '../../../netplugin/pipeline/tables';
import { flowKey } from '../../../netplugin/reconcile/flow-key';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { parseHostState, type Endpoint, type EndpointGroup, type HostState, type Network } from '../../../netplugin/state/host-state';
import { receivedAs, type Packet } from '../../support/packet-tracer';
import { ClusterFabric, inputFor, portIn, UPLINK } from './fixture';
import { checkedPipeline } from './checked-pipeline';

const HOSTS = { h1: '192.168.0.1', h2: '192.168.0.2' };
const NET_VLAN = 100;
const WEB_VLAN = 201;
const DB_VLAN = 202;
/** the EPG encaps of the bridge domain the leaf model switches between */
const LEAF_VLANS = [WEB_VLAN, DB_VLAN];
const BCAST = 'ff:ff:ff:ff:ff:ff';

function net(name: string, encap: 'vlan' | 'vxlan', pktTag: number, networkId: number, subnet: string): Network {
  return {
    key: `t:${name}`,
    tenant: 't',
    name,
    encap,
    pktTag,
    subnet,
    gateway: subnet.replace(/\.0\/24$/, '.254'),
    ipv6Subnet: '',
    ipv6Gateway: '',
    nwType: 'data',
    networkId,
    gatewayMac: '',
    mtu: 0,
    nat: true,
  };
}

function group(name: string, network: string, groupId: number, pktTag: number): EndpointGroup {
  return { key: `t:${name}`, tenant: 't', name, network: `t:${network}`, groupId, policies: [], netProfile: '', pktTag };
}

const EPS: Array<[id: string, network: string, host: keyof typeof HOSTS, ip: string, group: string]> = [
  ['w1', 'app', 'h1', '10.9.0.11', 'web'],
  ['w1b', 'app', 'h1', '10.9.0.12', 'web'],
  ['d1', 'app', 'h1', '10.9.0.21', 'db'],
  ['m1', 'app', 'h1', '10.9.0.31', 'misc'],
  ['w2', 'app', 'h2', '10.9.0.13', 'web'],
  ['d2', 'app', 'h2', '10.9.0.22', 'db'],
  ['p1', 'plain', 'h1', '10.9.1.11', 'other'],
  ['p2', 'plain', 'h2', '10.9.1.12', 'other'],
  ['x1', 'vx', 'h1', '10.9.2.11', 'vxg'],
  ['x2', 'vx', 'h2', '10.9.2.12', 'vxg'],
];

function endpoints(): Endpoint[] {
  return EPS.map(([id, network, host, ip, g], i) => ({
    id,
    network: `t:${network}`,
    group: `t:${g}`,
    host,
    ip,
    ipv6: '',
    mac: `02:00:00:00:09:${(i + 1).toString(16).padStart(2, '0')}`,
    intfName: `veth-${id}`,
    vtepIp: HOSTS[host],
    containerId: `c-${id}`,
    containerName: id,
    labels: {},
    revision: 1,
    external: false,
  }));
}

/**
 * Tenant t: VLAN network app (VLAN 100) with groups web (own VLAN 201), db (202) and misc (none);
 * VLAN network plain (300) and VXLAN network vx, whose groups have no VLAN of their own (vxg's is
 * ignored: a group VLAN means something only on a VLAN network).
 */
function state(opts: { arpMode?: 'proxy' | 'flood'; tags?: boolean } = {}): HostState {
  const tags = opts.tags ?? true;
  return {
    global: { fwdMode: 'bridge', arpMode: opts.arpMode ?? 'proxy' },
    tenants: [{ name: 't', vrfId: 1, ctZone: 1 }],
    networks: [
      net('app', 'vlan', NET_VLAN, 1, '10.9.0.0/24'),
      net('plain', 'vlan', 300, 2, '10.9.1.0/24'),
      net('vx', 'vxlan', 7000, 3, '10.9.2.0/24'),
    ],
    groups: [
      group('web', 'app', 11, tags ? WEB_VLAN : 0),
      group('db', 'app', 12, tags ? DB_VLAN : 0),
      group('misc', 'app', 13, 0),
      group('other', 'plain', 14, 0),
      group('vxg', 'vx', 15, tags ? 250 : 0),
    ],
    policies: [],
    profiles: [],
    endpoints: endpoints(),
    vteps: Object.entries(HOSTS).map(([host, vtepIp]) => ({ host, vtepIp })),
    services: [],
  } as unknown as HostState; // the remaining fields get their defaults from parseHostState in inputFor
}

function ep(id: string): Endpoint {
  const e = endpoints().find((x) => x.id === id);
  if (!e) throw new Error(`no endpoint ${id}`);
  return e;
}

interface Delivery {
  host: string;
  port: number;
  vlan: number | undefined;
}

class AciFabric extends ClusterFabric {
  constructor(full: HostState) {
    super(parseHostState(JSON.parse(JSON.stringify(full))), { ...HOSTS }, (_h, s) => s);
  }

  port(id: string): number {
    return portIn(this.full, id);
  }

  /**
   * One packet from `host`, followed one hop: local outputs are final; an uplink output reaches the
   * other host over the trunk on its own VLAN and, with the leaf up, comes back from the leaf on each
   * other EPG VLAN of the bridge domain to every host (the sender's too).
   */
  sendVia(host: string, p: Packet, leafUp: boolean): { uplinkVlans: Array<number | undefined>; deliveries: Delivery[] } {
    const first = this.trace(host, p);
    const deliveries: Delivery[] = [];
    const uplinkVlans: Array<number | undefined> = [];
    const arrive = (h: string, q: Packet) => {
      for (const o of this.trace(h, q).outputs) if (o.port !== UPLINK) deliveries.push({ host: h, port: o.port, vlan: o.packet.vlan });
    };
    for (const o of first.outputs) {
      if (o.port !== UPLINK) {
        deliveries.push({ host, port: o.port, vlan: o.packet.vlan });
        continue;
      }
      uplinkVlans.push(o.packet.vlan);
      for (const h of Object.keys(HOSTS)) if (h !== host) arrive(h, receivedAs(o, UPLINK));
      if (leafUp && o.packet.vlan !== undefined && LEAF_VLANS.includes(o.packet.vlan))
        for (const v of LEAF_VLANS.filter((x) => x !== o.packet.vlan))
          for (const h of Object.keys(HOSTS)) arrive(h, { ...receivedAs(o, UPLINK), vlan: v });
    }
    return { uplinkVlans, deliveries };
  }

  /** An IPv4 UDP packet from local endpoint `from` to `to`. */
  ip(from: string, to: string): Packet {
    const s = ep(from);
    const d = ep(to);
    const p: Packet = { in_port: this.port(from), eth_src: s.mac, eth_dst: d.mac, eth_type: 0x0800, ipv4_src: s.ip, ipv4_dst: d.ip };
    return { ...p, ip_proto: 17, udp_src: 40000, udp_dst: 53, ip_ttl: 64 };
  }

  arpRequest(from: string, targetIp: string): Packet {
    const s = ep(from);
    return {
      in_port: this.port(from),
      ...{ eth_src: s.mac, eth_dst: BCAST, eth_type: 0x0806, arp_op: 1, arp_spa: s.ip, arp_sha: s.mac, arp_tpa: targetIp },
      arp_tha: '00:00:00:00:00:00',
    };
  }
}

const at = (f: AciFabric, host: string, id: string): [string, number] => [host, f.port(id)];
const where = (ds: Delivery[]) => ds.map((d) => [d.host, d.port] as [string, number]).sort();

describe('pipeline: ACI mode, groups with VLANs of their own on the uplink', () => {
  const fabric = new AciFabric(state());

  it('a packet leaves the uplink with its source group VLAN, and the same group gets it on the other host without the leaf', () => {
    const r = fabric.sendVia('h1', fabric.ip('w1', 'w2'), false);
    assert.deepEqual(r.uplinkVlans, [WEB_VLAN]);
    assert.deepEqual(where(r.deliveries), [at(fabric, 'h2', 'w2')]);
    assert.equal(r.deliveries[0]!.vlan, undefined, 'tag popped');
    const back = fabric.sendVia('h2', fabric.ip('d2', 'd1'), false);
    assert.deepEqual(back.uplinkVlans, [DB_VLAN]);
    assert.deepEqual(where(back.deliveries), [at(fabric, 'h1', 'd1')]);
  });

  it('the same group on one host is switched locally, as without ACI mode', () => {
    const r = fabric.sendVia('h1', fabric.ip('w1', 'w1b'), false);
    assert.deepEqual(r.uplinkVlans, []);
    assert.deepEqual(where(r.deliveries), [at(fabric, 'h1', 'w1b')]);
  });

  it('between two groups on one host: never switched locally, the leaf brings it back with the receiver VLAN', () => {
    const down = fabric.sendVia('h1', fabric.ip('w1', 'd1'), false);
    assert.deepEqual(down.uplinkVlans, [WEB_VLAN], 'to the fabric with the sender VLAN');
    assert.deepEqual(down.deliveries, [], 'without the leaf nobody gets it');
    const up = fabric.sendVia('h1', fabric.ip('w1', 'd1'), true);
    assert.deepEqual(where(up.deliveries), [at(fabric, 'h1', 'd1')], 'hairpinned by the leaf');
    const reply = fabric.sendVia('h1', fabric.ip('d1', 'w1'), true);
    assert.deepEqual(reply.uplinkVlans, [DB_VLAN]);
    assert.deepEqual(where(reply.deliveries), [at(fabric, 'h1', 'w1')]);
  });

  it('between two groups across hosts: only through the leaf', () => {
    assert.deepEqual(fabric.sendVia('h1', fabric.ip('w1', 'd2'), false).deliveries, []);
    const up = fabric.sendVia('h1', fabric.ip('w1', 'd2'), true);
    assert.deepEqual(up.uplinkVlans, [WEB_VLAN]);
    assert.deepEqual(where(up.deliveries), [at(fabric, 'h2', 'd2')]);
  });

  it('an endpoint of no group VLAN and a group VLAN endpoint meet through the fabric, each side with its own VLAN', () => {
    const toDb = fabric.trace('h1', fabric.ip('m1', 'd1'));
    assert.deepEqual(
      toDb.outputs.map((o) => [o.port, o.packet.vlan]),
      [[UPLINK, NET_VLAN]],
      'the network VLAN to the fabric, not to d1 port',
    );
    const toMisc = fabric.trace('h1', fabric.ip('d1', 'm1'));
    assert.deepEqual(
      toMisc.outputs.map((o) => [o.port, o.packet.vlan]),
      [[UPLINK, DB_VLAN]],
    );
    // what comes in on a group VLAN never reaches a port of the network VLAN, even for a group without an endpoint here
    const fromDb = { ...fabric.ip('d1', 'm1'), in_port: UPLINK, vlan: DB_VLAN };
    assert.deepEqual(
      fabric.trace('h1', fromDb).outputs.filter((o) => o.port !== UPLINK),
      [],
    );
    const onNetVlan = { ...fabric.ip('d2', 'm1'), in_port: UPLINK, vlan: NET_VLAN };
    assert.deepEqual(
      fabric.trace('h1', onNetVlan).outputs.map((o) => o.port),
      [fabric.port('m1')],
      'the network VLAN still reaches it',
    );
  });

  it('the classifier puts a group VLAN in reg8 and its group in reg1 (the source group until srcGroup knows better), and pops the tag', () => {
    // a broadcast from an address nobody has: srcGroup leaves reg1 as the VLAN said
    const p: Packet = { ...fabric.ip('d1', 'd2'), eth_dst: BCAST, ipv4_src: '10.9.0.99', in_port: UPLINK, vlan: DB_VLAN };
    const r = fabric.trace('h2', p);
    assert.deepEqual(
      r.outputs.map((o) => [o.port, o.packet.vlan, o.regs[1]]),
      [[fabric.port('d2'), undefined, 12]],
    );
    assert.equal(r.steps[0]!.object, 't:app:t:db');
    const unknown = fabric.trace('h2', { ...p, vlan: 203 });
    assert.deepEqual(unknown.outputs, [], 'a VLAN no group or network has is dropped');
  });

  it('broadcasts stay in their VLAN: a group floods to its own local ports and the uplink with its VLAN', () => {
    const flood = new AciFabric(state({ arpMode: 'flood' }));
    const r = flood.sendVia('h1', flood.arpRequest('w1', ep('d1').ip), false);
    assert.deepEqual(r.uplinkVlans, [WEB_VLAN]);
    assert.deepEqual(where(r.deliveries), [at(flood, 'h1', 'w1b'), at(flood, 'h2', 'w2')].sort());
    const viaLeaf = flood.sendVia('h1', flood.arpRequest('w1', ep('d1').ip), true);
    assert.deepEqual(
      where(viaLeaf.deliveries),
      [at(flood, 'h1', 'w1b'), at(flood, 'h2', 'w2'), at(flood, 'h1', 'd1'), at(flood, 'h2', 'd2')].sort(),
      'the leaf floods it into the db VLAN of the bridge domain',
    );
    const misc = flood.sendVia('h1', flood.arpRequest('m1', ep('d1').ip), false);
    assert.deepEqual(misc.uplinkVlans, [NET_VLAN]);
    assert.deepEqual(misc.deliveries, [], 'no port of a group VLAN gets the network VLAN flood');
  });

  it('proxy ARP from the uplink is answered on the VLAN of the request, only for endpoints of that VLAN', () => {
    const ask = (vlan: number, ip: string): Packet => ({ ...fabric.arpRequest('d2', ip), in_port: UPLINK, vlan });
    const own = fabric.trace('h1', ask(DB_VLAN, ep('d1').ip));
    assert.deepEqual(
      own.outputs.map((o) => [o.port, o.packet.vlan, o.packet.arp_op]),
      [[UPLINK, DB_VLAN, 2]],
    );
    assert.deepEqual(fabric.trace('h1', ask(WEB_VLAN, ep('d1').ip)).outputs, [], 'not on another group VLAN');
    assert.deepEqual(fabric.trace('h1', ask(NET_VLAN, ep('d1').ip)).outputs, [], 'not on the network VLAN');
    const misc = fabric.trace('h1', ask(NET_VLAN, ep('m1').ip));
    assert.deepEqual(
      misc.outputs.map((o) => [o.port, o.packet.vlan]),
      [[UPLINK, NET_VLAN]],
    );
  });

  it('networks without group VLANs keep exactly their flows; only the ACI network changes', () => {
    const flows = (s: HostState, host: keyof typeof HOSTS) => computePipeline(inputFor(host, HOSTS[host], s));
    const keys = (fs: DesiredFlow[]) =>
      new Map(fs.map((f) => [`${flowKey(f)} ${JSON.stringify(f.instructions, replacer)} ${f.feature} ${f.object ?? ''}`, f]));
    for (const host of ['h1', 'h2'] as const) {
      const tagged = keys(flows(state(), host));
      const plain = keys(flows(state({ tags: false }), host));
      const changed = [...tagged.entries()].filter(([k]) => !plain.has(k)).concat([...plain.entries()].filter(([k]) => !tagged.has(k)));
      assert.ok(changed.length > 0, 'the group VLANs change something');
      for (const [k, f] of changed) assert.ok(aboutApp(f), `${host}: a flow not of network app changed: ${k}`);
    }
  });

  it('a VXLAN network ignores its groups VLANs; bad group VLANs are refused naming the field', () => {
    const s = state();
    const view = pipelineView(inputFor('h1', HOSTS.h1, s));
    assert.deepEqual(
      view.networks.map((n) => [n.net.key, n.vlanGroups.map((g) => g.key)]),
      [
        ['t:app', ['t:web', 't:db']],
        ['t:plain', []],
        ['t:vx', []],
      ],
    );
    const withTag = (i: number, pktTag: number): HostState => ({ ...s, groups: s.groups.map((g, j) => (j === i ? { ...g, pktTag } : g)) });
    assert.throws(
      () => pipelineView(inputFor('h1', HOSTS.h1, withTag(1, WEB_VLAN))),
      (e: Error & { field?: string; code?: string }) =>
        e.field === 'groups[1].pktTag' && e.code === 'CONFLICT' && /group t:web/.test(e.message),
    );
    assert.throws(
      () => pipelineView(inputFor('h1', HOSTS.h1, withTag(0, 300))),
      (e: Error & { field?: string }) => e.field === 'groups[0].pktTag' && /network t:plain/.test(e.message),
    );
    assert.throws(() => inputFor('h1', HOSTS.h1, withTag(0, 4095)), /pktTag/);
  });

  it("an external endpoint of a group VLAN comes in only on its group's VLAN, and the gateway answers it there", () => {
    const s = state();
    const x9: Endpoint = { ...ep('w1'), id: 'x9', host: '', ip: '10.9.0.99', mac: '02:00:00:00:09:99', external: true, vtepIp: '' };
    const f = new AciFabric({ ...s, endpoints: [...s.endpoints, x9] });
    const from = (vlan: number, to: string): Packet => ({
      ...f.ip('w2', to),
      in_port: UPLINK,
      vlan,
      eth_src: x9.mac,
      ipv4_src: x9.ip,
    });
    assert.deepEqual(
      f.trace('h1', from(WEB_VLAN, 'w1')).outputs.map((o) => o.port),
      [f.port('w1')],
      'on web VLAN it reaches web',
    );
    assert.deepEqual(f.trace('h1', from(DB_VLAN, 'd1')).outputs, [], 'its address on another VLAN is dropped');
    assert.deepEqual(f.trace('h1', from(NET_VLAN, 'm1')).outputs, [], 'also on the network VLAN');
    const arp: Packet = {
      in_port: UPLINK,
      vlan: WEB_VLAN,
      ...{ eth_src: x9.mac, eth_dst: BCAST, eth_type: 0x0806, arp_op: 1, arp_spa: x9.ip, arp_sha: x9.mac, arp_tpa: '10.9.0.254' },
      arp_tha: '00:00:00:00:00:00',
    };
    assert.deepEqual(
      f.trace('h1', arp).outputs.map((o) => [o.port, o.packet.vlan, o.packet.arp_op]),
      [[UPLINK, WEB_VLAN, 2]],
      'the gateway answers on web VLAN',
    );
    const ping: Packet = { ...from(WEB_VLAN, 'w1'), eth_dst: '02:6e:6c:00:00:01', ipv4_dst: '10.9.0.254', ip_proto: 1, icmpv4_type: 8 };
    assert.deepEqual(
      f.trace('h1', ping).outputs.map((o) => [o.port, o.packet.vlan, o.packet.icmpv4_type]),
      [[UPLINK, WEB_VLAN, 0]],
      'and its ping too',
    );
  });

  it('every flow stays within the table contracts, on both hosts and in both ARP modes', () => {
    for (const arpMode of ['proxy', 'flood'] as const)
      for (const host of ['h1', 'h2'] as const) {
        const fs = checkedPipeline(inputFor(host, HOSTS[host], state({ arpMode })));
        assert.ok(fs.some((f) => f.table === table('l2Forward') && f.match.some((m) => m.field === 'reg8')));
      }
  });
});

/** BigInt-safe JSON of instructions */
function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** A flow of network app: matches its network id or one of its VLANs, or serves one of its endpoints. */
function aboutApp(f: DesiredFlow): boolean {
  const m = f.match.find((x) => x.field === 'reg0' || x.field === 'vlan_vid');
  if (m?.field === 'reg0') return m.value === 1;
  if (m?.field === 'vlan_vid') return [NET_VLAN, WEB_VLAN, DB_VLAN].includes(Number(m.value) & 0xfff);
  const appEndpoints = EPS.filter(([, network]) => network === 'app').map(([id]) => id);
  return f.object !== undefined && appEndpoints.includes(f.object);
}
