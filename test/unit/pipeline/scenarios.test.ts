/**
 * Pipeline scenarios traced end to end through computePipeline on several hosts: bridging in
 * VLAN and VXLAN networks, isolation of networks and of tenants with the same addresses, ARP in
 * proxy and flood mode, split horizon, spoofguard, the gateway's ping answer, routing, conntrack.
 */
import { strict as assert } from 'node:assert';
import { endpoint, Fabric, GW_MAC, HOSTS, pkt, portOf, UPLINK, VXLAN } from './fixture';
import { table } from '../../../netplugin/pipeline/tables';

const BCAST = 'ff:ff:ff:ff:ff:ff';

describe('pipeline scenarios: bridging', () => {
  const fabric = new Fabric();

  it('VLAN: a packet to an endpoint on another host leaves the uplink tagged and arrives untagged at its port', () => {
    const { first, deliveries } = fabric.send('h1', pkt.to('v1', 'v2'));
    assert.equal(first.outputs.length, 1);
    assert.equal(first.outputs[0]!.port, UPLINK);
    assert.equal(first.outputs[0]!.packet.vlan, 100, 'tagged with the network VLAN');
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('v2')]],
      'only v2 receives it',
    );
    const got = deliveries[0]!.out.packet;
    assert.equal(got.vlan, undefined, 'tag popped');
    assert.equal(got.eth_dst, endpoint('v2').mac);
    assert.equal(got.ipv4_src, endpoint('v1').ip);
  });

  it('VLAN: a packet arriving on the uplink with another tag does not reach v2', () => {
    const { deliveries } = fabric.send('h1', pkt.to('w1', 'v2'));
    assert.deepEqual(deliveries, [], 'blue:vl2 (VLAN 101) frame addressed to a blue:vl MAC goes nowhere');
  });

  it('VXLAN: tun_id is the VNI and tun_dst the peer VTEP, and the peer delivers to the endpoint', () => {
    const { first, deliveries } = fabric.send('h1', pkt.to('a1', 'a2'));
    assert.equal(first.outputs.length, 1);
    const o = first.outputs[0]!;
    assert.equal(o.port, VXLAN);
    assert.equal(o.packet.tunnel_id, 5001n);
    assert.equal(o.packet.tun_ipv4_dst, HOSTS.h2);
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('a2')]],
    );
    assert.equal(deliveries[0]!.out.packet.tunnel_id, 5001n, 'the received VNI is still visible as metadata');
  });

  it('a local destination on the same host is reached directly', () => {
    const r = fabric.trace('h1', pkt.to('a1', 'a3'));
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [portOf('a3')],
    );
  });

  it('different networks do not reach each other, locally or across hosts', () => {
    assert.deepEqual(fabric.trace('h1', pkt.to('a1', 'b1')).outputs, [], 'blue:web -> blue:db on the same host');
    assert.deepEqual(fabric.send('h1', pkt.to('a1', 'b2')).deliveries, [], 'blue:web -> blue:db across hosts');
    assert.deepEqual(fabric.trace('h1', pkt.to('a1', 'v1')).outputs, [], 'VXLAN network -> VLAN network');
  });

  it('two tenants with the same subnet and the same IPs are isolated', () => {
    // a2 (blue) and r2 (red) both have 10.1.1.11 on h2; a1 and r1 both 10.1.1.10 on h1
    assert.equal(endpoint('a2').ip, endpoint('r2').ip);
    const blue = fabric.send('h1', pkt.to('a1', 'a2'));
    assert.deepEqual(
      blue.deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('a2')]],
    );
    const red = fabric.send('h1', pkt.to('r1', 'r2'));
    assert.equal(red.first.outputs[0]!.packet.tunnel_id, 6001n, 'red uses its own VNI');
    assert.deepEqual(
      red.deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('r2')]],
    );
    assert.deepEqual(fabric.send('h1', pkt.ip('a1', endpoint('r2').ip, endpoint('r2').mac)).deliveries, [], 'blue cannot reach red by MAC');
    assert.deepEqual(
      fabric.trace('h1', pkt.ip('a1', endpoint('r1').ip, endpoint('r1').mac)).outputs,
      [],
      'nor a red endpoint on its own host',
    );
    // ARP for the shared IP is answered with the MAC of the asker's own tenant
    const arpBlue = fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.11'));
    const arpRed = fabric.trace('h1', pkt.arpRequest('r1', '10.1.1.11'));
    assert.equal(arpBlue.outputs[0]!.packet.arp_sha, endpoint('a2').mac);
    assert.equal(arpRed.outputs[0]!.packet.arp_sha, endpoint('r2').mac);
  });

  it('VLAN broadcast from a local port floods the network locally and to the uplink (tagged); the peer floods it only to its local ports', () => {
    const b = pkt.ip('v1', '10.2.1.255', BCAST);
    const { first, deliveries } = fabric.send('h1', b);
    assert.deepEqual(
      first.outputs.map((o) => [o.port, o.packet.vlan]),
      [[UPLINK, 100]],
      'v1 is the only local port of blue:vl on h1 (not sent back to itself)',
    );
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port, d.out.packet.vlan]),
      [['h2', portOf('v2'), undefined]],
      'h2 delivers untagged to v2 and does not send it back to the uplink',
    );
  });

  it('a broadcast from the tunnel is flooded to local ports only, never back to tunnels (split horizon)', () => {
    const fromH2 = { ...pkt.ip('a2', '10.1.1.255', BCAST), in_port: VXLAN, tunnel_id: 5001n, tun_ipv4_src: HOSTS.h2 };
    const r = fabric.trace('h1', fromH2);
    assert.deepEqual(
      r.outputs.map((o) => o.port).sort((x, y) => x - y),
      [portOf('a1'), portOf('a3')].sort((x, y) => x - y),
    );
    // and from a local port it does go to every VTEP of the network (h2 and h4), but not to h3
    const local = fabric.trace('h1', pkt.ip('a1', '10.1.1.255', BCAST));
    const tunnels = local.outputs.filter((o) => o.port === VXLAN).map((o) => o.packet.tun_ipv4_dst);
    assert.deepEqual(tunnels, [HOSTS.h2, HOSTS.h4]);
    assert.ok(local.outputs.every((o) => o.port !== VXLAN || o.packet.tunnel_id === 5001n));
    assert.deepEqual(
      local.outputs.filter((o) => o.port !== VXLAN).map((o) => o.port),
      [portOf('a3')],
    );
  });

  it('a broadcast arriving on the uplink is not sent back out of the uplink', () => {
    const fromWire = { ...pkt.ip('v2', '10.2.1.255', BCAST), in_port: UPLINK, vlan: 100 };
    const r = fabric.trace('h1', fromWire);
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [portOf('v1')],
    );
  });

  it('unknown unicast is dropped', () => {
    assert.deepEqual(fabric.trace('h1', pkt.ip('a1', '10.1.1.99', '02:99:99:99:99:99')).outputs, []);
  });

  it('a VXLAN packet with an unknown VNI, or from an unknown port, is dropped at the classifier', () => {
    const r = fabric.trace('h1', { ...pkt.ip('a2', '10.1.1.10', endpoint('a1').mac), in_port: VXLAN, tunnel_id: 7777n });
    assert.deepEqual(r.outputs, []);
    assert.deepEqual(
      r.steps.map((s) => s.table),
      [table('classifier')],
    );
    assert.deepEqual(fabric.trace('h1', { ...pkt.to('a1', 'a3'), in_port: 99 }).outputs, []);
  });
});

