/**
 * Property tests over random clusters (tenants with overlapping subnets, VLAN and VXLAN networks,
 * endpoints spread over hosts, both forwarding and ARP modes): for every pair of endpoints, a
 * unicast packet reaches exactly the destination when they share a network (or, routing through
 * the gateway, a tenant) and nothing otherwise; a broadcast reaches exactly the other endpoints of
 * the network, each once; ARP is answered with the right MAC or not at all.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { Endpoint, HostState, Network } from '../../../netplugin/state/host-state';
import { checkedPipeline } from './checked-pipeline';
import { indexFlows } from '../../../netplugin/reconcile/flow-diff';
import { ClusterFabric, portIn } from './fixture';
import type { Packet } from '../../support/packet-tracer';

interface NetPlan {
  encap: 'vlan' | 'vxlan';
  gwMacPick: number;
  group: boolean;
  /** host index of each endpoint */
  endpoints: number[];
}

interface ClusterPlan {
  hosts: number;
  fwdMode: 'bridge' | 'routing';
  arpMode: 'proxy' | 'flood';
  tenants: NetPlan[][];
}

const GW_MACS = ['02:6e:6c:00:00:fe', '02:6e:6c:00:00:fd'];

const planArb: fc.Arbitrary<ClusterPlan> = fc.integer({ min: 2, max: 4 }).chain((hosts) =>
  fc.record({
    hosts: fc.constant(hosts),
    fwdMode: fc.constantFrom('bridge' as const, 'routing' as const),
    arpMode: fc.constantFrom('proxy' as const, 'flood' as const),
    tenants: fc.array(
      fc.array(
        fc.record({
          encap: fc.constantFrom('vlan' as const, 'vxlan' as const),
          gwMacPick: fc.integer({ min: 0, max: 1 }),
          group: fc.boolean(),
          endpoints: fc.array(fc.integer({ min: 0, max: hosts - 1 }), { maxLength: 4 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);

function build(plan: ClusterPlan): { state: HostState; hosts: Record<string, string> } {
  const hosts: Record<string, string> = {};
  for (let i = 0; i < plan.hosts; i++) hosts[`h${i}`] = `192.168.0.${i + 1}`;
  const networks: Network[] = [];
  const endpoints: Endpoint[] = [];
  const groups: HostState['groups'] = [];
  let gid = 0;
  plan.tenants.forEach((nets, t) => {
    const tenant = `t${t}`;
    nets.forEach((np, k) => {
      gid++;
      // every tenant numbers its subnets the same way: tenants overlap
      const key = `${tenant}:n${k}`;
      networks.push({
        key,
        tenant,
        name: `n${k}`,
        encap: np.encap,
        pktTag: np.encap === 'vlan' ? 100 + gid : 5000 + gid,
        subnet: `10.${k}.0.0/24`,
        gateway: `10.${k}.0.1`,
        ipv6Subnet: '',
        ipv6Gateway: '',
        nwType: 'data',
        networkId: gid,
        gatewayMac: GW_MACS[np.gwMacPick]!,
        mtu: 0,
      });
      if (np.group)
        groups.push({
          key: `${tenant}:g${k}`,
          tenant,
          name: `g${k}`,
          network: key,
          groupId: 100 + gid,
          policies: [],
          netProfile: '',
          pktTag: 0,
        });
      np.endpoints.forEach((h, j) => {
        const id = `${tenant}-n${k}-e${j}`;
        endpoints.push({
          id,
          network: key,
          group: np.group ? `${tenant}:g${k}` : '',
          host: `h${h}`,
          ip: `10.${k}.0.${10 + j}`,
          ipv6: '',
          mac: `02:00:00:${gid.toString(16).padStart(2, '0')}:00:${(10 + j).toString(16).padStart(2, '0')}`,
          intfName: `v${id}`,
          vtepIp: hosts[`h${h}`]!,
          containerId: id,
          containerName: id,
          labels: {},
          revision: 1,
        });
      });
    });
  });
  return {
    hosts,
    state: {
      global: { fwdMode: plan.fwdMode, arpMode: plan.arpMode, pvtSubnet: '', networkInfraType: 'default' },
      tenants: plan.tenants.map((_, t) => ({ name: `t${t}`, ctZone: 10 + t, vrfId: 1 + t })),
      networks,
      groups,
      policies: [],
      profiles: [],
      endpoints,
      vteps: Object.entries(hosts).map(([host, vtepIp]) => ({ host, vtepIp })),
      services: [],
    },
  };
}

function tenantOf(e: Endpoint): string {
  return e.network.split(':')[0]!;
}

function where(fabric: ClusterFabric, e: Endpoint): string {
  return `${e.host}:${portIn(fabric.full, e.id)}`;
}

describe('pipeline properties over random clusters', () => {
  it('unicast, broadcast and ARP reach exactly who they should', function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(planArb, (plan) => {
        const { state, hosts } = build(plan);
        const fabric = new ClusterFabric(state, hosts);
        for (const h of Object.keys(hosts)) indexFlows(checkedPipeline(fabric.inputs[h]!));
        const net = (e: Endpoint) => state.networks.find((n) => n.key === e.network)!;
        for (const src of state.endpoints) {
          const base = {
            in_port: portIn(state, src.id),
            eth_src: src.mac,
            eth_type: 0x0800,
            ipv4_src: src.ip,
            ip_proto: 17,
            udp_src: 1000,
            udp_dst: 2000,
            ip_ttl: 64,
          };
          for (const dst of state.endpoints) {
            // bridged unicast
            const bridged = fabric
              .send(src.host, { ...base, eth_dst: dst.mac, ipv4_dst: dst.ip } as Packet)
              .deliveries.map((d) => `${d.host}:${d.port}`);
            const sameNet = src.network === dst.network && src.id !== dst.id;
            assert.deepEqual(bridged, sameNet ? [where(fabric, dst)] : [], `bridged ${src.id} -> ${dst.id}`);
            // through the gateway
            const routed = fabric.send(src.host, { ...base, eth_dst: net(src).gatewayMac, ipv4_dst: dst.ip } as Packet).deliveries;
            // the owner of that address in the sender's tenant (tenants share addresses)
            const owner = state.endpoints.find((e) => tenantOf(e) === tenantOf(src) && e.ip === dst.ip);
            const routable = plan.fwdMode === 'routing' && owner !== undefined && owner.id !== src.id;
            assert.deepEqual(
              routed.map((d) => `${d.host}:${d.port}`),
              routable ? [where(fabric, owner)] : [],
              `routed ${src.id} -> ${dst.ip} (${dst.id})`,
            );
            if (routable) {
              assert.equal(routed[0]!.out.packet.eth_dst, owner.mac);
              assert.equal(routed[0]!.out.packet.eth_src, net(owner).gatewayMac);
              assert.equal(routed[0]!.out.packet.ip_ttl, 63);
            }
          }
          // broadcast
          const bcast = fabric
            .send(src.host, { ...base, eth_dst: 'ff:ff:ff:ff:ff:ff', ipv4_dst: '10.255.255.255' } as Packet)
            .deliveries.map((d) => `${d.host}:${d.port}`);
          const peers = state.endpoints.filter((e) => e.network === src.network && e.id !== src.id).map((e) => where(fabric, e));
          assert.deepEqual([...bcast].sort(), [...peers].sort(), `broadcast from ${src.id}`);
          // ARP
          const arp = (tpa: string) =>
            fabric.send(src.host, {
              in_port: base.in_port,
              eth_src: src.mac,
              eth_dst: 'ff:ff:ff:ff:ff:ff',
              eth_type: 0x0806,
              arp_op: 1,
              arp_spa: src.ip,
              arp_sha: src.mac,
              arp_tpa: tpa,
              arp_tha: '00:00:00:00:00:00',
            });
          const gw = arp(net(src).gateway).deliveries;
          assert.deepEqual(
            gw.map((d) => [d.port, d.out.packet.arp_op, d.out.packet.arp_sha]),
            [[base.in_port, 2, net(src).gatewayMac]],
            `gateway ARP from ${src.id}`,
          );
          for (const dst of state.endpoints) {
            if (dst.id === src.id) continue;
            const got = arp(dst.ip).deliveries;
            // the owner of that address in the asker's network (tenants share addresses; it may be the asker itself)
            const owner = state.endpoints.find((e) => e.network === src.network && e.ip === dst.ip);
            if (plan.arpMode === 'proxy') {
              assert.deepEqual(
                got.map((d) => [d.port, d.out.packet.arp_op, d.out.packet.arp_sha]),
                owner ? [[base.in_port, 2, owner.mac]] : [],
                `proxy ARP ${src.id} for ${dst.id}`,
              );
            } else {
              assert.deepEqual(got.map((d) => `${d.host}:${d.port}`).sort(), [...peers].sort(), `flood ARP ${src.id} for ${dst.id}`);
              assert.ok(got.every((d) => d.out.packet.arp_op === 1));
            }
          }
          assert.deepEqual(arp('10.200.0.1').deliveries.length, plan.arpMode === 'proxy' ? 0 : peers.length, 'ARP for an unknown address');
        }
      }),
      {
        numRuns: Number(process.env.PIPELINE_PROPERTY_RUNS ?? 40),
        ...(process.env.PIPELINE_PROPERTY_SEED === 'random' ? {} : { seed: 20261125 }),
      },
    );
  });
});
