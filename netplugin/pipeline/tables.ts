/**
 * The OVS pipeline of the integration bridge, declared as data: every table with its number, what
 * it does, what happens to a packet that matches nothing in it, and its contract (in the manner of
 * a switch's table configuration): the fields its flows may match, the tables they may continue
 * in, and the cookie features whose flows it holds. Features compute flows for these tables;
 * `contract.ts` checks computed flows against the contract (in the tests), and `docs/pipeline.md`
 * is generated from these declarations (`npm run docs:pipeline`). Table numbers leave gaps so
 * stages can be added without renumbering; a new stage (the policy tables, say) declares its
 * contract here and its flows are held to it like every other table's.
 */
import type { OxmFieldName } from '../../ovs/openflow/messages';
import type { Feature } from '../reconcile/cookie';

export type MissAction = { kind: 'drop' } | { kind: 'goto'; table: TableName };

export interface TableSpec {
  id: number;
  name: TableName;
  purpose: string;
  miss: MissAction;
  /** reserved: the stage exists (its miss flow is installed) but no feature fills it yet */
  reserved?: boolean;
  /** the fields its flows may match on (a reserved table: none until its feature comes) */
  match: readonly OxmFieldName[];
  /** the tables its flows may continue in (goto_table, ct(table=), resubmit), the miss's included */
  next: readonly TableName[];
  /** the cookie features whose flows it holds, besides the table-miss flow every table has */
  cookies: readonly Feature[];
}

export type TableName =
  | 'classifier'
  | 'spoofguard'
  | 'egressQos'
  | 'arp'
  | 'gateway'
  | 'srcGroup'
  | 'serviceLB'
  | 'serviceEndpoint'
  | 'serviceDnat'
  | 'dstClassify'
  | 'conntrack'
  | 'ctState'
  | 'egressPolicy'
  | 'ingressPolicy'
  | 'ctCommit'
  | 'l3Forward'
  | 'l2Forward'
  | 'output';

/** Registers that carry classification between tables. */
export const REGS = {
  /** the network (L2 domain) id of the packet */
  network: 'reg0',
  /** source endpoint group id (0: unknown) */
  srcGroup: 'reg1',
  /** destination endpoint group id (0: unknown) */
  dstGroup: 'reg2',
  /** tenant id, also its conntrack zone */
  tenant: 'reg3',
  /** output port chosen by forwarding */
  outPort: 'reg4',
  /** flags: bit 0 from a tunnel, bit 1 from the uplink, bit 2 from a local endpoint, bit 3 routed, bit 4 denied by policy, bit 5 from the host (a gateway port) */
  flags: 'reg5',
  /** service load balancing: the chosen provider's IPv4 address (loaded by a select-group bucket) */
  svcIp: 'reg6',
  /** service load balancing: bits 16..31 the service port's index on the host, bits 0..15 the provider's port */
  svcPort: 'reg7',
  /**
   * ACI mode: the group whose own VLAN the packet is on (from the uplink: the VLAN it came with;
   * from a local port: the sender's group); 0: the network's VLAN. Kept apart from reg1, which
   * srcGroup may set from the source address: the leaf delivers another group's packet on the
   * receiver's VLAN, and delivery follows the VLAN
   */
  vlanGroup: 'reg8',
} as const;

/** What each register holds, for the documentation. */
export const REG_MEANING: Record<keyof typeof REGS, string> = {
  network: 'network (L2 domain) id',
  srcGroup: 'source endpoint group id (0 unknown)',
  dstGroup: 'destination endpoint group id (0 unknown)',
  tenant: 'tenant id, also the conntrack zone',
  outPort: 'output port',
  flags:
    'flags: 1 from tunnel, 2 from uplink, 4 from local endpoint, 8 routed, 16 denied by policy, 32 from the host (a tenant gateway port)',
  svcIp: 'service LB: IPv4 address of the provider chosen for a new connection',
  svcPort: 'service LB: service port index (bits 16..31) and the provider port (bits 0..15)',
  vlanGroup:
    "ACI mode: the group whose own VLAN the packet is on (from the uplink: the VLAN it came with; from a local port: the sender's group); 0 the network's VLAN",
};

