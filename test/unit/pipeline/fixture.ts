/**
 * A small cluster for pipeline scenario tests: two tenants (blue, red) whose web networks share a
 * subnet and addresses, VXLAN and VLAN networks, four hosts. `hostInput` gives a host the state
 * netmaster would send it (the networks its endpoints use, their endpoints, the VTEPs of hosts in
 * them) with its own ports, like a real agent; `Fabric` wires the hosts' tracers together through
 * the uplink (a VLAN trunk) and the underlay (VXLAN by tun_dst).
 */
import type { Endpoint, Global, HostState, NetProfile, Network } from '../../../netplugin/state/host-state';
import { parseHostState, parseLocalFacts } from '../../../netplugin/state/host-state';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { desiredGroups } from '../../../netplugin/pipeline/services';
import { checkedPipeline } from './checked-pipeline';
import { PacketTracer, Packet, TraceOutput, TraceResult, receivedAs } from '../../support/packet-tracer';

export const UPLINK = 1;
export const VXLAN = 2;

export const HOSTS = {
  h1: '192.168.0.1',
  h2: '192.168.0.2',
  h3: '192.168.0.3',
  h4: '192.168.0.4',
} as const;
export type HostName = keyof typeof HOSTS;

export const GW_MAC = '02:6e:6c:00:00:fe';

function net(tenant: string, name: string, encap: 'vlan' | 'vxlan', pktTag: number, networkId: number, subnet: string): Network {
  const gateway = subnet.replace(/\.0\/24$/, '.1');
  return {
    key: `${tenant}:${name}`,
    tenant,
    name,
    encap,
    pktTag,
    subnet,
    gateway,
    ipv6Subnet: '',
    ipv6Gateway: '',
    nwType: 'data',
    networkId,
    gatewayMac: GW_MAC,
    mtu: 0,
    nat: true,
  };
}

export const NETWORKS: Network[] = [
  net('blue', 'web', 'vxlan', 5001, 1, '10.1.1.0/24'),
  net('blue', 'db', 'vxlan', 5002, 2, '10.1.2.0/24'),
  net('red', 'web', 'vxlan', 6001, 3, '10.1.1.0/24'),
  net('blue', 'vl', 'vlan', 100, 4, '10.2.1.0/24'),
  net('blue', 'vl2', 'vlan', 101, 5, '10.2.2.0/24'),
  net('blue', 'iso', 'vxlan', 5003, 6, '10.1.3.0/24'),
];

function ep(id: string, network: string, host: HostName, ip: string, macSuffix: string, group = ''): Endpoint {
  return {
    id,
    network,
    group,
    host,
    ip,
    ipv6: '',
    mac: `02:00:00:00:${macSuffix}`,
    intfName: `veth-${id}`,
    vtepIp: HOSTS[host],
    containerId: `c-${id}`,
    containerName: id,
    labels: {},
    revision: 1,
    external: false,
  };
}

/**
 * Netprofiles: blue:front's meters and marks (burst in kbytes, as Contiv's), blue:back's only
 * marks, red:front's only meters (no burst given: the switch's one second of rate).
 */
export const PROFILES: NetProfile[] = [
  { key: 'blue:gold', tenant: 'blue', name: 'gold', bandwidthKbps: 20000, burstKb: 625, dscp: 46 },
  { key: 'blue:marked', tenant: 'blue', name: 'marked', bandwidthKbps: 0, burstKb: 0, dscp: 10 },
  { key: 'red:slow', tenant: 'red', name: 'slow', bandwidthKbps: 1000, burstKb: 0, dscp: 0 },
];

/** Every endpoint of the cluster. a* blue:web, b* blue:db, r* red:web (same IPs as a*), v* blue:vl, w* blue:vl2, x* blue:iso. */
export const ENDPOINTS: Endpoint[] = [
  ep('a1', 'blue:web', 'h1', '10.1.1.10', '01:0a', 'blue:front'),
  ep('a3', 'blue:web', 'h1', '10.1.1.12', '01:0c', 'blue:front'),
  ep('a2', 'blue:web', 'h2', '10.1.1.11', '01:0b', 'blue:front'),
  ep('a4', 'blue:web', 'h4', '10.1.1.13', '01:0d'),
  ep('b1', 'blue:db', 'h1', '10.1.2.10', '02:0a', 'blue:back'),
  ep('b2', 'blue:db', 'h2', '10.1.2.11', '02:0b', 'blue:back'),
  ep('r1', 'red:web', 'h1', '10.1.1.10', '03:0a', 'red:front'),
  ep('r2', 'red:web', 'h2', '10.1.1.11', '03:0b', 'red:front'),
  ep('v1', 'blue:vl', 'h1', '10.2.1.10', '04:0a'),
  ep('v2', 'blue:vl', 'h2', '10.2.1.11', '04:0b'),
  ep('w1', 'blue:vl2', 'h1', '10.2.2.10', '05:0a'),
  ep('w2', 'blue:vl2', 'h2', '10.2.2.11', '05:0b'),
  ep('x3', 'blue:iso', 'h3', '10.1.3.10', '06:0a'),
];

