/**
 * Contiv's policy cases (netplugin/contiv-policy-cases.ts), and the lab's case table that the
 * real-traffic test sends (test/support/policy-cases.ts), through the flows themselves: each host
 * computes its pipeline from netmaster's view of it, the hosts' pipelines are wired together
 * (VXLAN by tun_dst) and each packet is traced from the source's port to wherever it goes. A
 * packet allowed is delivered to the destination's port and its reply comes back (stateful), a
 * packet denied is delivered nowhere; the rule that decided is the one the trace names. Routing
 * mode, so that the cases' cross-network pairs are reachable at all.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { DEFAULT_GATEWAY_MAC } from '../../../netplugin/pipeline/input';
import { table } from '../../../netplugin/pipeline/tables';
import { parseHostState, type Endpoint, type HostState, type Network } from '../../../netplugin/state/host-state';
import type { Protocol } from '../../../lib/policy/model';
import { Conntrack, PacketTracer, receivedAs, type Packet, type TraceResult } from '../../support/packet-tracer';
import { checkedPipeline } from './checked-pipeline';
import { CASES, reference, withRules, world } from '../netplugin/contiv-policy-cases';
import { ClusterFabric, portIn, VXLAN } from './fixture';
import type { ClusterBuilder } from '../agent-api/fixtures';
import { CASES as LAB_CASES, cellName, expectedMatrix, TOPOLOGY } from '../../support/policy-cases';
import { cluster } from '../netplugin/policy-case-cluster';

const VTEPS = { h1: '192.168.0.1', h2: '192.168.0.2', h3: '192.168.0.3' };

function fabricOf(b: ClusterBuilder, vteps: Record<string, string> = VTEPS): { fabric: ClusterFabric; full: HostState } {
  const views = Object.fromEntries(
    Object.keys(vteps).map((h) => {
      const v = parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, h))));
      // the cluster fixture's endpoints have no interface name; a plugged port needs one
      return [h, { ...v, endpoints: v.endpoints.map((e) => ({ ...e, intfName: e.intfName || `v-${e.id}` })) }];
    }),
  );
  // every endpoint once, to number the ports the same way on every host
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
  return { fabric: new ClusterFabric(full, vteps, (h) => views[h]!), full };
}

function packet(full: HostState, from: string, to: string, protocol: Protocol, port: number | undefined, reply = false): Packet {
  const [s, d] = [from, to].map((id) => full.endpoints.find((e) => e.id === id)!) as [Endpoint, Endpoint];
  const net = full.networks.find((n) => n.key === s.network)!;
  const ethDst = s.network === d.network ? d.mac : (net.gatewayMac || DEFAULT_GATEWAY_MAC).toLowerCase();
  const base = {
    in_port: portIn(full, s.id),
    eth_src: s.mac,
    eth_dst: ethDst,
    eth_type: 0x0800,
    ipv4_src: s.ip,
    ipv4_dst: d.ip,
    ip_ttl: 64,
  };
  const sport = 40000;
  if (protocol === 'tcp')
    return reply
      ? { ...base, ip_proto: 6, tcp_src: port!, tcp_dst: sport, tcp_flags: 0x12 }
      : { ...base, ip_proto: 6, tcp_src: sport, tcp_dst: port!, tcp_flags: 0x02 };
  if (protocol === 'udp')
    return reply ? { ...base, ip_proto: 17, udp_src: port!, udp_dst: sport } : { ...base, ip_proto: 17, udp_src: sport, udp_dst: port! };
  return { ...base, ip_proto: 1, icmpv4_type: reply ? 0 : 8, icmpv4_code: 0 };
}

describe('policy through the flows: Contiv cases traced across hosts', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const b = withRules(world().global('routing'), c.rules);
      const { fabric, full } = fabricOf(b);
      for (const [from, to, proto, port, want] of c.expect) {
        const what = `${from} -> ${to} ${String(proto)}${port !== undefined ? `/${port}` : ''}`;
        const dst = full.endpoints.find((e) => e.id === to)!;
        const src = full.endpoints.find((e) => e.id === from)!;
        const sent = fabric.send(src.host, packet(full, from, to, proto, port));
        const delivered = sent.deliveries.some((d) => d.host === dst.host && d.port === portIn(full, to));
        assert.equal(delivered ? 'allow' : 'deny', want, what);
        if (want === 'allow') {
          const back = fabric.send(dst.host, packet(full, to, from, proto, port, true));
          assert.ok(
            back.deliveries.some((d) => d.host === src.host && d.port === portIn(full, from)),
            `${what}: the reply comes back (conntrack)`,
          );
        } else {
          // the rule that decided, as the trace names it on the host that dropped the packet
          const hops = [sent.first];
          for (const o of sent.first.outputs)
            if (o.port === VXLAN)
              hops.push(fabric.trace(dst.host, receivedAs(o, VXLAN, { tunSrc: VTEPS[src.host as keyof typeof VTEPS] })));
          const named = hops
            .flatMap((h) => h.steps)
            .filter((st) => st.table === table('egressPolicy') || st.table === table('ingressPolicy'))
            .map((st) => st.object)
            .filter((o) => o?.startsWith('t1:'));
          assert.deepEqual(named, [reference(b, from, to, proto, port).decidedBy?.id], `${what}: the deciding rule`);
        }
      }
    });
  }
});

describe('policy through the flows: established connections across policy changes', () => {
  /** h1's pipeline for `rules`, tracing with the connections of `ct` */
  function h1(rules: Parameters<typeof withRules>[1], ct: Conntrack): { tracer: PacketTracer; full: HostState } {
    const { fabric, full } = fabricOf(withRules(world(), rules));
    return { tracer: new PacketTracer(checkedPipeline(fabric.inputs.h1!), { conntrack: ct }), full };
  }
  const delivered = (r: TraceResult, port: number) => r.outputs.some((o) => o.port === port);
  const data = (p: Packet): Packet => ({ ...p, tcp_flags: 0x10 });

  it('a change that keeps a connection allowed passes its next packet (re-evaluated, committed with the new generation); a deny cuts it both ways', () => {
    const ct = new Conntrack();
    const before = h1([], ct);
    const full = before.full;
    const [web, nog] = [portIn(full, 'web'), portIn(full, 'nog')];
    assert.ok(delivered(before.tracer.trace(packet(full, 'web', 'nog', 'tcp', 80)), nog), 'SYN');
    assert.ok(delivered(before.tracer.trace(packet(full, 'nog', 'web', 'tcp', 80, true)), web), 'SYN-ACK');
    const marks = () => ct.entries().map((e) => e.mark);
    const genBefore = marks()[0];

    const other = h1(
      [{ policy: 'pw', id: 'ssh', direction: 'out', action: 'deny', toIpAddress: '10.1.0.40', protocol: 'tcp', port: 22 }],
      ct,
    );
    assert.ok(delivered(other.tracer.trace(data(packet(full, 'web', 'nog', 'tcp', 80))), nog), 'still allowed after an unrelated rule');
    assert.notEqual(marks()[0], genBefore, 're-committed with the new generation');
    assert.ok(delivered(other.tracer.trace(data(packet(full, 'nog', 'web', 'tcp', 80, true))), web), 'reply');

    const deny = h1(
      [{ policy: 'pw', id: 'web', direction: 'out', action: 'deny', toIpAddress: '10.1.0.40', protocol: 'tcp', port: 80 }],
      ct,
    );
    assert.ok(!delivered(deny.tracer.trace(data(packet(full, 'web', 'nog', 'tcp', 80))), nog), 'the established connection is cut');
    assert.ok(!delivered(deny.tracer.trace(data(packet(full, 'nog', 'web', 'tcp', 80, true))), web), 'and its replies too');
    assert.equal(marks()[0]! >>> 31, 1, 'marked denied');
  });

  it('once ovs-vswitchd has forgotten its connections, a denied one stays denied whichever side sends first; a new SYN is judged', () => {
    const ct = new Conntrack();
    const { tracer, full } = h1([], ct);
    const [web, nog] = [portIn(full, 'web'), portIn(full, 'nog')];
    assert.ok(delivered(tracer.trace(packet(full, 'web', 'nog', 'tcp', 80)), nog), 'SYN');
    assert.ok(delivered(tracer.trace(packet(full, 'nog', 'web', 'tcp', 80, true)), web), 'SYN-ACK');
    const deny = h1(
      [{ policy: 'pw', id: 'web', direction: 'out', action: 'deny', toIpAddress: '10.1.0.40', protocol: 'tcp', port: 80 }],
      ct,
    );
    assert.ok(!delivered(deny.tracer.trace(data(packet(full, 'web', 'nog', 'tcp', 80))), nog), 'cut');
    ct.flush(); // ovs-vswitchd restarted: its userspace conntrack is empty
    // the server's retransmission comes first: picked up as a connection from nog, which web's rules
    // (egress only) would let in, and web's segments would then be its replies
    const serverFirst = deny.tracer.trace(data(packet(full, 'nog', 'web', 'tcp', 80, true)));
    assert.ok(!delivered(serverFirst, web), "the server's segment does not bring the connection back");
    assert.match(serverFirst.steps.at(-1)!.object ?? '', /^pickup:to:/);
    assert.ok(!delivered(deny.tracer.trace(data(packet(full, 'web', 'nog', 'tcp', 80))), nog), "nor does the client's");
    assert.equal(ct.size, 0, 'nothing was committed');
    const syn = deny.tracer.trace(packet(full, 'web', 'nog', 'tcp', 80));
    assert.ok(!delivered(syn, nog), 'a new connection is judged by the rules: denied');
    assert.ok(syn.steps.some((st) => st.tableName === 'egressPolicy'));
  });
});