describe('pipeline scenarios: spoofguard', () => {
  const fabric = new Fabric();

  it('drops a spoofed source MAC, a spoofed source IP and ARP for another IP', () => {
    assert.equal(fabric.trace('h1', pkt.to('a1', 'a3')).outputs.length, 1, 'the honest packet passes');
    const macSpoof = fabric.trace('h1', pkt.to('a1', 'a3', { eth_src: '02:00:00:00:01:ff' }));
    assert.deepEqual(macSpoof.outputs, []);
    assert.equal(macSpoof.steps.at(-1)!.tableName, 'spoofguard');
    assert.deepEqual(fabric.trace('h1', pkt.to('a1', 'a3', { ipv4_src: '10.1.1.12' })).outputs, [], "a3's IP from a1's port");
    assert.deepEqual(
      fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.11', { arp_spa: '10.1.1.12' })).outputs,
      [],
      'ARP claiming another IP',
    );
    assert.deepEqual(
      fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.11', { arp_sha: '02:00:00:00:01:ff' })).outputs,
      [],
      'ARP claiming another MAC',
    );
    assert.deepEqual(fabric.trace('h1', { ...pkt.to('a1', 'a3'), eth_type: 0x86dd }).outputs, [], 'other ethertypes');
  });
});

describe('pipeline scenarios: ARP', () => {
  it('proxy mode: the switch answers with the fields swapped, out of the asking port, nothing crosses a tunnel', () => {
    const fabric = new Fabric({ arpMode: 'proxy' });
    const a1 = endpoint('a1');
    const a2 = endpoint('a2');
    const r = fabric.trace('h1', pkt.arpRequest('a1', a2.ip));
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.port, portOf('a1'), 'out of the port the request came in on');
    assert.deepEqual(
      {
        eth_src: o.packet.eth_src,
        eth_dst: o.packet.eth_dst,
        op: o.packet.arp_op,
        sha: o.packet.arp_sha,
        spa: o.packet.arp_spa,
        tha: o.packet.arp_tha,
        tpa: o.packet.arp_tpa,
      },
      { eth_src: a2.mac, eth_dst: a1.mac, op: 2, sha: a2.mac, spa: a2.ip, tha: a1.mac, tpa: a1.ip },
    );
    const gw = fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.1'));
    assert.equal(gw.outputs[0]!.packet.arp_sha, GW_MAC, 'the gateway is answered');
    assert.equal(gw.outputs[0]!.packet.arp_spa, '10.1.1.1');
  });

  it('proxy mode: ARP for an unknown IP, or for an endpoint of another network, is dropped', () => {
    const fabric = new Fabric({ arpMode: 'proxy' });
    assert.deepEqual(fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.200')).outputs, []);
    assert.deepEqual(fabric.trace('h1', pkt.arpRequest('a1', endpoint('b2').ip)).outputs, [], 'b2 is in blue:db');
    const gratuitous = pkt.arpRequest('a1', endpoint('a1').ip, { arp_op: 2 });
    assert.deepEqual(fabric.trace('h1', gratuitous).outputs, [], 'broadcast ARP replies do not flood either');
  });

  it('proxy mode: a request from the uplink is answered for a local endpoint only', () => {
    const fabric = new Fabric({ arpMode: 'proxy' });
    const ask = (target: string) => fabric.trace('h1', { ...pkt.arpRequest('v2', target), in_port: UPLINK, vlan: 100 });
    const local = ask(endpoint('v1').ip);
    assert.equal(local.outputs.length, 1);
    assert.equal(local.outputs[0]!.port, UPLINK);
    assert.equal(local.outputs[0]!.packet.vlan, 100, 'the reply goes back on the VLAN it came from');
    assert.equal(local.outputs[0]!.packet.arp_sha, endpoint('v1').mac);
    assert.equal(local.outputs[0]!.packet.eth_dst, endpoint('v2').mac);
    assert.deepEqual(ask('10.2.1.1').outputs, [], 'the gateway is answered only for local endpoints (their own host answers)');
    assert.deepEqual(ask(endpoint('v2').ip).outputs, [], 'nor is a remote endpoint (its own host answers)');
    const fromTunnel = fabric.trace('h1', {
      ...pkt.arpRequest('a2', endpoint('a1').ip),
      in_port: VXLAN,
      tunnel_id: 5001n,
      tun_ipv4_src: HOSTS.h2,
    });
    assert.deepEqual(fromTunnel.outputs, [], 'a request from the tunnel is never answered back into it');
  });

  it('flood mode: requests flood within the network, across VTEPs, and the target answers itself', () => {
    const fabric = new Fabric({ arpMode: 'flood' });
    const { first, deliveries } = fabric.send('h1', pkt.arpRequest('a1', endpoint('a2').ip));
    assert.deepEqual(
      first.outputs.filter((o) => o.port !== VXLAN).map((o) => o.port),
      [portOf('a3')],
    );
    assert.deepEqual(
      first.outputs.filter((o) => o.port === VXLAN).map((o) => o.packet.tun_ipv4_dst),
      [HOSTS.h2, HOSTS.h4],
    );
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]).sort(),
      [
        ['h1', portOf('a3')],
        ['h2', portOf('a2')],
        ['h4', portOf('a4')],
      ].sort(),
      'every blue:web endpoint and nothing else',
    );
    assert.ok(
      deliveries.every((d) => d.out.packet.arp_op === 1 && d.out.packet.eth_dst === BCAST),
      'the request itself, unchanged',
    );
    // the gateway is still answered by the switch in flood mode
    const gw = fabric.trace('h1', pkt.arpRequest('a1', '10.1.1.1'));
    assert.equal(gw.outputs.length, 1);
    assert.equal(gw.outputs[0]!.packet.arp_sha, GW_MAC);
  });
});

