/**
 * Service load balancing in the pipeline (features/service-lb.ts, services.ts), traced through
 * the fixture's hosts with their select groups: the service IP answered by ARP, new connections
 * spread over the providers and translated (DNAT on the client's host, over VXLAN to a remote
 * provider), the reply un-translated on the client's host, established connections kept on their
 * provider when the providers change, a service without provider sent to the agent through the
 * reject meter, policy's destination group the provider's. And the checks of the input.
 */
import { strict as assert } from 'node:assert';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { table } from '../../../netplugin/pipeline/tables';
import {
  desiredGroups,
  SERVICE_MAC,
  SERVICE_REJECT_METER_ID,
  serviceMeters,
  servicePorts,
  svcPortReg,
} from '../../../netplugin/pipeline/services';
import type { HostState, ServiceLB } from '../../../netplugin/state/host-state';
import { parseHostState } from '../../../netplugin/state/host-state';
import { OFPP } from '../../../ovs/openflow/messages';
import { encodeMessage } from '../../../ovs/openflow/codec';
import { groupMod } from '../../../netplugin/reconcile/group-reconciler';
import { isNetloomError } from '../../../lib/errors';
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';
import { Conntrack, PacketTracer, type Packet } from '../../support/packet-tracer';
import { checkedPipeline } from './checked-pipeline';
import {
  ClusterFabric,
  clusterState,
  GW_MAC,
  endpoint,
  HOSTS,
  hostInput,
  inputFor,
  NETWORKS,
  pkt,
  portOf,
  spanFor,
  VXLAN,
} from './fixture';

const SVC_IP = '10.1.1.100';
const EMPTY_IP = '10.1.1.101';
const SYN = 0x02;
const ACK = 0x10;

const WEB: ServiceLB = {
  key: 'blue:websvc',
  tenant: 'blue',
  network: 'blue:web',
  ip: SVC_IP,
  ports: [
    { port: 80, targetPort: 8080, protocol: 'tcp' },
    { port: 53, targetPort: 5353, protocol: 'udp' },
  ],
  providers: [
    { endpointId: 'a2', ip: endpoint('a2').ip },
    { endpointId: 'a3', ip: endpoint('a3').ip },
  ],
};
const EMPTY: ServiceLB = {
  key: 'blue:empty',
  tenant: 'blue',
  network: 'blue:web',
  ip: EMPTY_IP,
  ports: [{ port: 80, targetPort: 80, protocol: 'tcp' }],
  providers: [],
};

function withServices(services: ServiceLB[], base: HostState = clusterState()): HostState {
  return { ...base, services };
}

/** a1's TCP segment to the service (sent to the service MAC, as after ARP). */
function toService(srcPort: number, flags = SYN, ip = SVC_IP, port = 80): Packet {
  return pkt.ip('a1', ip, SERVICE_MAC, {
    ip_proto: 6,
    tcp_src: srcPort,
    tcp_dst: port,
    tcp_flags: flags,
    udp_src: undefined,
    udp_dst: undefined,
  });
}

/** h1's tracer for `state`, sharing `conntrack`, with select groups choosing `bucket` when given. */
function h1Tracer(state: HostState, conntrack: Conntrack, bucket?: number): PacketTracer {
  const input = inputFor('h1', HOSTS.h1, spanFor('h1', state), state);
  return new PacketTracer(checkedPipeline(input), {
    conntrack,
    groups: desiredGroups(input),
    ...(bucket === undefined ? {} : { selectBucket: () => bucket }),
  });
}

