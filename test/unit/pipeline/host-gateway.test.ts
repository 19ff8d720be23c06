/**
 * The tenants' gateway ports through the flows (features/host-gateway.ts), on host h1 of the
 * pipeline fixture: blue (vrf 1) and red (vrf 2) share the subnet 10.1.1.0/24 and the address
 * 10.1.1.10 (a1 and r1). Egress leaves by the tenant's own gateway port, the tenant's subnets never
 * do, the kernel's ARP is answered, packets from the host reach the right tenant's endpoint, the
 * replies of egress connections pass a default-deny ingress (established in the tenant's zone),
 * and a `-d out` rule with a CIDR governs an external destination.
 */
import { strict as assert } from 'node:assert';
import { gatewayPortMac, HOST_SIDE_ROUTER_MAC } from '../../../netplugin/hostnet/numbering';
import { FLOW_BUILDERS } from '../../../netplugin/pipeline/compute';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import type { HostState, Policy } from '../../../netplugin/state/host-state';
import { Conntrack, PacketTracer, type Packet, type TraceResult } from '../../support/packet-tracer';
import { checkedPipeline } from './checked-pipeline';
import { clusterState, endpoint, GW_MAC, hostInput, pkt, portOf, spanFor } from './fixture';

const NLGW1 = 50;
const NLGW2 = 51;
const HOST_IP = '192.168.0.1';
const SYN = 0x02;
const SYN_ACK = 0x12;

function withGateways(base: PipelineInput, gateways: Record<string, number> = { nlgw1: NLGW1, nlgw2: NLGW2 }): PipelineInput {
  return { state: base.state, local: { ...base.local, bridge: { ...base.local.bridge, gateways } } };
}

function h1(state?: HostState, ct?: Conntrack): PacketTracer {
  const input = withGateways(state ? hostInput('h1', state) : hostInput('h1'));
  return new PacketTracer(checkedPipeline(input), ct ? { conntrack: ct } : {});
}

const ports = (r: TraceResult) => r.outputs.map((o) => o.port);

/** What the host's kernel sends into a gateway port. */
function fromHost(port: number, dstIp: string, extra: Partial<Packet> = {}): Packet {
  return {
    in_port: port,
    eth_src: gatewayPortMac(port === NLGW1 ? 1 : 2),
    eth_dst: HOST_SIDE_ROUTER_MAC,
    eth_type: 0x0800,
    ipv4_src: HOST_IP,
    ipv4_dst: dstIp,
    ip_proto: 6,
    tcp_src: 40000,
    tcp_dst: 80,
    tcp_flags: SYN,
    ip_ttl: 64,
    ...extra,
  };
}