export const FLAG = { fromTunnel: 1, fromUplink: 2, fromLocal: 4, routed: 8, denied: 16, fromHost: 32 } as const;

/** The fields policy flows match: who (in_port, tenant and address of a local endpoint), the peer, the service, conjunctions. */
const POLICY_MATCH: readonly OxmFieldName[] = [
  'in_port',
  REGS.tenant,
  'eth_type',
  'ipv4_src',
  'ipv4_dst',
  'ip_proto',
  'tcp_dst',
  'udp_dst',
  'sctp_dst',
  'conj_id',
];

export const PIPELINE: readonly TableSpec[] = [
  {
    id: 0,
    name: 'classifier',
    purpose:
      "where a packet came from: a local endpoint port (sets network, tenant, source group), the VLAN uplink (VLAN -> network, tag popped; ACI mode: a group's own VLAN -> its network and source group; an external endpoint's address only with its registered MAC, on its own VLAN), the VXLAN port (VNI -> network) or a tenant's gateway port from the host's kernel (tenant, from-host flag); on a one-bridge host (uplink on this bridge) the host's own untagged underlay traffic passes straight between the uplink and the local port, which holds the VTEP address (ARP, tunnel packets: OVS pops the tunnel on the way); anything else is dropped",
    miss: { kind: 'drop' },
    match: ['in_port', 'vlan_vid', 'tunnel_id', 'eth_src', 'eth_type', 'ipv4_src', 'arp_spa', 'arp_sha'],
    next: ['spoofguard', 'arp'],
    cookies: ['classifier', 'vlan', 'tunnel', 'hostgw', 'spoofguard', 'underlay'],
  },
  {
    id: 10,
    name: 'spoofguard',
    purpose: 'a local endpoint may only send with its own MAC and IP (and ARP for its own IP)',
    miss: { kind: 'drop' },
    match: ['in_port', 'eth_src', 'eth_type', 'ipv4_src', 'arp_spa', 'arp_sha'],
    next: ['egressQos'],
    cookies: ['spoofguard'],
  },
  {
    id: 15,
    name: 'egressQos',
    purpose:
      "what a local endpoint sends, by its group's netprofile: its egress meter (bandwidth, burst) and, on IPv4, the profile's DSCP; endpoints without a profile go straight on",
    miss: { kind: 'goto', table: 'arp' },
    match: ['in_port', 'eth_type'],
    next: ['arp'],
    cookies: ['qos'],
  },
  {
    id: 20,
    name: 'arp',
    purpose:
      "ARP: in proxy mode the switch answers for known endpoints and the gateway and drops the rest (no ARP broadcast crosses VXLAN); in flood mode requests are flooded in the network (the gateway and service IPs are always answered by the switch, a service IP with the service MAC; for external endpoints on the VLAN, the gateway by one host); the host kernel's requests on a tenant's gateway port for the tenant's local endpoints are answered with the host-side router MAC",
    miss: { kind: 'goto', table: 'gateway' },
    // reg8: ACI mode, the VLAN a request from the uplink came with (its group; 0 the network's)
    match: [REGS.network, REGS.vlanGroup, REGS.tenant, REGS.flags, 'eth_dst', 'eth_type', 'arp_op', 'arp_tpa'],
    next: ['gateway'],
    cookies: ['arp', 'hostgw', 'service'],
  },
  {
    id: 25,
    name: 'gateway',
    purpose:
      "ICMP echo requests from local endpoints to their network's gateway (routing mode: any gateway of their tenant), and from the uplink to a VLAN network's gateway that has external endpoints, are answered by the switch",
    miss: { kind: 'goto', table: 'srcGroup' },
    match: [REGS.network, REGS.vlanGroup, REGS.tenant, REGS.flags, 'eth_dst', 'eth_type', 'ip_proto', 'ipv4_dst', 'icmpv4_type'],
    next: ['srcGroup'],
    cookies: ['routing'],
  },
  {
    id: 30,
    name: 'srcGroup',
    purpose:
      'source endpoint group of packets from other hosts, from their source IP within the tenant (local ones were set by the classifier)',
    miss: { kind: 'goto', table: 'serviceLB' },
    match: [REGS.tenant, 'eth_type', 'ipv4_src'],
    next: ['serviceLB', 'dstClassify'],
    cookies: ['policy'],
  },
  {
    id: 35,
    name: 'serviceLB',
    purpose:
      "a local endpoint's TCP/UDP packet to a service IP and port of its tenant: the service port's index into reg7, then conntrack in the tenant zone with nat (an established connection gets its provider back), continuing in serviceEndpoint",
    miss: { kind: 'goto', table: 'dstClassify' },
    match: [REGS.tenant, REGS.flags, 'eth_type', 'ip_proto', 'ipv4_dst', 'tcp_dst', 'udp_dst'],
    next: ['serviceEndpoint', 'dstClassify'],
    cookies: ['service'],
  },
  {
    id: 36,
    name: 'serviceEndpoint',
    purpose:
      "by service port (reg7) and ct_state: a new connection goes to the service port's select group (equal weights), whose bucket loads a provider into reg6/reg7 and resubmits to serviceDnat; with no provider it goes to the agent (metered), which answers TCP RST / ICMP port unreachable; a local provider's own connection (hairpin) goes to a group of the other providers; an established one (already translated) is counted per provider and goes on",
    miss: { kind: 'goto', table: 'dstClassify' },
    match: [REGS.svcPort, 'ct_state', 'eth_type', 'ipv4_src', 'ipv4_dst'],
    next: ['serviceDnat', 'dstClassify'],
    cookies: ['service'],
  },
  {
    id: 37,
    name: 'serviceDnat',
    purpose:
      'the provider in reg6/reg7: ct(commit, zone=tenant, nat(dst=provider:port)), continuing in dstClassify with the provider as destination (one flow per service port and provider, counting its new connections)',
    miss: { kind: 'drop' },
    match: [REGS.svcIp, REGS.svcPort, 'eth_type', 'ip_proto'],
    next: ['dstClassify'],
    cookies: ['service'],
  },
  {
    id: 40,
    name: 'dstClassify',
    purpose:
      'destination group, from the destination IP within the tenant (subnets do not overlap inside a tenant, so this also serves routed packets)',
    miss: { kind: 'goto', table: 'conntrack' },
    match: [REGS.tenant, 'eth_type', 'ipv4_dst'],
    next: ['conntrack'],
    cookies: ['policy'],
  },
  {
    id: 50,
    name: 'conntrack',
    purpose:
      'IP traffic enters conntrack in the tenant zone (with nat), then continues in ctState; a packet the service tables already tracked in that zone goes straight to ctState',
    miss: { kind: 'goto', table: 'ctState' },
    match: [REGS.tenant, 'eth_type', 'ct_state', 'ct_zone', 'ip_proto', 'ipv4_src', 'tcp_src', 'udp_src'],
    next: ['ctState'],
    cookies: ['conntrack'],
  },
  {
    id: 51,
    name: 'ctState',
    purpose:
      'established packets of connections admitted under the current policy generation (ct_mark) skip policy; replies of older ones pass unless the connection was denied since; original-direction packets of older ones are evaluated again; related packets skip policy; invalid ones are dropped; a TCP segment other than a SYN of a connection conntrack does not know (picked up in the middle, e.g. after an ovs-vswitchd restart) is dropped at endpoints whose policy can deny',
    miss: { kind: 'goto', table: 'egressPolicy' },
    match: ['ct_state', 'ct_mark', REGS.tenant, 'in_port', 'eth_type', 'ip_proto', 'tcp_flags', 'ipv4_dst'],
    next: ['egressPolicy', 'ctCommit', 'l3Forward'],
    cookies: ['conntrack', 'policy'],
  },
  {
    id: 60,
    name: 'egressPolicy',
    purpose:
      "a local source endpoint's outgoing rules (enforced on its host): conjunctive matches of endpoint, peer addresses and services; the highest priority decides, deny wins at equal priority; a deny sets the denied flag and goes to ctCommit",
    miss: { kind: 'goto', table: 'ingressPolicy' },
    match: POLICY_MATCH,
    next: ['ingressPolicy', 'ctCommit'],
    cookies: ['policy'],
  },
  {
    id: 70,
    name: 'ingressPolicy',
    purpose:
      "a local destination endpoint's incoming rules (enforced on its host, whatever the packet came from), in the same form as egressPolicy",
    miss: { kind: 'goto', table: 'ctCommit' },
    match: POLICY_MATCH,
    next: ['ctCommit'],
    cookies: ['policy'],
  },
  {
    id: 80,
    name: 'ctCommit',
    purpose:
      'connections that passed policy are committed with the policy generation in ct_mark; denied packets are dropped, and an established connection that policy now denies is marked denied so its replies stop too',
    miss: { kind: 'goto', table: 'l3Forward' },
    match: [REGS.tenant, REGS.flags, 'eth_type', 'ct_state'],
    next: ['l3Forward'],
    cookies: ['conntrack'],
  },
  {
    id: 90,
    name: 'l3Forward',
    purpose:
      "routing between a tenant's networks (fwdMode routing): rewrite MACs, decrement TTL, switch the network id, set the routed flag; a packet sent to the service MAC whose destination is now a provider (after DNAT) gets the provider's MAC and network; packets from the host's kernel (gateway port) to a local endpoint: MACs rewritten, its network id set; packets of local endpoints to their gateway MAC for an address outside every subnet of their tenant: out of the tenant's gateway port to the host's kernel (both fwdModes, below the routes; the tenant's own subnets are dropped, never sent to the kernel)",
    miss: { kind: 'goto', table: 'l2Forward' },
    match: [REGS.network, REGS.tenant, REGS.flags, 'eth_dst', 'eth_type', 'ipv4_dst'],
    next: ['l2Forward'],
    cookies: ['routing', 'hostgw', 'service'],
  },
  {
    id: 100,
    name: 'l2Forward',
    purpose:
      "by network and destination MAC: a local port (through the endpoint's ingress meter when its netprofile has a bandwidth), a remote host through the VXLAN port (tun_id, tun_dst), or the VLAN uplink (tag pushed); broadcast floods within the network (to the uplink / VTEPs only for packets from local ports); an external endpoint's packet routed here from the uplink to a remote VLAN endpoint goes back out of it (IN_PORT); ACI mode (groups with VLANs of their own): a packet leaves with its VLAN (reg8: the sender's group VLAN), a local endpoint of a group VLAN gets only its own VLAN's packets, so packets between groups go through the fabric, never switched locally; unknown unicast is dropped",
    miss: { kind: 'drop' },
    match: [REGS.network, REGS.vlanGroup, REGS.flags, 'eth_dst'],
    next: [],
    cookies: ['l2Forward', 'tunnel', 'vlan'],
  },
  {
    id: 110,
    name: 'output',
    purpose:
      'output to the port chosen in reg4 (reserved; l2Forward outputs directly and reg4 stays 0; QoS is in egressQos and on l2Forward)',
    miss: { kind: 'drop' },
    reserved: true,
    match: [],
    next: [],
    cookies: ['qos'],
  },
];

export function table(name: TableName): number {
  const t = PIPELINE.find((x) => x.name === name);
  if (!t) throw new Error(`unknown pipeline table ${name}`);
  return t.id;
}
