/**
 * External endpoints (a bare-metal server or VM on a VLAN network, kind externalEndpoint) through
 * the whole chain without a switch: netmaster's record of the registration, each host's view
 * (computeHostView), each host's pipeline, packets traced through the hosts' flows with the
 * packet tracer. The server sits on the VLAN trunk: what it sends reaches every host's uplink,
 * and what a host sends back out of the uplink reaches it.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { externalEndpointRecord } from '../../../netmaster/service/external-endpoints';
import { DEFAULT_GATEWAY_MAC } from '../../../netplugin/pipeline/input';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { parseHostState, type Endpoint, type HostState, type Network } from '../../../netplugin/state/host-state';
import { receivedAs, type Packet, type TraceOutput } from '../../support/packet-tracer';
import { ClusterBuilder } from '../agent-api/fixtures';
import { ClusterFabric, inputFor, portIn, UPLINK, VXLAN } from './fixture';

const VTEPS = { h1: '192.168.0.1', h2: '192.168.0.2', h3: '192.168.0.3' };
const M1 = { ip: '10.30.0.50', mac: '02:00:00:00:ee:01' };
const GW = '10.30.0.1';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const TAG = 100;

/**
 * t1: VLAN networks vl (tag 100, gateway 10.30.0.1) and vl2 (tag 101), VXLAN network vx; c1 on
 * h1 and c2 on h2 in vl (group app), d2 on h2 in vl2, x3 on h3 in vx; the server m1 registered
 * in vl, group metal. `rules`: rules of policy p, which group app uses.
 */
function world(opts: { fwdMode?: 'bridge' | 'routing'; rules?: Array<Record<string, unknown>> } = {}): ClusterBuilder {
  const b = new ClusterBuilder().global(opts.fwdMode ?? 'bridge').tenant('t1');
  b.network('t1', 'vl', 'vlan', TAG, '10.30.0.0/24', GW).network('t1', 'vl2', 'vlan', 101, '10.31.0.0/24', '10.31.0.1');
  b.network('t1', 'vx', 'vxlan', 7001, '10.32.0.0/24', '10.32.0.1');
  b.policy('t1', 'p');
  (opts.rules ?? []).forEach((r, i) => b.rule('t1', 'p', String(i + 1), r));
  b.group('t1', 'app', 'vl', ['p']).group('t1', 'metal', 'vl');
  for (const [h, v] of Object.entries(VTEPS)) b.agent(h, v);
  b.endpoint('c1', 't1', 'vl', 'h1', '10.30.0.10', 'app').endpoint('c2', 't1', 'vl', 'h2', '10.30.0.11', 'app');
  b.endpoint('d2', 't1', 'vl2', 'h2', '10.31.0.11').endpoint('x3', 't1', 'vx', 'h3', '10.32.0.13');
  const rec = externalEndpointRecord(
    { tenantName: 't1', endpointName: 'm1', networkName: 'vl', groupName: 'metal', ipAddress: M1.ip, macAddress: M1.mac },
    undefined,
    '',
  );
  return b.raw(`/netloom/v1/ep/${rec.endpointID}`, JSON.stringify(rec));
}

function fabricOf(b: ClusterBuilder): { fabric: ClusterFabric; full: HostState; views: Record<string, HostState> } {
  const views = Object.fromEntries(
    Object.keys(VTEPS).map((h) => {
      const v = parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, h))));
      return [h, { ...v, endpoints: v.endpoints.map((e) => ({ ...e, intfName: e.intfName || `v-${e.id}` })) }];
    }),
  );
  const all = new Map<string, Endpoint>();
  const nets = new Map<string, Network>();
  for (const v of Object.values(views)) {
    for (const e of v.endpoints) all.set(e.id, e);
    for (const n of v.networks) nets.set(n.key, n);
  }
  const full: HostState = {
    ...Object.values(views)[0]!,
    endpoints: [...all.values()].sort((x, y) => (x.id < y.id ? -1 : 1)),
    networks: [...nets.values()],
  };
  return { fabric: new ClusterFabric(full, VTEPS, (h) => views[h]!), full, views };
}

const ep = (full: HostState, id: string) => full.endpoints.find((e) => e.id === id)!;

/** What the server sends, as every host's uplink receives it (tagged). */
function fromServer(p: Partial<Packet>): Packet {
  return { in_port: UPLINK, vlan: TAG, eth_src: M1.mac, eth_type: 0x0800, ipv4_src: M1.ip, ip_ttl: 64, ...p } as Packet;
}