describe('service load balancing in the pipeline', () => {
  it('answers ARP for the service IP with the service MAC, for local endpoints', () => {
    const fab = new ClusterFabric(withServices([WEB]), { ...HOSTS });
    const r = fab.trace('h1', pkt.arpRequest('a1', SVC_IP));
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.port, portOf('a1'));
    assert.equal(o.packet.arp_sha, SERVICE_MAC);
    assert.equal(o.packet.arp_spa, SVC_IP);
    assert.equal(o.packet.arp_op, 2);
  });

  it('spreads new connections over the providers, translated to provider:targetPort on the client host', () => {
    const fab = new ClusterFabric(withServices([WEB]), { ...HOSTS });
    const seen = new Map<string, number>();
    for (let sp = 40000; sp < 40060; sp++) {
      const { deliveries } = fab.send('h1', toService(sp));
      assert.equal(deliveries.length, 1, `source port ${sp}: one delivery`);
      const d = deliveries[0]!;
      const who =
        d.host === 'h2' && d.port === portOf('a2') ? 'a2' : d.host === 'h1' && d.port === portOf('a3') ? 'a3' : `${d.host}:${d.port}`;
      const ep = endpoint(who);
      assert.equal(d.out.packet.ipv4_dst, ep.ip, 'destination is the provider');
      assert.equal(d.out.packet.tcp_dst, 8080, 'destination port is the target port');
      assert.equal(d.out.packet.eth_dst, ep.mac, 'the service MAC became the provider MAC');
      assert.equal(d.out.packet.ipv4_src, endpoint('a1').ip, 'the source is untouched');
      seen.set(who, (seen.get(who) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ['a2', 'a3'], `both providers get connections: ${JSON.stringify([...seen])}`);
  });

  it('the remote provider replies over VXLAN and the client gets it from the service address', () => {
    const fab = new ClusterFabric(withServices([WEB]), { ...HOSTS });
    // find a source port whose connection goes to a2 on h2
    let sp = 41000;
    while (fab.send('h1', toService(sp)).deliveries[0]!.host !== 'h2') sp++;
    const reply: Packet = {
      in_port: portOf('a2'),
      eth_src: endpoint('a2').mac,
      eth_dst: endpoint('a1').mac,
      eth_type: 0x0800,
      ipv4_src: endpoint('a2').ip,
      ipv4_dst: endpoint('a1').ip,
      ip_proto: 6,
      tcp_src: 8080,
      tcp_dst: sp,
      tcp_flags: SYN | ACK,
    };
    const { first, deliveries } = fab.send('h2', reply);
    assert.deepEqual(
      first.outputs.map((o) => o.port),
      [VXLAN],
      'h2 sends the reply to h1 untranslated',
    );
    assert.equal(first.outputs[0]!.packet.ipv4_src, endpoint('a2').ip);
    assert.equal(deliveries.length, 1);
    const d = deliveries[0]!;
    assert.deepEqual([d.host, d.port], ['h1', portOf('a1')]);
    assert.equal(d.out.packet.ipv4_src, SVC_IP, 'un-DNAT on the client host');
    assert.equal(d.out.packet.tcp_src, 80);
    // the client's next segment goes to the same provider, through the established path
    const again = fab.send('h1', toService(sp, ACK));
    assert.deepEqual(
      again.deliveries.map((x) => [x.host, x.port]),
      [['h2', portOf('a2')]],
    );
    assert.ok(
      again.first.steps.some((s) => s.tableName === 'serviceEndpoint' && s.object === 'blue:websvc:tcp/80>a2'),
      'counted on the provider flow',
    );
  });

  it('keeps an established connection on its provider when the provider leaves the service; new ones avoid it', () => {
    const ct = new Conntrack();
    const before = h1Tracer(withServices([WEB]), ct, 1); // bucket 1: a3 (providers sorted by id)
    const syn = before.trace(toService(42000));
    assert.deepEqual(
      syn.outputs.map((o) => [o.port, o.packet.ipv4_dst]),
      [[portOf('a3'), endpoint('a3').ip]],
    );
    const after = h1Tracer(withServices([{ ...WEB, providers: [{ endpointId: 'a2', ip: endpoint('a2').ip }] }]), ct, 0);
    const old = after.trace(toService(42000, ACK));
    assert.deepEqual(
      old.outputs.map((o) => [o.port, o.packet.ipv4_dst, o.packet.tcp_dst]),
      [[portOf('a3'), endpoint('a3').ip, 8080]],
      'the old connection stays on a3',
    );
    const fresh = after.trace(toService(42001));
    assert.deepEqual(
      fresh.outputs.map((o) => [o.port, o.packet.ipv4_dst]),
      [[VXLAN, endpoint('a2').ip]],
      'a new connection goes to a2',
    );
  });

  it('policy sees the provider: the destination group is looked up after DNAT', () => {
    const t = h1Tracer(withServices([WEB]), new Conntrack(), 1);
    const r = t.trace(toService(43000));
    const dst = r.steps.find((s) => s.tableName === 'dstClassify');
    assert.equal(dst?.object, 'a3', 'dstClassify found a3 (group blue:front)');
    assert.equal(r.outputs[0]!.regs[2], 11, 'reg2 holds the provider group');
    assert.equal(
      r.steps.find((s) => s.tableName === 'conntrack')?.object,
      'blue:tracked',
      'already tracked in the tenant zone by the service tables: no second ct()',
    );
    assert.deepEqual(
      r.steps.filter((s) => s.tableName.startsWith('service')).map((s) => `${s.tableName}:${s.object}`),
      ['serviceLB:blue:websvc:tcp/80', 'serviceEndpoint:blue:websvc:tcp/80', 'serviceDnat:blue:websvc:tcp/80>a3'],
    );
  });

  it('UDP ports are balanced too', () => {
    const t = h1Tracer(withServices([WEB]), new Conntrack(), 1);
    const r = t.trace(pkt.ip('a1', SVC_IP, SERVICE_MAC, { udp_src: 5000, udp_dst: 53 }));
    assert.deepEqual(
      r.outputs.map((o) => [o.port, o.packet.ipv4_dst, o.packet.udp_dst]),
      [[portOf('a3'), endpoint('a3').ip, 5353]],
    );
  });

  it('a service without provider sends new connections to the agent through the reject meter', () => {
    const state = withServices([WEB, EMPTY]);
    const t = h1Tracer(state, new Conntrack());
    const r = t.trace(toService(44000, SYN, EMPTY_IP));
    assert.deepEqual(
      r.outputs.map((o) => [o.port, o.packet.ipv4_dst]),
      [[OFPP.CONTROLLER, EMPTY_IP]],
    );
    assert.equal(r.steps.find((s) => s.tableName === 'serviceEndpoint')?.meterId, SERVICE_REJECT_METER_ID);
    const input = hostInput('h1', spanFor('h1', state));
    assert.deepEqual(
      serviceMeters(input).map((m) => m.meterId),
      [SERVICE_REJECT_METER_ID],
    );
    assert.deepEqual(serviceMeters(hostInput('h1', spanFor('h1', withServices([WEB])))), [], 'no meter while every service has providers');
  });

  it('hairpin: a local provider calling its own service reaches the other providers; alone, it is refused', () => {
    const fromA3 = (sp: number, ip = SVC_IP) =>
      pkt.ip('a3', ip, SERVICE_MAC, { ip_proto: 6, tcp_src: sp, tcp_dst: 80, tcp_flags: SYN, udp_src: undefined, udp_dst: undefined });
    const t = h1Tracer(withServices([WEB]), new Conntrack());
    for (let sp = 46000; sp < 46020; sp++) {
      const r = t.trace(fromA3(sp));
      assert.deepEqual(
        r.outputs.map((o) => [o.port, o.packet.ipv4_dst]),
        [[VXLAN, endpoint('a2').ip]],
        `source port ${sp}: to a2, never back to a3 itself`,
      );
    }
    const alone = h1Tracer(withServices([{ ...WEB, providers: [{ endpointId: 'a3', ip: endpoint('a3').ip }] }]), new Conntrack());
    assert.deepEqual(
      alone.trace(fromA3(46100)).outputs.map((o) => o.port),
      [OFPP.CONTROLLER],
      'the only provider calling itself is refused',
    );
    assert.deepEqual(
      alone.trace(toService(46101)).outputs.map((o) => o.port),
      [portOf('a3')],
      'while another client still reaches it',
    );
  });

  it('other traffic is untouched: a packet to the service IP on another port, and packets from other hosts', () => {
    const t = h1Tracer(withServices([WEB]), new Conntrack());
    const r = t.trace(toService(45000, SYN, SVC_IP, 81));
    assert.deepEqual(r.outputs, [], 'nothing listens on port 81 of the service');
    assert.ok(!r.steps.some((s) => s.tableName === 'serviceEndpoint'));
  });

  it('one select group per service port with providers, one bucket per provider, equal weights, resubmitting to serviceDnat', () => {
    const input = hostInput('h1', spanFor('h1', withServices([WEB, EMPTY])));
    const ports = servicePorts(input);
    const groups = desiredGroups(input);
    assert.equal(groups.length, 4, 'tcp/80 and udp/53 of websvc, each with its hairpin group for a3; none for the empty service');
    for (const g of groups.filter((x) => x.groupId <= 0xffff)) {
      const sp = ports.find((p) => p.index === g.groupId)!;
      assert.equal(g.groupType, 'select');
      assert.deepEqual(
        g.buckets.map((b) => b.weight),
        [1, 1],
      );
      for (const b of g.buckets) {
        const last = b.actions.at(-1)!;
        assert.deepEqual(last, { type: 'resubmit', inPort: OFPP.IN_PORT, table: table('serviceDnat') });
        const reg7 = b.actions.find((a) => a.type === 'set_field' && a.field.field === 'reg7');
        assert.deepEqual(reg7, { type: 'set_field', field: { field: 'reg7', value: svcPortReg(sp.index, sp.port.targetPort) } });
      }
    }
    const hairpins = groups.filter((x) => x.groupId > 0xffff);
    assert.deepEqual(
      hairpins.map((g) => [g.groupId >>> 16, g.buckets.length]),
      [
        [portOf('a3'), 1],
        [portOf('a3'), 1],
      ],
      "a3's hairpin groups (its ofport in the high half) hold only a2",
    );
  });

  it('a service port keeps its index (and group id) when other services come and go', () => {
    const idx = (services: ServiceLB[]) =>
      Object.fromEntries(servicePorts(hostInput('h1', spanFor('h1', withServices(services)))).map((p) => [p.name, p.index]));
    const alone = idx([WEB]);
    const both = idx([WEB, EMPTY]);
    for (const [name, i] of Object.entries(alone)) assert.equal(both[name], i, name);
  });

  it('providers this host cannot deliver to, or does not know yet, are left out of the buckets', () => {
    // x3 is in blue:iso, a network h1 has no endpoint in (bridge mode: not reachable)
    // and zz is not in the state at all (a provider whose endpoint has not reached this host's view yet)
    const svc: ServiceLB = {
      ...WEB,
      providers: [...WEB.providers, { endpointId: 'x3', ip: endpoint('x3').ip }, { endpointId: 'zz', ip: '10.1.1.99' }],
    };
    const state = withServices([svc]);
    const input = inputFor('h1', HOSTS.h1, state, state);
    const tcp = servicePorts(input).find((p) => p.port.protocol === 'tcp')!;
    assert.deepEqual(
      tcp.providers.map((p) => p.endpointId),
      ['a2', 'a3'],
    );
  });

  it('a large service: 1000 providers (the most) make a group of 1000 buckets in one group_mod; 1001 are refused naming the field', () => {
    const base = clusterState();
    const big = { ...NETWORKS[0]!, key: 'blue:big', name: 'big', pktTag: 5009, networkId: 9, subnet: '10.8.0.0/16', gateway: '10.8.0.1' };
    // providers on h2 (h1 reaches them over VXLAN), the first on h1 (so that h1 carries the network)
    const eps = Array.from({ length: SERVICE_PROVIDERS_MAX + 1 }, (_, i) => ({
      ...endpoint(i === 0 ? 'a1' : 'a2'),
      id: `big${i}`,
      network: 'blue:big',
      group: '',
      ip: `10.8.${1 + (i >> 8)}.${i & 255}`,
      mac: `02:00:08:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      intfName: `veth-big${i}`,
      containerId: `c-big${i}`,
      containerName: `big${i}`,
    }));
    const svc = (n: number): ServiceLB => ({
      key: 'blue:big',
      tenant: 'blue',
      network: 'blue:big',
      ip: '10.8.0.100',
      ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }],
      providers: eps.slice(0, n).map((e) => ({ endpointId: e.id, ip: e.ip })),
    });
    const state = (n: number): HostState => ({
      ...base,
      networks: [...base.networks, big],
      endpoints: [...base.endpoints, ...eps],
      services: [svc(n)],
    });
    const input = inputFor('h1', HOSTS.h1, state(SERVICE_PROVIDERS_MAX));
    const [group] = desiredGroups(input);
    assert.equal(group!.buckets.length, SERVICE_PROVIDERS_MAX);
    const bytes = encodeMessage(groupMod('add', group!)).length;
    assert.ok(bytes <= 0xffff, `${bytes} bytes fit one OpenFlow message`);
    assert.equal(bytes, 16 + 64 * SERVICE_PROVIDERS_MAX, 'a 16-byte header and 64 bytes per bucket: 1023 buckets at most');
    assert.throws(
      () => desiredGroups(inputFor('h1', HOSTS.h1, state(SERVICE_PROVIDERS_MAX + 1))),
      (e: unknown) => isNetloomError(e) && e.field === 'services[0].providers' && /1001 providers are more than the 1000/.test(e.message),
    );
  });

  it('rejects inconsistent services naming the field', () => {
    const compute = (services: ServiceLB[]) => () => computePipeline(hostInput('h1', { ...spanFor('h1', clusterState()), services }));
    assert.throws(compute([{ ...WEB, tenant: 'green' }]), /services\[0\]\.tenant: unknown tenant 'green'/);
    assert.throws(compute([{ ...WEB, ip: endpoint('a1').ip }]), /services\[0\]\.ip: 10\.1\.1\.10 is the address of endpoint a1/);
    assert.throws(compute([{ ...WEB, ip: '10.1.1.1' }]), /services\[0\]\.ip: 10\.1\.1\.1 is the gateway/);
    assert.throws(
      compute([WEB, { ...WEB, key: 'blue:other' }]),
      /services\[1\]\.ports\[0\]: blue tcp 10\.1\.1\.100:80 is also a port of service blue:websvc/,
    );
    assert.throws(compute([WEB, WEB]), /services\[1\]\.key/);
  });

  it('parses services from the wire, naming the bad field', () => {
    const raw = (svc: Record<string, unknown>) => parseHostState({ services: [{ ...WEB, ...svc }] });
    assert.deepEqual(raw({}).services, [WEB]);
    assert.deepEqual(parseHostState({}).services, [], 'absent: none');
    assert.throws(
      () => raw({ ports: [{ port: 80, targetPort: 80, protocol: 'sctp' }] }),
      /services\.0\.ports\.0\.protocol|services\[0\]\.ports\[0\]\.protocol/,
    );
    assert.throws(() => raw({ ports: [{ port: 0, targetPort: 80, protocol: 'tcp' }] }), /port must be 1\.\.65535/);
    assert.throws(() => raw({ ports: [{ port: 80, targetPort: 70000, protocol: 'tcp' }] }), /targetPort/);
    assert.throws(() => raw({ ip: '10.1.1' }), /service ip must be a dotted-quad/);
    assert.throws(() => raw({ providers: [{ endpointId: 'a2', ip: 'x' }] }), /provider ip/);
    assert.throws(
      () =>
        raw({
          ports: [
            { port: 80, targetPort: 80, protocol: 'tcp' },
            { port: 80, targetPort: 81, protocol: 'tcp' },
          ],
        }),
      /tcp\/80 is listed twice/,
    );
    assert.throws(() => raw({ providers: [WEB.providers[0], WEB.providers[0]] }), /provider a2 is listed twice/);
  });

  it("conntrack looks up with nat only replies from a provider's target port (nat on every lookup let a denied UDP flow through)", () => {
    const natLookups = (state: HostState) =>
      computePipeline(hostInput('h1', spanFor('h1', state)))
        .filter((f) => f.table === table('conntrack'))
        .filter((f) =>
          f.instructions.some(
            (i) => i.type === 'apply_actions' && i.actions.some((a) => a.type === 'ct' && a.actions.some((n) => n.type === 'nat')),
          ),
        )
        .map((f) => f.object);
    assert.deepEqual(natLookups(withServices([])), [], 'no service: no lookup translates');
    assert.deepEqual(
      natLookups(withServices([WEB])).sort(),
      [
        `blue:reply:${endpoint('a2').ip}:tcp/8080`,
        `blue:reply:${endpoint('a2').ip}:udp/5353`,
        `blue:reply:${endpoint('a3').ip}:tcp/8080`,
        `blue:reply:${endpoint('a3').ip}:udp/5353`,
      ].sort(),
      'one lookup with nat per provider and target port, nothing else',
    );
  });

  it('a Kubernetes cluster IP outside every subnet: sent to the gateway MAC, translated to each provider at its own port', () => {
    const kube: ServiceLB = {
      key: 'kube:default/web',
      tenant: 'blue',
      network: '',
      kube: true,
      ip: '10.96.0.10',
      ports: [{ name: 'http', port: 80, targetPort: 8081, protocol: 'tcp', nodePort: 0 }],
      providers: [
        { endpointId: 'a2', ip: endpoint('a2').ip, targetPorts: [8081] },
        { endpointId: 'a3', ip: endpoint('a3').ip, targetPorts: [9091] },
      ],
    };
    const fab = new ClusterFabric(withServices([kube]), { ...HOSTS });
    const seen = new Map<string, number>();
    for (let sp = 42000; sp < 42040; sp++) {
      const { deliveries } = fab.send('h1', { ...toService(sp, SYN, '10.96.0.10'), eth_dst: GW_MAC });
      assert.equal(deliveries.length, 1, `source port ${sp}: one delivery`);
      const d = deliveries[0]!;
      const who = d.host === 'h2' ? 'a2' : 'a3';
      assert.equal(d.out.packet.ipv4_dst, endpoint(who).ip);
      assert.equal(d.out.packet.tcp_dst, who === 'a2' ? 8081 : 9091, "the provider's own target port");
      assert.equal(d.out.packet.eth_dst, endpoint(who).mac, 'the gateway MAC became the provider MAC');
      seen.set(who, (seen.get(who) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ['a2', 'a3']);
    assert.deepEqual(
      parseHostState({ services: [kube] }).services,
      [kube],
      'the wire form with no network is taken for a Kubernetes Service',
    );
    assert.throws(() => parseHostState({ services: [{ ...kube, kube: false }] }), /service network is required/);
  });
});
