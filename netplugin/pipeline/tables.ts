/**
 * The OVS pipeline of the integration bridge, declared as data: every table with its number, what
 * it does, and what happens to a packet that matches nothing in it. Features compute flows for
 * these tables; `docs/pipeline.md` is written from the same facts. Table numbers leave gaps so
 * stages can be added without renumbering.
 */
export type MissAction = { kind: 'drop' } | { kind: 'goto'; table: TableName };

export interface TableSpec {
  id: number;
  name: TableName;
  purpose: string;
  miss: MissAction;
  /** reserved: the stage exists (its miss flow is installed) but no feature fills it yet */
  reserved?: boolean;
}

export type TableName =
  | 'classifier'
  | 'spoofguard'
  | 'arp'
  | 'gateway'
  | 'srcGroup'
  | 'dstClassify'
  | 'conntrack'
  | 'ctState'
  | 'egressPolicy'
  | 'ingressPolicy'
  | 'ctCommit'
  | 'l3Forward'
  | 'l2Forward'
  | 'output';

export const PIPELINE: readonly TableSpec[] = [
  {
    id: 0,
    name: 'classifier',
    purpose:
      'where a packet came from: a local endpoint port (network, source group), the VLAN uplink (VLAN -> network, tag popped) or the VXLAN port (VNI -> network); anything else is dropped',
    miss: { kind: 'drop' },
  },
  {
    id: 10,
    name: 'spoofguard',
    purpose: 'a local endpoint may only send with its own MAC and IP (and ARP for its own IP)',
    miss: { kind: 'drop' },
  },
  {
    id: 20,
    name: 'arp',
    purpose:
      'ARP: in proxy mode the switch answers for known endpoints and the gateway and drops the rest; in flood mode requests are flooded in the network (the gateway is always answered by the switch)',
    miss: { kind: 'goto', table: 'gateway' },
  },
  {
    id: 25,
    name: 'gateway',
    purpose:
      "ICMP echo requests from local endpoints to their network's gateway (routing mode: any gateway of their tenant) are answered by the switch",
    miss: { kind: 'goto', table: 'srcGroup' },
  },
  {
    id: 30,
    name: 'srcGroup',
    purpose:
      'source endpoint group of packets from other hosts, from their source IP within the tenant (local ones were set by the classifier)',
    miss: { kind: 'goto', table: 'dstClassify' },
  },
  {
    id: 40,
    name: 'dstClassify',
    purpose:
      'destination group, from the destination IP within the tenant (subnets do not overlap inside a tenant, so this also serves routed packets)',
    miss: { kind: 'goto', table: 'conntrack' },
  },
  {
    id: 50,
    name: 'conntrack',
    purpose: 'IP traffic enters conntrack in the tenant zone, then continues in ctState',
    miss: { kind: 'goto', table: 'ctState' },
  },
  {
    id: 51,
    name: 'ctState',
    purpose: 'established and related packets skip policy; invalid ones are dropped',
    miss: { kind: 'goto', table: 'egressPolicy' },
  },
  {
    id: 60,
    name: 'egressPolicy',
    purpose: "the source group's outgoing rules (reserved for the policy issue)",
    miss: { kind: 'goto', table: 'ingressPolicy' },
    reserved: true,
  },
  {
    id: 70,
    name: 'ingressPolicy',
    purpose: "the destination group's incoming rules, enforced on the destination host too (reserved for the policy issue)",
    miss: { kind: 'goto', table: 'ctCommit' },
    reserved: true,
  },
  {
    id: 80,
    name: 'ctCommit',
    purpose: 'new connections that passed policy are committed to conntrack',
    miss: { kind: 'goto', table: 'l3Forward' },
  },
  {
    id: 90,
    name: 'l3Forward',
    purpose:
      "routing between a tenant's networks (fwdMode routing): rewrite MACs, decrement TTL, switch the network id, set the routed flag",
    miss: { kind: 'goto', table: 'l2Forward' },
  },
  {
    id: 100,
    name: 'l2Forward',
    purpose:
      'by network and destination MAC: a local port, a remote host through the VXLAN port (tun_id, tun_dst), or the VLAN uplink (tag pushed); broadcast floods within the network (to the uplink / VTEPs only for packets from local ports); unknown unicast is dropped',
    miss: { kind: 'drop' },
  },
  {
    id: 110,
    name: 'output',
    purpose: 'QoS marking and output to the port chosen in reg4 (reserved for the QoS issue; until then l2Forward outputs directly)',
    miss: { kind: 'drop' },
    reserved: true,
  },
];

export function table(name: TableName): number {
  const t = PIPELINE.find((x) => x.name === name);
  if (!t) throw new Error(`unknown pipeline table ${name}`);
  return t.id;
}

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
  /** flags: bit 0 from a tunnel, bit 1 from the uplink, bit 2 from a local endpoint, bit 3 routed */
  flags: 'reg5',
} as const;

export const FLAG = { fromTunnel: 1, fromUplink: 2, fromLocal: 4, routed: 8 } as const;