/** The server sends `p` on the VLAN: every host's outputs (back to the uplink: to the server). */
function serverSends(fabric: ClusterFabric, p: Packet): Array<{ host: string; out: TraceOutput }> {
  return Object.keys(VTEPS).flatMap((h) => fabric.trace(h, p).outputs.map((out) => ({ host: h, out })));
}

function tcp(full: HostState, from: string, toIp: string, toMac: string, port = 80): Packet {
  const s = ep(full, from);
  return {
    in_port: portIn(full, from),
    eth_src: s.mac,
    eth_dst: toMac,
    eth_type: 0x0800,
    ipv4_src: s.ip,
    ipv4_dst: toIp,
    ip_ttl: 64,
    ip_proto: 6,
    tcp_src: 40000,
    tcp_dst: port,
    tcp_flags: 0x02,
  };
}

describe('external endpoints: host views', () => {
  it('every host with the network carries the server as an external endpoint with no host; others do not', () => {
    const { views } = fabricOf(world());
    for (const h of ['h1', 'h2']) {
      const m1 = views[h]!.endpoints.find((e) => e.ip === M1.ip);
      assert.ok(m1, `${h} carries m1`);
      assert.equal(m1.external, true);
      assert.equal(m1.host, '');
      assert.equal(m1.group, 't1:metal');
      assert.ok(!views[h]!.vteps.some((v) => v.host === ''), 'no VTEP for it');
    }
    assert.ok(!views.h3!.endpoints.some((e) => e.ip === M1.ip), 'h3 has no endpoint in vl (bridge mode)');
  });

  it('an external endpoint in a VXLAN network is refused by the pipeline, naming the field', () => {
    const { views } = fabricOf(world());
    const v = views.h1!;
    const bad = { ...v, endpoints: v.endpoints.map((e) => (e.ip === M1.ip ? { ...e, network: 't1:vx', group: '' } : e)) };
    const vx = fabricOf(world()).views.h3!.networks.find((n) => n.key === 't1:vx')!;
    const input = inputFor('h1', VTEPS.h1, { ...bad, networks: [...bad.networks, vx] });
    assert.throws(
      () => computePipeline(input),
      (e: Error & { field?: string }) => /external/.test(e.field ?? '') && /VLAN/.test(e.message),
    );
  });
});