describe('pipeline scenarios: the gateway', () => {
  it('answers ping with the reply built in the switch', () => {
    const fabric = new Fabric();
    const a1 = endpoint('a1');
    const r = fabric.trace('h1', pkt.ip('a1', '10.1.1.1', GW_MAC, { ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0, ip_ttl: 5 }));
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.port, portOf('a1'));
    assert.deepEqual(
      {
        src: o.packet.eth_src,
        dst: o.packet.eth_dst,
        ipSrc: o.packet.ipv4_src,
        ipDst: o.packet.ipv4_dst,
        type: o.packet.icmpv4_type,
        ttl: o.packet.ip_ttl,
      },
      { src: GW_MAC, dst: a1.mac, ipSrc: '10.1.1.1', ipDst: a1.ip, type: 0, ttl: 64 },
    );
  });

  it("does not answer ping to another network's gateway in bridge mode, does in routing mode (same tenant only)", () => {
    const ping = (from: string, gw: string) => pkt.ip(from, gw, GW_MAC, { ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 });
    assert.deepEqual(new Fabric().trace('h1', ping('a1', '10.1.2.1')).outputs, []);
    const routing = new Fabric({ fwdMode: 'routing' });
    const r = routing.trace('h1', ping('a1', '10.1.2.1'));
    assert.deepEqual(
      r.outputs.map((o) => [o.port, o.packet.ipv4_src, o.packet.icmpv4_type]),
      [[portOf('a1'), '10.1.2.1', 0]],
    );
    assert.deepEqual(routing.trace('h1', ping('r1', '10.1.2.1')).outputs, [], 'red has no network 10.1.2.0/24');
    assert.equal(routing.trace('h1', ping('r1', '10.1.1.1')).outputs[0]!.port, portOf('r1'), "red's own gateway answers");
  });
});