describe("policy through the flows: the lab's case table, every cell traced across the hosts", () => {
  const vteps = Object.fromEntries(TOPOLOGY.hosts.map((h, i) => [h, `192.168.0.${i + 1}`]));
  for (const c of LAB_CASES) {
    it(c.name, () => {
      const { fabric, full } = fabricOf(cluster(c), vteps);
      const wrong: string[] = [];
      for (const cell of expectedMatrix(TOPOLOGY, c)) {
        // each probe is a connection of its own (the tracer keys ICMP by addresses only: an earlier ping the other way would be its reply)
        for (const t of Object.values(fabric.tracers)) t.conntrack.flush();
        const [proto, port] = cell.probe === 'ping' ? (['icmp', undefined] as const) : (cell.probe.split('/') as ['tcp' | 'udp', string]);
        const sent = fabric.send(
          cell.from.host,
          packet(full, cell.from.name, cell.to.name, proto, port === undefined ? undefined : Number(port)),
        );
        const got = sent.deliveries.some((d) => d.host === cell.to.host && d.port === portIn(full, cell.to.name)) ? 'pass' : 'deny';
        if (got !== cell.verdict) wrong.push(`${cellName(cell)}: expected ${cell.verdict}, the flows ${got}`);
      }
      assert.deepEqual(wrong, []);
    });
  }
});