describe('external endpoints: traffic through the uplink', () => {
  it('a container reaches the server through the uplink, tagged, never a tunnel; the server reaches the container', () => {
    const { fabric, full } = fabricOf(world());
    const out = fabric.trace('h2', tcp(full, 'c2', M1.ip, M1.mac)).outputs;
    assert.deepEqual(
      out.map((o) => [o.port, o.packet.vlan]),
      [[UPLINK, TAG]],
    );
    const c1 = ep(full, 'c1');
    const got = serverSends(
      fabric,
      fromServer({ eth_dst: c1.mac, ipv4_dst: c1.ip, ip_proto: 6, tcp_src: 80, tcp_dst: 40000, tcp_flags: 0x02 }),
    );
    assert.deepEqual(
      got.map((g) => [g.host, g.out.port]),
      [['h1', portIn(full, 'c1')]],
      'only c1 gets it, untagged',
    );
    assert.equal(got[0]!.out.packet.vlan, undefined);
  });

  it("a packet from the uplink with the server's address but another MAC is dropped on every host (IPv4 and ARP)", () => {
    const { fabric, full } = fabricOf(world());
    const c1 = ep(full, 'c1');
    const spoof = fromServer({
      eth_src: '02:00:00:00:66:66',
      eth_dst: c1.mac,
      ipv4_dst: c1.ip,
      ip_proto: 1,
      icmpv4_type: 8,
      icmpv4_code: 0,
    });
    assert.deepEqual(serverSends(fabric, spoof), []);
    const arpSpoof: Packet = {
      in_port: UPLINK,
      vlan: TAG,
      eth_src: '02:00:00:00:66:66',
      eth_dst: BCAST,
      eth_type: 0x0806,
      arp_op: 1,
      arp_spa: M1.ip,
      arp_sha: '02:00:00:00:66:66',
      arp_tpa: c1.ip,
      arp_tha: '00:00:00:00:00:00',
    };
    assert.deepEqual(serverSends(fabric, arpSpoof), [], 'a forged ARP for its address gets no answer and floods nowhere');
    // the same from its own MAC is answered
    assert.equal(serverSends(fabric, { ...arpSpoof, eth_src: M1.mac, arp_sha: M1.mac }).length, 1);
  });

  for (const arpMode of ['proxy', 'flood'] as const) {
    it(`${arpMode} ARP: the server's request for the gateway is answered exactly once, tagged`, () => {
      const b = world();
      b.raw('/netloom/v1/cfg/global/global', JSON.stringify({ config: { ...globalOf(b), arpMode }, oper: {} }));
      const { fabric } = fabricOf(b);
      const replies = serverSends(fabric, arpFrom(GW)).filter((g) => g.out.packet.arp_op === 2);
      assert.equal(replies.length, 1, JSON.stringify(replies.map((r) => r.host)));
      const r = replies[0]!;
      assert.equal(r.host, 'h1', 'the first host by name with an endpoint in the network');
      assert.equal(r.out.port, UPLINK);
      assert.equal(r.out.packet.vlan, TAG);
      assert.equal(r.out.packet.arp_sha, DEFAULT_GATEWAY_MAC);
      assert.equal(r.out.packet.arp_spa, GW);
      assert.equal(r.out.packet.eth_dst, M1.mac);
    });

    it(`${arpMode} ARP: the server's request for a container is answered once, and the container's for the server works`, () => {
      const b = world();
      b.raw('/netloom/v1/cfg/global/global', JSON.stringify({ config: { ...globalOf(b), arpMode }, oper: {} }));
      const { fabric, full } = fabricOf(b);
      const c2 = ep(full, 'c2');
      const got = serverSends(fabric, arpFrom(c2.ip));
      if (arpMode === 'proxy') {
        assert.deepEqual(
          got.map((g) => [g.host, g.out.port, g.out.packet.arp_op, g.out.packet.arp_sha, g.out.packet.vlan]),
          [['h2', UPLINK, 2, c2.mac, TAG]],
          "c2's host answers for it, tagged",
        );
      } else {
        // flooded to the network's local ports (the container answers itself), never back out of the uplink
        assert.ok(got.some((g) => g.host === 'h2' && g.out.port === portIn(full, 'c2')));
        assert.ok(got.every((g) => g.out.port !== UPLINK));
      }
      const ask: Packet = {
        in_port: portIn(full, 'c2'),
        eth_src: c2.mac,
        eth_dst: BCAST,
        eth_type: 0x0806,
        arp_op: 1,
        arp_spa: c2.ip,
        arp_sha: c2.mac,
        arp_tpa: M1.ip,
        arp_tha: '00:00:00:00:00:00',
      };
      const out = fabric.trace('h2', ask).outputs;
      if (arpMode === 'proxy') {
        assert.deepEqual(
          out.map((o) => [o.port, o.packet.arp_op, o.packet.arp_sha]),
          [[portIn(full, 'c2'), 2, M1.mac]],
          "the switch answers with the server's MAC",
        );
      } else {
        assert.ok(
          out.some((o) => o.port === UPLINK && o.packet.vlan === TAG),
          'the request reaches the VLAN, where the server answers',
        );
        // the server's unicast reply comes back to c2 only
        const reply = fromServer({
          eth_type: 0x0806,
          eth_dst: c2.mac,
          arp_op: 2,
          arp_spa: M1.ip,
          arp_sha: M1.mac,
          arp_tpa: c2.ip,
          arp_tha: c2.mac,
        });
        delete reply.ipv4_src;
        delete reply.ip_ttl;
        assert.deepEqual(
          serverSends(fabric, reply).map((g) => [g.host, g.out.port]),
          [['h2', portIn(full, 'c2')]],
        );
      }
    });
  }

  it('the server pings the gateway: the host the VLAN delivers it to answers, tagged', () => {
    const { fabric } = fabricOf(world());
    const echo = fromServer({ eth_dst: DEFAULT_GATEWAY_MAC, ipv4_dst: GW, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 });
    for (const h of ['h1', 'h2']) {
      const out = fabric.trace(h, echo).outputs;
      assert.deepEqual(
        out.map((o) => [o.port, o.packet.vlan, o.packet.icmpv4_type, o.packet.ipv4_src, o.packet.ipv4_dst, o.packet.eth_dst]),
        [[UPLINK, TAG, 0, GW, M1.ip, M1.mac]],
        h,
      );
    }
    assert.deepEqual(fabric.trace('h3', echo).outputs, [], 'h3 does not take the VLAN (no endpoint there, bridge mode)');
  });

  it('routing: the server reaches a container of another network through the gateway, from any host that routes for it, and back', () => {
    const { fabric, full } = fabricOf(world({ fwdMode: 'routing' }));
    const d2 = ep(full, 'd2');
    const x3 = ep(full, 'x3');
    const toD2 = fromServer({ eth_dst: DEFAULT_GATEWAY_MAC, ipv4_dst: d2.ip, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 });
    // delivered to h2 (d2's host) directly
    assert.deepEqual(
      fabric.trace('h2', toD2).outputs.map((o) => [o.port, o.packet.eth_dst, o.packet.ip_ttl]),
      [[portIn(full, 'd2'), d2.mac, 63]],
    );
    // h3 has no endpoint in vl but routes for the tenant: it takes the packet and routes it over the VLAN of vl2
    const viaH3 = fabric.trace('h3', toD2).outputs;
    assert.deepEqual(
      viaH3.map((o) => [o.port, o.packet.vlan, o.packet.eth_dst]),
      [[UPLINK, 101, d2.mac]],
    );
    // and to its own VXLAN network's container, never through a tunnel for the server itself
    const toX3 = fromServer({ eth_dst: DEFAULT_GATEWAY_MAC, ipv4_dst: x3.ip, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 });
    assert.deepEqual(
      fabric.trace('h3', toX3).outputs.map((o) => o.port),
      [portIn(full, 'x3')],
    );
    // x3's reply to the server leaves h3 on the VLAN, tagged 100, to the server's MAC
    const back = fabric.trace('h3', {
      ...tcp(full, 'x3', M1.ip, DEFAULT_GATEWAY_MAC),
      ip_proto: 1,
      icmpv4_type: 0,
      icmpv4_code: 0,
    } as Packet);
    assert.deepEqual(
      back.outputs.map((o) => [o.port, o.packet.vlan, o.packet.eth_dst]),
      [[UPLINK, TAG, M1.mac]],
    );
    assert.ok(!back.outputs.some((o) => o.port === VXLAN));
    // a frame of the server to c2 that the VLAN flooded to h3 (unknown unicast) is not sent back to it
    const c2 = ep(full, 'c2');
    const flooded = fromServer({ eth_dst: c2.mac, ipv4_dst: c2.ip, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 });
    assert.deepEqual(fabric.trace('h3', flooded).outputs, [], 'h3 takes the VLAN but sends nothing back to it');
    assert.deepEqual(
      fabric.trace('h2', flooded).outputs.map((o) => o.port),
      [portIn(full, 'c2')],
    );
  });
});