export function endpoint(id: string): Endpoint {
  const e = ENDPOINTS.find((x) => x.id === id);
  if (!e) throw new Error(`no endpoint ${id}`);
  return e;
}

/** The OpenFlow port of a local endpoint: 10 + its index on its host. */
export function portOf(id: string): number {
  const e = endpoint(id);
  return 10 + ENDPOINTS.filter((x) => x.host === e.host).findIndex((x) => x.id === id);
}

/** The whole cluster's state (what netmaster knows). */
export function clusterState(global: Partial<Global> = {}): HostState {
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy', pvtSubnet: '172.19.0.0/16', networkInfraType: 'default', ...global },
    tenants: [
      { name: 'blue', ctZone: 101, vrfId: 1 },
      { name: 'red', ctZone: 102, vrfId: 2 },
    ],
    networks: NETWORKS,
    groups: [
      { key: 'blue:front', tenant: 'blue', name: 'front', network: 'blue:web', groupId: 11, policies: [], netProfile: 'gold', pktTag: 0 },
      { key: 'blue:back', tenant: 'blue', name: 'back', network: 'blue:db', groupId: 12, policies: [], netProfile: 'marked', pktTag: 0 },
      { key: 'red:front', tenant: 'red', name: 'front', network: 'red:web', groupId: 21, policies: [], netProfile: 'slow', pktTag: 0 },
    ],
    policies: [],
    profiles: PROFILES,
    endpoints: ENDPOINTS,
    vteps: (Object.keys(HOSTS) as HostName[]).map((h) => ({ host: h, vtepIp: HOSTS[h] })),
    services: [],
  };
}

/**
 * The span netmaster sends a host: the networks its endpoints use (in routing mode, all networks
 * of those tenants), their endpoints, the VTEPs of the other hosts in them.
 */
export function spanFor(host: string, full: HostState): HostState {
  const own = full.endpoints.filter((e) => e.host === host);
  const routing = full.global.fwdMode === 'routing';
  const ownTenants = new Set(own.map((e) => e.network.split(':')[0]));
  const nets = full.networks.filter((n) => own.some((e) => e.network === n.key) || (routing && ownTenants.has(n.tenant)));
  const netKeys = new Set(nets.map((n) => n.key));
  const endpoints = full.endpoints.filter((e) => netKeys.has(e.network));
  const peers = new Set(endpoints.filter((e) => e.host !== host).map((e) => e.host));
  return {
    ...full,
    tenants: full.tenants.filter((t) => nets.some((n) => n.tenant === t.name)),
    networks: nets,
    groups: full.groups.filter((g) => netKeys.has(g.network)),
    endpoints,
    vteps: full.vteps.filter((v) => peers.has(v.host)),
    services: full.services.filter((s) => ownTenants.has(s.tenant)),
  };
}

/** The OpenFlow port of a local endpoint in any state: 10 + its index among its host's endpoints. */
export function portIn(state: HostState, id: string): number {
  const e = state.endpoints.find((x) => x.id === id);
  if (!e) throw new Error(`no endpoint ${id}`);
  return 10 + state.endpoints.filter((x) => x.host === e.host).findIndex((x) => x.id === id);
}

/** A host's pipeline input from a state and its ports (ports numbered by `portIn` over `numbering`). */
export function inputFor(host: string, vtepIp: string, state: HostState, numbering: HostState = state): PipelineInput {
  const ports: Record<string, { ofport: number; intfName: string }> = {};
  for (const e of state.endpoints) if (e.host === host) ports[e.id] = { ofport: portIn(numbering, e.id), intfName: e.intfName };
  return {
    state: parseHostState(JSON.parse(JSON.stringify(state))),
    local: parseLocalFacts({ hostName: host, vtepIp, ports, bridge: { uplink: UPLINK, vxlan: VXLAN } }),
  };
}