describe('pipeline scenarios: routing', () => {
  it('routes between two networks of one tenant across hosts: MACs rewritten, TTL decremented', () => {
    const fabric = new Fabric({ fwdMode: 'routing' });
    const b2 = endpoint('b2');
    const { first, deliveries } = fabric.send('h1', pkt.ip('a1', b2.ip, GW_MAC, { ip_ttl: 64 }));
    assert.equal(first.outputs.length, 1);
    assert.equal(first.outputs[0]!.packet.tunnel_id, 5002n, "leaves in the destination network's VNI");
    assert.equal(first.outputs[0]!.packet.tun_ipv4_dst, HOSTS.h2);
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('b2')]],
    );
    const got = deliveries[0]!.out.packet;
    assert.equal(got.eth_src, GW_MAC);
    assert.equal(got.eth_dst, b2.mac);
    assert.equal(got.ip_ttl, 63);
    assert.equal(got.ipv4_src, endpoint('a1').ip, 'addresses are not translated');
    const regs = deliveries[0]!.out.regs;
    assert.deepEqual(
      [regs[0], regs[1], regs[2], regs[3]],
      [2, 11, 12, 1],
      'on h2: blue:db, source group front (from a1 IP), destination group back, tenant blue',
    );
  });

  it('routes into a VLAN network too (tag of the destination network)', () => {
    const fabric = new Fabric({ fwdMode: 'routing' });
    const { first, deliveries } = fabric.send('h1', pkt.ip('a1', endpoint('v2').ip, GW_MAC));
    assert.equal(first.outputs[0]!.port, UPLINK);
    assert.equal(first.outputs[0]!.packet.vlan, 100);
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('v2')]],
    );
  });

  it('routes locally and drops a packet whose TTL runs out', () => {
    const fabric = new Fabric({ fwdMode: 'routing' });
    const local = fabric.trace('h1', pkt.ip('a1', endpoint('b1').ip, GW_MAC, { ip_ttl: 2 }));
    assert.deepEqual(
      local.outputs.map((o) => [o.port, o.packet.ip_ttl, o.regs[0]]),
      [[portOf('b1'), 1, 2]],
      'out of b1, TTL 1, network register switched to blue:db',
    );
    const expired = fabric.trace('h1', pkt.ip('a1', endpoint('b1').ip, GW_MAC, { ip_ttl: 1 }));
    assert.deepEqual(expired.outputs, []);
    assert.ok(expired.notes.some((n) => n.includes('TTL')));
  });

  it('does not route across tenants, even to the same addresses', () => {
    const fabric = new Fabric({ fwdMode: 'routing' });
    assert.deepEqual(fabric.send('h1', pkt.ip('r1', endpoint('b2').ip, GW_MAC)).deliveries, [], 'red -> blue:db address');
    // 10.1.1.11 is both a2 (blue) and r2 (red): red's packet to its gateway reaches red's r2 only
    assert.deepEqual(
      fabric.send('h1', pkt.ip('r1', endpoint('a2').ip, GW_MAC)).deliveries.map((d) => [d.host, d.port, d.out.packet.eth_dst]),
      [['h2', portOf('r2'), endpoint('r2').mac]],
    );
  });

  it('bridge mode does not route', () => {
    const fabric = new Fabric({ fwdMode: 'bridge' });
    assert.deepEqual(fabric.send('h1', pkt.ip('a1', endpoint('b2').ip, GW_MAC)).deliveries, []);
    assert.deepEqual(fabric.trace('h1', pkt.ip('a1', endpoint('b1').ip, GW_MAC)).outputs, []);
  });
});