describe('pipeline: tenant gateway ports (egress, host access)', () => {
  it('an endpoint reaches an outside address through its own tenant gateway port (gateway MAC, TTL decremented)', () => {
    const t = h1();
    const blue = t.trace(pkt.ip('a1', '203.0.113.7', GW_MAC));
    assert.deepEqual(ports(blue), [NLGW1]);
    assert.equal(blue.outputs[0]!.packet.eth_dst, gatewayPortMac(1));
    assert.equal(blue.outputs[0]!.packet.eth_src, GW_MAC);
    assert.equal(blue.outputs[0]!.packet.ip_ttl, 63);
    assert.deepEqual(ports(t.trace(pkt.ip('r1', '203.0.113.7', GW_MAC))), [NLGW2], 'red (same address) leaves by its own port');
    assert.deepEqual(ports(t.trace(pkt.ip('v1', HOST_IP, GW_MAC))), [NLGW1], 'a VLAN network too, and the host address itself');
  });

  it("the tenant's own subnets never go to the kernel: an unknown address of another blue subnet is dropped", () => {
    const t = h1();
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '10.1.2.99', GW_MAC))), [], 'bridge mode: blue:db is not routed, and not sent to the host');
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '10.1.1.1', GW_MAC))), [], 'nor is TCP/UDP to the gateway address');
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '10.2.2.10', GW_MAC))), [], 'nor to a VLAN subnet of blue');
  });

  it('routing mode: routes between the networks win over the gateway port; unknown addresses of the tenant are dropped', () => {
    const full = clusterState({ fwdMode: 'routing' });
    const t = h1(spanFor('h1', full));
    assert.deepEqual(ports(t.trace(pkt.ip('a1', endpoint('b1').ip, GW_MAC))), [portOf('b1')]);
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '10.1.3.99', GW_MAC))), [], 'blue:iso (only remote endpoints) is still blue');
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '198.51.100.1', GW_MAC))), [NLGW1]);
  });

  it("the host kernel's ARP on a gateway port is answered for the tenant's local endpoints only", () => {
    const t = h1();
    const arp = (tpa: string): Packet => ({
      in_port: NLGW1,
      eth_src: gatewayPortMac(1),
      eth_dst: 'ff:ff:ff:ff:ff:ff',
      eth_type: 0x0806,
      arp_op: 1,
      arp_sha: gatewayPortMac(1),
      arp_spa: HOST_IP,
      arp_tpa: tpa,
      arp_tha: '00:00:00:00:00:00',
    });
    const r = t.trace(arp('10.1.1.10'));
    assert.deepEqual(ports(r), [NLGW1]);
    const reply = r.outputs[0]!.packet;
    assert.equal(reply.arp_op, 2);
    assert.equal(reply.arp_sha, HOST_SIDE_ROUTER_MAC);
    assert.equal(reply.arp_spa, '10.1.1.10');
    assert.equal(reply.arp_tpa, HOST_IP);
    assert.equal(reply.eth_dst, gatewayPortMac(1));
    assert.deepEqual(ports(t.trace(arp('10.1.1.11'))), [], 'a2 is on h2: not answered');
  });

  it("packets from the host reach the endpoint of the port's tenant (same address in two tenants)", () => {
    const t = h1();
    const blue = t.trace(fromHost(NLGW1, '10.1.1.10'));
    assert.deepEqual(ports(blue), [portOf('a1')]);
    assert.equal(blue.outputs[0]!.packet.eth_dst, endpoint('a1').mac);
    assert.equal(blue.outputs[0]!.packet.eth_src, GW_MAC);
    assert.deepEqual(ports(t.trace(fromHost(NLGW2, '10.1.1.10'))), [portOf('r1')]);
    assert.deepEqual(ports(t.trace(fromHost(NLGW1, '10.1.1.11'))), [], 'a remote endpoint is not reached from this host');
  });

  it('replies of egress connections pass a default-deny ingress policy; new connections from the host do not', () => {
    const full = clusterState();
    const deny: Policy = {
      key: 'blue:closed',
      tenant: 'blue',
      name: 'closed',
      rules: [
        {
          ruleId: '1',
          direction: 'in',
          priority: 1,
          action: 'deny',
          protocol: '',
          port: 0,
          fromGroup: '',
          toGroup: '',
          fromNetwork: '',
          toNetwork: '',
          fromIp: '0.0.0.0/0',
          toIp: '',
        },
      ],
    };
    full.policies = [deny];
    full.groups = full.groups.map((g) => (g.key === 'blue:front' ? { ...g, policies: ['closed'] } : g));
    const t = h1(spanFor('h1', full), new Conntrack());
    const out = t.trace(
      pkt.ip('a1', '203.0.113.7', GW_MAC, {
        ip_proto: 6,
        tcp_src: 40000,
        tcp_dst: 443,
        tcp_flags: SYN,
        udp_src: undefined,
        udp_dst: undefined,
      }),
    );
    assert.deepEqual(ports(out), [NLGW1]);
    const reply = t.trace(fromHost(NLGW1, '10.1.1.10', { ipv4_src: '203.0.113.7', tcp_src: 443, tcp_dst: 40000, tcp_flags: SYN_ACK }));
    assert.deepEqual(ports(reply), [portOf('a1')], 'the reply is established in the tenant zone');
    assert.deepEqual(ports(t.trace(fromHost(NLGW1, '10.1.1.10'))), [], 'a new connection from the host is denied by the rule');
  });

  it('a -d out deny rule with a CIDR holds for an external destination (policy before the gateway port)', () => {
    const full = clusterState();
    full.policies = [
      {
        key: 'blue:noext',
        tenant: 'blue',
        name: 'noext',
        rules: [
          {
            ruleId: '1',
            direction: 'out',
            priority: 1,
            action: 'deny',
            protocol: '',
            port: 0,
            fromGroup: '',
            toGroup: '',
            fromNetwork: '',
            toNetwork: '',
            fromIp: '',
            toIp: '203.0.113.0/24',
          },
        ],
      },
    ];
    full.groups = full.groups.map((g) => (g.key === 'blue:front' ? { ...g, policies: ['noext'] } : g));
    const t = h1(spanFor('h1', full));
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '203.0.113.7', GW_MAC))), []);
    assert.deepEqual(ports(t.trace(pkt.ip('a1', '198.51.100.7', GW_MAC))), [NLGW1]);
  });

  it('no flows for a tenant whose gateway port has no ofport yet, nor for tenants without a local endpoint', () => {
    const b = FLOW_BUILDERS.find((x) => x.name === 'hostGateway')!;
    assert.deepEqual(b.compute(withGateways(hostInput('h1'), {})), []);
    const flows = b.compute(withGateways(hostInput('h1'), { nlgw1: NLGW1 }));
    assert.ok(flows.length > 0);
    assert.ok(
      flows.every((f) => !JSON.stringify(f.match).includes(`"value":${NLGW2}`) && f.object !== 'r1'),
      'nothing of red',
    );
    const h3 = withGateways(hostInput('h3'), { nlgw1: NLGW1 });
    // h3's only endpoint (x3, blue:iso) has a gateway: it gets blue's port; nothing else
    assert.ok(b.compute(h3).every((f) => f.object === 'nlgw1' || f.object?.startsWith('blue:iso') || f.object === 'x3'));
  });
});