/** A host's pipeline input, from a state (by default its span of the cluster) and its ports. */
export function hostInput(host: HostName, state: HostState = spanFor(host, clusterState())): PipelineInput {
  return inputFor(host, HOSTS[host], state, clusterState());
}

/** Packets an endpoint would send. */
export const pkt = {
  ip(from: string, toIp: string, toMac: string, extra: Partial<Packet> = {}): Packet {
    const s = endpoint(from);
    return {
      in_port: portOf(from),
      eth_src: s.mac,
      eth_dst: toMac,
      eth_type: 0x0800,
      ipv4_src: s.ip,
      ipv4_dst: toIp,
      ip_proto: 17,
      udp_src: 40000,
      udp_dst: 53,
      ip_ttl: 64,
      ...extra,
    };
  },
  to(from: string, to: string, extra: Partial<Packet> = {}): Packet {
    const d = endpoint(to);
    return pkt.ip(from, d.ip, d.mac, extra);
  },
  arpRequest(from: string, targetIp: string, extra: Partial<Packet> = {}): Packet {
    const s = endpoint(from);
    return {
      in_port: portOf(from),
      eth_src: s.mac,
      eth_dst: 'ff:ff:ff:ff:ff:ff',
      eth_type: 0x0806,
      arp_op: 1,
      arp_spa: s.ip,
      arp_sha: s.mac,
      arp_tpa: targetIp,
      arp_tha: '00:00:00:00:00:00',
      ...extra,
    };
  },
};

export interface Delivery {
  host: string;
  port: number;
  out: TraceOutput;
}

/** Hosts' pipelines wired together: uplinks on one VLAN trunk, VXLAN ports by VTEP address. */
export class ClusterFabric {
  readonly tracers: Record<string, PacketTracer>;
  readonly inputs: Record<string, PipelineInput>;

  /** `hosts`: host name -> VTEP address; each host gets `stateOf(host, full)` */
  constructor(
    readonly full: HostState,
    readonly hosts: Record<string, string>,
    stateOf: (h: string, full: HostState) => HostState = spanFor,
  ) {
    const names = Object.keys(hosts);
    this.inputs = Object.fromEntries(names.map((h) => [h, inputFor(h, hosts[h]!, stateOf(h, full), full)]));
    this.tracers = Object.fromEntries(
      names.map((h) => [h, new PacketTracer(checkedPipeline(this.inputs[h]!), { groups: desiredGroups(this.inputs[h]!) })]),
    );
  }

  trace(host: string, p: Packet): TraceResult {
    const t = this.tracers[host];
    if (!t) throw new Error(`no host ${host}`);
    return t.trace(p);
  }

  /**
   * Send a packet from a host and follow it one hop: outputs to local ports are final; outputs to
   * the uplink reach every other host's uplink; outputs to the VXLAN port reach the host whose
   * VTEP is tun_dst. Returns every port the packet (or a copy) finally leaves by.
   */
  send(host: string, p: Packet): { first: TraceResult; deliveries: Delivery[] } {
    const first = this.trace(host, p);
    const deliveries: Delivery[] = [];
    const names = Object.keys(this.hosts);
    for (const o of first.outputs) {
      if (o.port === UPLINK) {
        for (const h of names) {
          if (h === host) continue;
          for (const o2 of this.trace(h, receivedAs(o, UPLINK)).outputs) deliveries.push({ host: h, port: o2.port, out: o2 });
        }
      } else if (o.port === VXLAN) {
        const h = names.find((x) => this.hosts[x] === o.packet.tun_ipv4_dst);
        if (!h) throw new Error(`tunnel to unknown VTEP ${o.packet.tun_ipv4_dst}`);
        for (const o2 of this.trace(h, receivedAs(o, VXLAN, { tunSrc: this.hosts[host]! })).outputs)
          deliveries.push({ host: h, port: o2.port, out: o2 });
      } else {
        deliveries.push({ host, port: o.port, out: o });
      }
    }
    return { first, deliveries };
  }
}

/** The standard four-host cluster of this fixture. */
export class Fabric extends ClusterFabric {
  constructor(global: Partial<Global> = {}, stateOf: (h: string, full: HostState) => HostState = spanFor) {
    super(clusterState(global), { ...HOSTS }, stateOf);
  }
}