describe('external endpoints: policy', () => {
  const denyFromMetal = { direction: 'in', action: 'deny', priority: 10, protocol: '', port: 0, fromEndpointGroup: 'metal' };
  const denyFromIp = { direction: 'in', action: 'deny', priority: 10, protocol: '', port: 0, fromIpAddress: M1.ip };
  const denyToIp = { direction: 'out', action: 'deny', priority: 10, protocol: 'tcp', port: 80, toIpAddress: M1.ip };

  for (const [what, rule] of [
    ['as a member of its group', denyFromMetal],
    ['by its IP', denyFromIp],
  ] as const) {
    it(`an 'in' rule names the server ${what}: its packets to the group's containers are dropped, others pass`, () => {
      const { fabric, full } = fabricOf(world({ rules: [rule] }));
      const c1 = ep(full, 'c1');
      const syn = fromServer({ eth_dst: c1.mac, ipv4_dst: c1.ip, ip_proto: 6, tcp_src: 40000, tcp_dst: 80, tcp_flags: 0x02 });
      assert.deepEqual(serverSends(fabric, syn), [], 'denied on c1');
      // without the rule it passes
      const open = fabricOf(world());
      assert.equal(serverSends(open.fabric, syn).length, 1);
    });
  }

  it("an 'out' rule denies the group's containers the server's IP and port", () => {
    const { fabric, full } = fabricOf(world({ rules: [denyToIp] }));
    assert.deepEqual(fabric.trace('h1', tcp(full, 'c1', M1.ip, M1.mac, 80)).outputs, []);
    assert.deepEqual(
      fabric.trace('h1', tcp(full, 'c1', M1.ip, M1.mac, 22)).outputs.map((o) => o.port),
      [UPLINK],
    );
    // c2 -> c1 stays open: the rule names the server only
    const { deliveries } = fabric.send('h2', tcp(full, 'c2', ep(full, 'c1').ip, ep(full, 'c1').mac, 80));
    assert.deepEqual(
      deliveries.map((d) => [d.host, d.port]),
      [['h1', portIn(full, 'c1')]],
    );
    void receivedAs;
  });
});

function globalOf(b: ClusterBuilder): Record<string, unknown> {
  return b.state.objects.get('global')?.get('global')?.config as unknown as Record<string, unknown>;
}

function arpFrom(targetIp: string): Packet {
  return {
    in_port: UPLINK,
    vlan: TAG,
    eth_src: M1.mac,
    eth_dst: BCAST,
    eth_type: 0x0806,
    arp_op: 1,
    arp_spa: M1.ip,
    arp_sha: M1.mac,
    arp_tpa: targetIp,
    arp_tha: '00:00:00:00:00:00',
  };
}