describe('pipeline scenarios: conntrack', () => {
  it('tracks in the tenant zone: new connections are committed, replies are established, invalid TCP is dropped, a connection seen in the middle is picked up', () => {
    const fabric = new Fabric();
    const syn = pkt.to('a1', 'a3', { ip_proto: 6, tcp_src: 33000, tcp_dst: 80, tcp_flags: 0x02 });
    delete syn.udp_src;
    delete syn.udp_dst;
    const first = fabric.trace('h1', syn);
    assert.deepEqual(
      first.outputs.map((o) => o.port),
      [portOf('a3')],
    );
    assert.ok(
      first.steps.some((s) => s.tableName === 'ctCommit' && s.object === 'blue'),
      'committed in ctCommit',
    );
    assert.equal(fabric.tracers.h1!.conntrack.size, 1);
    const a1 = endpoint('a1');
    const a3 = endpoint('a3');
    const reply = {
      in_port: portOf('a3'),
      eth_src: a3.mac,
      eth_dst: a1.mac,
      eth_type: 0x0800,
      ipv4_src: a3.ip,
      ipv4_dst: a1.ip,
      ip_proto: 6,
      tcp_src: 80,
      tcp_dst: 33000,
      tcp_flags: 0x12,
    };
    const back = fabric.trace('h1', reply);
    assert.deepEqual(
      back.outputs.map((o) => o.port),
      [portOf('a1')],
    );
    assert.ok(
      back.steps.some((s) => s.tableName === 'ctState' && s.object === 'established'),
      'the reply is established and skips policy',
    );
    assert.ok(!back.steps.some((s) => s.tableName === 'egressPolicy'));
    const synAck = fabric.trace('h1', { ...syn, tcp_src: 33002, tcp_flags: 0x12 });
    assert.deepEqual(synAck.outputs, [], 'a SYN+ACK that answers no known connection is invalid');
    assert.equal(synAck.steps.at(-1)!.object, 'invalid');
    // Open vSwitch's userspace conntrack picks a connection up in the middle (after an ovs-vswitchd
    // restart, say); without a policy that can deny, it carries on
    const stray = fabric.trace('h1', { ...syn, tcp_src: 33001, tcp_flags: 0x10 });
    assert.deepEqual(
      stray.outputs.map((o) => o.port),
      [portOf('a3')],
    );
    assert.equal(fabric.tracers.h1!.conntrack.size, 2, 'and is committed');
  });

  it('a routed TCP connection across hosts is new on both hosts, then its reply is established on both', () => {
    const fabric = new Fabric({ fwdMode: 'routing' });
    const a1 = endpoint('a1');
    const b2 = endpoint('b2');
    const tcp = { eth_type: 0x0800, ip_proto: 6, ip_ttl: 64 };
    const syn = {
      ...tcp,
      in_port: portOf('a1'),
      eth_src: a1.mac,
      eth_dst: GW_MAC,
      ipv4_src: a1.ip,
      ipv4_dst: b2.ip,
      tcp_src: 40000,
      tcp_dst: 5432,
      tcp_flags: 0x02,
    };
    const there = fabric.send('h1', syn);
    assert.deepEqual(
      there.deliveries.map((d) => [d.host, d.port]),
      [['h2', portOf('b2')]],
    );
    assert.equal(fabric.tracers.h1!.conntrack.size, 1);
    assert.equal(fabric.tracers.h2!.conntrack.size, 1, 'the destination host tracks (and will police) it too');
    const synAck = {
      ...tcp,
      in_port: portOf('b2'),
      eth_src: b2.mac,
      eth_dst: GW_MAC,
      ipv4_src: b2.ip,
      ipv4_dst: a1.ip,
      tcp_src: 5432,
      tcp_dst: 40000,
      tcp_flags: 0x12,
    };
    const back = fabric.send('h2', synAck);
    assert.deepEqual(
      back.deliveries.map((d) => [d.host, d.port]),
      [['h1', portOf('a1')]],
    );
    assert.ok(
      back.first.steps.some((st) => st.tableName === 'ctState' && st.object === 'established'),
      'established on h2',
    );
    const onH1 = fabric.trace('h1', { ...back.first.outputs[0]!.packet, in_port: VXLAN, tun_ipv4_src: HOSTS.h2 });
    assert.ok(
      onH1.steps.some((st) => st.tableName === 'ctState' && st.object === 'established'),
      'established on h1',
    );
    assert.equal(fabric.tracers.h1!.conntrack.size, 1, 'no new connection was committed for the reply');
  });

  it("tenants' connections live in separate zones, even with identical 5-tuples", () => {
    const fabric = new Fabric();
    const tcp = (from: string, to: string, flags: number) => {
      const p = pkt.to(from, to, { ip_proto: 6, tcp_src: 33000, tcp_dst: 80, tcp_flags: flags });
      delete p.udp_src;
      delete p.udp_dst;
      return p;
    };
    // a1/r1 and a2/r2 share their addresses: blue's connection has red's exact 5-tuple
    const blue = fabric.send('h1', tcp('a1', 'a2', 0x02));
    assert.equal(blue.deliveries.length, 1);
    // in blue's zone this ACK would be blue's connection; in red's it is a connection of its own
    const redAck = fabric.trace('h1', tcp('r1', 'r2', 0x10));
    assert.ok(
      redAck.steps.some((st) => st.tableName === 'ctCommit'),
      "red's ACK with blue's exact 5-tuple is new in red's zone",
    );
    assert.equal(fabric.tracers.h1!.conntrack.size, 2);
    const zones = fabric.tracers.h1!.conntrack.entries().map((c) => c.zone);
    assert.equal(new Set(zones).size, 2, `one connection per zone: ${zones.join(',')}`);
  });

  it('ARP is never sent to conntrack', () => {
    const fabric = new Fabric({ arpMode: 'flood' });
    fabric.trace('h1', pkt.arpRequest('a1', endpoint('a3').ip));
    assert.equal(fabric.tracers.h1!.conntrack.size, 0);
  });
});
