/**
 * Small constructors for the match entries, actions and instructions pipeline features write, so
 * that every feature spells a register load, a Nicira move or a goto the same way (and the flows
 * compare equal in the reconciler whichever feature built them).
 */
import type { Action, FieldRef, Instruction, KnownOxm, OxmFieldName, OxmValue } from '../../ovs/openflow/messages';
import { NO_TABLE, NX_NAT_F, OFPP } from '../../ovs/openflow/messages';
import type { DesiredFlow } from '../reconcile/flow-key';
import type { Feature } from '../reconcile/cookie';
import { REGS, table, TableName } from './tables';

export const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100 } as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132 } as const;
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
export const ICMP_TYPE = { ECHO_REPLY: 0, ECHO_REQUEST: 8 } as const;
/** OpenFlow 1.3 vlan_vid carries this bit when a tag is present */
export const OFPVID_PRESENT = 0x1000;
/** conntrack state bits (ct_state) */
export const CT = { NEW: 0x01, EST: 0x02, REL: 0x04, RPL: 0x08, INV: 0x10, TRK: 0x20 } as const;
/** The group/multicast bit of a MAC address, as a value/mask pair. */
export const MULTICAST_MAC = '01:00:00:00:00:00';

export type RegName = keyof typeof REGS;

// ---------- values ----------

export function macToBigInt(mac: string): bigint {
  return BigInt(`0x${mac.split(':').join('')}`);
}

export function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

// ---------- match ----------

export function field(name: OxmFieldName, value: OxmValue, mask?: OxmValue): KnownOxm {
  return mask === undefined ? { field: name, value } : { field: name, value, mask };
}

export function reg(name: RegName, value: number, mask?: number): KnownOxm {
  return field(REGS[name], value, mask);
}

export const match = {
  inPort: (p: number) => field('in_port', p),
  ethType: (t: number) => field('eth_type', t),
  ethDst: (mac: string) => field('eth_dst', mac.toLowerCase()),
  ethSrc: (mac: string) => field('eth_src', mac.toLowerCase()),
  multicastDst: () => field('eth_dst', MULTICAST_MAC, MULTICAST_MAC),
  /** reg5 flag bit set */
  flagSet: (bit: number) => reg('flags', bit, bit),
  /** reg5 flag bit clear */
  flagClear: (bit: number) => reg('flags', 0, bit),
};

// ---------- actions ----------

function ref(f: OxmFieldName, nBits: number, ofs = 0): FieldRef {
  return { field: f, ofs, nBits };
}

const WIDTH: Partial<Record<OxmFieldName, number>> = {
  eth_src: 48,
  eth_dst: 48,
  arp_sha: 48,
  arp_tha: 48,
  arp_spa: 32,
  arp_tpa: 32,
  ipv4_src: 32,
  ipv4_dst: 32,
  arp_op: 16,
  icmpv4_type: 8,
  ct_mark: 32,
};

function width(f: OxmFieldName): number {
  if (/^reg\d+$/.test(f)) return 32;
  const w = WIDTH[f];
  if (w === undefined) throw new Error(`flow-builder: no width known for ${f}`);
  return w;
}

export const act = {
  output: (port: number): Action => ({ type: 'output', port, maxLen: 0 }),
  inPort: (): Action => ({ type: 'output', port: OFPP.IN_PORT, maxLen: 0 }),
  /** Nicira load of a whole register */
  loadReg: (name: RegName, value: number): Action => ({ type: 'reg_load', dst: ref(REGS[name], 32), value: BigInt(value) }),
  /** Nicira load of one flag bit of reg5 */
  setFlag: (bit: number): Action => ({ type: 'reg_load', dst: ref(REGS.flags, 1, Math.log2(bit)), value: 1n }),
  /** Nicira load of a whole field (MACs and IPv4 addresses as strings) */
  load: (f: OxmFieldName, value: string | number): Action => {
    const v = typeof value === 'number' ? BigInt(value) : value.includes(':') ? macToBigInt(value) : ipv4ToBigInt(value);
    return { type: 'reg_load', dst: ref(f, width(f)), value: v };
  },
  /** Nicira move of a whole field into another of the same width */
  move: (src: OxmFieldName, dst: OxmFieldName): Action => ({ type: 'reg_move', src: ref(src, width(src)), dst: ref(dst, width(dst)) }),
  setField: (f: OxmFieldName, value: OxmValue): Action => ({ type: 'set_field', field: { field: f, value } }),
  pushVlan: (): Action => ({ type: 'push_vlan', ethertype: ETH_TYPE.VLAN }),
  popVlan: (): Action => ({ type: 'pop_vlan' }),
  decTtl: (): Action => ({ type: 'dec_nw_ttl' }),
  setTtl: (ttl: number): Action => ({ type: 'set_nw_ttl', ttl }),
  /**
   * send to conntrack in a zone; with `then` the tracked packet continues in that table; `mark` is
   * stored with a commit; `nat` applies the connection's translation (true: whatever NAT an
   * existing connection has; `{ ip, port }`: destination NAT of a new one, with commit)
   */
  ct: (
    zone: number,
    opts: { commit?: boolean; then?: TableName; mark?: number; nat?: true | { ip: string; port: number } } = {},
  ): Action => {
    const actions: Action[] = [];
    if (opts.nat === true) actions.push({ type: 'nat', flags: 0 });
    else if (opts.nat !== undefined) actions.push({ type: 'nat', flags: NX_NAT_F.DST, ipMin: opts.nat.ip, portMin: opts.nat.port });
    if (opts.mark !== undefined) actions.push({ type: 'reg_load', dst: ref('ct_mark', 32), value: BigInt(opts.mark) });
    return {
      type: 'ct',
      flags: opts.commit ? 1 : 0,
      zoneImm: zone,
      recircTable: opts.then === undefined ? NO_TABLE : table(opts.then),
      alg: 0,
      actions,
    };
  },
  /** OpenFlow set_field of a whole register (a group bucket's loads: OVS reports them back as sent) */
  setReg: (name: RegName, value: number): Action => ({ type: 'set_field', field: { field: REGS[name], value } }),
  group: (groupId: number): Action => ({ type: 'group', groupId }),
  /** Nicira resubmit to a table (the packet's own in_port) */
  resubmit: (t: TableName): Action => ({ type: 'resubmit', inPort: OFPP.IN_PORT, table: table(t) }),
  /** the packet (its first `maxLen` bytes) to the controller, reason OFPR_ACTION */
  controller: (maxLen: number): Action => ({ type: 'controller', maxLen, controllerId: 0, reason: 1 }),
};

// ---------- instructions and flows ----------

export function apply(...actions: Action[]): Instruction {
  return { type: 'apply_actions', actions };
}

/** The meter instruction: the packet passes the meter first (and is dropped by its band). */
export function meter(meterId: number): Instruction {
  return { type: 'meter', meterId };
}

export function goto(t: TableName): Instruction {
  return { type: 'goto_table', tableId: table(t) };
}

export interface FlowSpec {
  table: TableName;
  priority: number;
  match: KnownOxm[];
  /** empty: drop */
  instructions: Instruction[];
  feature: Feature;
  object?: string;
}

export function flow(s: FlowSpec): DesiredFlow {
  const f: DesiredFlow = {
    table: table(s.table),
    priority: s.priority,
    match: s.match,
    instructions: s.instructions.filter((i) => i.type !== 'apply_actions' || i.actions.length > 0),
    feature: s.feature,
  };
  if (s.object !== undefined) f.object = s.object;
  return f;
}
