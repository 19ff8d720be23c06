/**
 * An in-memory packet tracer: interprets a flow table (DesiredFlow[] as pipeline features compute
 * them, or add FlowMods) the way Open vSwitch would for the fields and actions the netloom pipeline
 * uses, so pipeline scenarios can be tested without a switch. Given a packet as plain fields it
 * returns every output (port and the packet as it leaves, tunnel metadata included) and the trace
 * (each table visited, the flow hit with its feature/object, the conj_id and meter when there is one).
 *
 * Modelled: highest-priority match per table (two matching flows of equal priority that do
 * different things is an error),
 * masked matches, OpenFlow prerequisites (a field the packet does not have never matches),
 * goto_table (forward only), apply_actions, write_actions/clear_actions (action set run at the end),
 * the meter instruction (recorded in the step, no rate), set_field (ip_dscp too), Nicira reg_load/reg_load2/
 * reg_move, push/pop_vlan, output (the reserved IN_PORT sends back out; an output to the input port
 * by number is suppressed, as OVS does), resubmit, dec_nw_ttl (packet dropped at zero), set_nw_ttl,
 * note (no-op).
 *
 * Conjunctive matches as OVS's classifier does them (lib/classifier.c, ovs-fields(7) "Conjunctive
 * match fields"): flows whose only actions are conjunction(id, k/n) (and notes) are "soft" matches;
 * a plain flow of higher or equal priority wins over them; otherwise, from the highest soft priority
 * down, conjunction `id` is met when the soft flows matching at that priority cover all its n
 * clauses, and the table is searched again with conj_id=id ignoring soft flows (and plain flows
 * hidden behind a soft flow of identical match, as in OVS's subtables); what that search finds
 * decides (usually the conj_id flow, but any higher plain flow can), and when it finds nothing or no
 * conjunction is met, lower priorities are tried, down to the best plain flow. Two conjunctions met
 * at one priority (OVS picks either) is an error, as is a flow mixing conjunction with other actions
 * or instructions, n < 2, k out of range, or one id with different n at one priority in a table.
 *
 * ct() with a tiny conntrack (a `Conntrack`, shareable between tracers): connections keyed by zone
 * and 5-tuple (ICMP: addresses only), +new / +est / +rpl, +inv for a TCP packet without SYN that
 * starts a connection; ct(commit) records the connection, ct(commit, exec(set_field/reg_load into
 * ct_mark)) stores a 32-bit mark on it (a later commit updates it, masked writes keep the other
 * bits); ct(table=N) forks the packet into table N with ct_state, ct_zone and the connection's
 * ct_mark; the packet that continues after ct() has its conntrack fields cleared, as in OVS.
 * ct(nat): destination NAT only. ct(commit, nat(dst=IP[:port])) of a new connection records the
 * translation and applies it; any ct(nat) on a packet of a translated connection applies it (the
 * original direction gets the provider as destination, the reply the original destination as
 * source). One difference from OVS, harmless for the pipeline: a committed connection is +est for
 * its next packets even before a reply was seen (OVS says +new until then).
 * Groups (`opts.groups`, as group_desc reports them): `select` runs one bucket, chosen by
 * `opts.selectBucket` (default: a hash of the 5-tuple, so one connection always gets the same
 * bucket), `all` every bucket; each bucket on a copy of the packet (OVS clones it), an empty
 * select group drops. `controller` outputs to OFPP_CONTROLLER (the agent's packet-in).
 * Not modelled (throws): learn, SNAT, ct force, ct_label, raw fields and actions.
 */
import type {
  Action,
  FieldRef,
  FlowMod,
  GroupDesc,
  Instruction,
  KnownOxm,
  Match,
  OxmFieldName,
  OxmValue,
} from '../../ovs/openflow/messages';
import { NO_TABLE, OFPP } from '../../ovs/openflow/messages';
import { FIELD_BY_NAME } from '../../ovs/openflow/oxm';
import type { DesiredFlow } from '../../netplugin/reconcile/flow-key';
import { PIPELINE } from '../../netplugin/pipeline/tables';

/** A packet as plain fields (OXM field names; `vlan` is the VID of an 802.1Q tag, absent when untagged). */
export interface PacketFields {
  eth_src: string;
  eth_dst: string;
  eth_type: number;
  vlan?: number;
  arp_op?: number;
  arp_spa?: string;
  arp_tpa?: string;
  arp_sha?: string;
  arp_tha?: string;
  ipv4_src?: string;
  ipv4_dst?: string;
  ip_proto?: number;
  /** the 6-bit DSCP; 0 (absent in outputs) for IPv4 */
  ip_dscp?: number;
  /** defaults to 64 for IPv4 */
  ip_ttl?: number;
  tcp_src?: number;
  tcp_dst?: number;
  /** TCP flags (SYN 0x02, ACK 0x10); absent: the tracer assumes a valid segment */
  tcp_flags?: number;
  udp_src?: number;
  udp_dst?: number;
  icmpv4_type?: number;
  icmpv4_code?: number;
  /** tunnel metadata: the VNI (tun_id) and outer addresses (tun_src/tun_dst) */
  tunnel_id?: bigint;
  tun_ipv4_src?: string;
  tun_ipv4_dst?: string;
}

export interface Packet extends PacketFields {
  in_port: number;
}

export interface TraceOutput {
  port: number;
  packet: PacketFields;
  /** registers reg0..reg7 when the packet left */
  regs: number[];
}

/** A flow that took part in a conjunctive match: one clause (0-based) of the conjunction. */
export interface ClauseHit {
  clause: number;
  priority: number;
  feature: string | undefined;
  object: string | undefined;
}

export interface TraceStep {
  table: number;
  tableName: string;
  /** the flow that decided (for a conjunctive match: the flow the conj_id lookup found) */
  priority: number | undefined;
  feature: string | undefined;
  object: string | undefined;
  /** no flow matched (and OpenFlow 1.3 dropped the packet) */
  noMatch?: boolean;
  /** the flow was found by a conjunctive match: the conjunction id, and the clause flows that met it */
  conjId?: number;
  conjClauses?: ClauseHit[];
  /** the flow's meter instruction (the packet is not rate-limited here) */
  meterId?: number;
}

export interface TraceResult {
  outputs: TraceOutput[];
  steps: TraceStep[];
  /** what happened besides outputs: suppressed hairpin outputs, TTL expiry, ct forks... */
  notes: string[];
}

type Conjunction = Extract<Action, { type: 'conjunction' }>;

/** Whether two flows do exactly the same thing (their instructions, as text). */
function sameInstructions(a: Entry, b: Entry): boolean {
  const text = (e: Entry) => JSON.stringify(e.instructions, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return text(a) === text(b);
}

interface Entry {
  table: number;
  priority: number;
  match: Match;
  instructions: Instruction[];
  feature: string | undefined;
  object: string | undefined;
  /** the flow's conjunction actions: it is a clause flow ("soft" match), never run */
  conj: Conjunction[] | undefined;
  /** the match in canonical form (fields sorted, values masked): OVS keeps identical matches in one subtable slot */
  matchKey: string | undefined;
  /** a plain flow behind a higher-priority clause flow of identical match: the conj_id lookup does not see it */
  hiddenFromConjLookup: boolean;
}

/** What a table lookup found: the flow, and the conjunction that led to it if any. */
interface Hit {
  entry: Entry;
  conjId?: number;
  clauses?: Entry[];
}

type State = Map<OxmFieldName, bigint>;

const ETH_IPV4 = 0x0800n;
const ETH_ARP = 0x0806n;
const VID_PRESENT = 0x1000n;
const CT_NEW = 0x01n;
const CT_EST = 0x02n;
const CT_RPL = 0x08n;
const CT_INV = 0x10n;
const CT_TRK = 0x20n;
const CT_COMMIT = 1;
const CT_FORCE = 2;
const CT_MARK_ALL = 0xffffffffn;

class TraceStop extends Error {}

function widthOf(f: OxmFieldName): number {
  const spec = FIELD_BY_NAME.get(f);
  if (!spec) throw new Error(`tracer: unknown field ${f}`);
  return spec.bytes * 8;
}

function toBig(f: OxmFieldName, v: OxmValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const kind = FIELD_BY_NAME.get(f)?.kind;
  if (kind === 'mac') return BigInt(`0x${v.split(':').join('')}`);
  if (kind === 'ipv4') return v.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n);
  throw new Error(`tracer: cannot read value '${v}' of ${f}`);
}

function fromBig(f: OxmFieldName, v: bigint): string | number | bigint {
  const kind = FIELD_BY_NAME.get(f)?.kind;
  if (kind === 'mac') return v.toString(16).padStart(12, '0').match(/../g)!.join(':');
  if (kind === 'ipv4') return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  if (widthOf(f) > 32) return v;
  return Number(v);
}

function bits(n: number): bigint {
  return (1n << BigInt(n)) - 1n;
}

const ARP_FIELDS = ['arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha'] as const;
const IPV4_FIELDS = ['ipv4_src', 'ipv4_dst', 'ip_proto', 'ip_dscp', 'ip_ttl'] as const;
/** TCP, UDP and ICMP fields: present only for their IP protocol */
const L4_FIELDS = ['tcp_src', 'tcp_dst', 'tcp_flags', 'udp_src', 'udp_dst', 'icmpv4_type', 'icmpv4_code'] as const;

const PACKET_FIELDS: readonly OxmFieldName[] = [
  'eth_src',
  'eth_dst',
  'eth_type',
  ...ARP_FIELDS,
  ...IPV4_FIELDS,
  ...L4_FIELDS,
  'tunnel_id',
  'tun_ipv4_src',
  'tun_ipv4_dst',
];

/** Fields every packet has (zero when unset), as in OVS's flow metadata. */
const ALWAYS: readonly OxmFieldName[] = [
  'in_port',
  'eth_src',
  'eth_dst',
  'eth_type',
  'vlan_vid',
  'tunnel_id',
  'tun_ipv4_src',
  'tun_ipv4_dst',
  'ct_state',
  'ct_zone',
  'ct_mark',
  'pkt_mark',
  'conj_id',
  'metadata',
  ...Array.from({ length: 16 }, (_, i) => `reg${i}` as OxmFieldName),
];

function toState(p: Packet): State {
  const s: State = new Map();
  for (const f of ALWAYS) s.set(f, 0n);
  s.set('in_port', BigInt(p.in_port));
  if (p.vlan !== undefined) s.set('vlan_vid', VID_PRESENT | BigInt(p.vlan));
  const rec = p as unknown as Record<string, OxmValue | undefined>;
  for (const f of PACKET_FIELDS) {
    const v = rec[f];
    if (v !== undefined) s.set(f, toBig(f, v));
  }
  const et = s.get('eth_type');
  if (et === ETH_ARP) {
    for (const f of ARP_FIELDS) if (!s.has(f)) s.set(f, 0n);
  } else {
    for (const f of ARP_FIELDS) s.delete(f);
  }
  if (et === ETH_IPV4) {
    for (const f of ['ipv4_src', 'ipv4_dst', 'ip_proto', 'ip_dscp'] as const) if (!s.has(f)) s.set(f, 0n);
    if (!s.has('ip_ttl')) s.set('ip_ttl', 64n);
    const proto = s.get('ip_proto');
    const keep = new Set<OxmFieldName>(
      proto === 6n
        ? ['tcp_src', 'tcp_dst', 'tcp_flags']
        : proto === 17n
          ? ['udp_src', 'udp_dst']
          : proto === 1n
            ? ['icmpv4_type', 'icmpv4_code']
            : [],
    );
    for (const f of ['tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'icmpv4_type', 'icmpv4_code'] as const) {
      if (keep.has(f) && !s.has(f)) s.set(f, 0n);
      if (!keep.has(f)) s.delete(f);
    }
    if (!keep.has('tcp_flags')) s.delete('tcp_flags');
  } else {
    for (const f of [...IPV4_FIELDS, ...L4_FIELDS]) s.delete(f);
  }
  return s;
}

function toFields(s: State): PacketFields {
  const out: Record<string, unknown> = {};
  for (const f of PACKET_FIELDS) {
    const v = s.get(f);
    if (v === undefined) continue;
    if ((f === 'tunnel_id' || f === 'tun_ipv4_src' || f === 'tun_ipv4_dst' || f === 'ip_dscp') && v === 0n) continue;
    out[f] = fromBig(f, v);
  }
  const vid = s.get('vlan_vid') ?? 0n;
  if (vid & VID_PRESENT) out.vlan = Number(vid & 0xfffn);
  return out as unknown as PacketFields;
}

function entryMatches(e: Entry, s: State): boolean {
  for (const m of e.match) {
    if (m.field === 'raw') throw new Error('tracer: raw match fields are not modelled');
    const pv = s.get(m.field);
    if (pv === undefined) return false;
    const v = toBig(m.field, m.value);
    const mask = m.mask === undefined ? bits(widthOf(m.field)) : toBig(m.field, m.mask);
    if ((pv & mask) !== (v & mask)) return false;
  }
  return true;
}

/** A committed connection, in its original direction (the packet that committed it first). */
export interface ConntrackEntry {
  zone: number;
  proto: number;
  src: string;
  dst: string;
  /** TCP/UDP ports; 0 for other protocols (ICMP connections are keyed by addresses only) */
  srcPort: number;
  dstPort: number;
  mark: number;
  /** destination NAT of the connection: where its original direction goes */
  nat?: { ip: string; port: number };
}

/** A masked write into a connection's ct_mark, from ct(commit, exec(...)). */
interface MarkWrite {
  value: bigint;
  mask: bigint;
}

/**
 * The tiny conntrack: committed connections per zone, each with its ct_mark. One instance can be
 * shared by several tracers (e.g. before and after a policy change) and lives across traces.
 */
export class Conntrack {
  private readonly conns = new Map<string, ConntrackEntry>();
  /** NATed connections by their translated tuple */
  private readonly xlat = new Map<string, ConntrackEntry>();

  private static tuple(s: State, reverse: boolean): { proto: bigint; src: bigint; dst: bigint; sp: bigint; dp: bigint } {
    const proto = s.get('ip_proto') ?? 0n;
    let src = s.get('ipv4_src') ?? 0n;
    let dst = s.get('ipv4_dst') ?? 0n;
    let sp = (proto === 6n ? s.get('tcp_src') : proto === 17n ? s.get('udp_src') : 0n) ?? 0n;
    let dp = (proto === 6n ? s.get('tcp_dst') : proto === 17n ? s.get('udp_dst') : 0n) ?? 0n;
    if (reverse) [src, dst, sp, dp] = [dst, src, dp, sp];
    return { proto, src, dst, sp, dp };
  }

  private static key(zone: number, s: State, reverse: boolean): string {
    const t = Conntrack.tuple(s, reverse);
    return `${zone}|${t.proto}/${t.src}:${t.sp}>${t.dst}:${t.dp}`;
  }

  /** The translated tuple of a NATed connection (original direction, after DNAT). */
  private static xlatKey(c: ConntrackEntry & { nat: { ip: string; port: number } }): string {
    return `${c.zone}|${c.proto}/${toBig('ipv4_src', c.src)}:${c.srcPort}>${toBig('ipv4_dst', c.nat.ip)}:${c.nat.port}`;
  }

  /** The packet's ct_state in `zone`, and its connection when it has one. */
  lookup(zone: number, s: State): { state: bigint; conn: ConntrackEntry | undefined } {
    const k = Conntrack.key(zone, s, false);
    const fwd = this.conns.get(k) ?? this.xlat.get(k);
    if (fwd) return { state: CT_TRK | CT_EST, conn: fwd };
    const kr = Conntrack.key(zone, s, true);
    const rev = this.conns.get(kr) ?? this.xlat.get(kr);
    if (rev) return { state: CT_TRK | CT_EST | CT_RPL, conn: rev };
    // Open vSwitch's userspace conntrack (lib/conntrack-tcp.c, tcp_valid_new): a SYN+ACK cannot open
    // a connection; any other segment can, so one seen in the middle of a connection is picked up as new
    const flags = s.get('tcp_flags');
    if (s.get('ip_proto') === 6n && flags !== undefined && (flags & 0x12n) === 0x12n) return { state: CT_TRK | CT_INV, conn: undefined };
    return { state: CT_TRK | CT_NEW, conn: undefined };
  }

  /**
   * Commit the packet's connection (new, or the existing one in either direction) and apply the
   * mark writes; `nat` is the destination NAT of a new connection (an existing one keeps its own).
   */
  commit(zone: number, s: State, marks: readonly MarkWrite[], nat?: { ip: string; port: number }): ConntrackEntry {
    let conn = this.lookup(zone, s).conn;
    if (!conn) {
      const t = Conntrack.tuple(s, false);
      conn = {
        zone,
        proto: Number(t.proto),
        src: String(fromBig('ipv4_src', t.src)),
        dst: String(fromBig('ipv4_dst', t.dst)),
        srcPort: Number(t.sp),
        dstPort: Number(t.dp),
        mark: 0,
      };
      this.conns.set(Conntrack.key(zone, s, false), conn);
      if (nat) {
        const natted = { ...conn, nat: { ip: nat.ip, port: nat.port || conn.dstPort } };
        conn = natted;
        this.conns.set(Conntrack.key(zone, s, false), natted);
        this.xlat.set(Conntrack.xlatKey(natted), natted);
      }
    }
    let mark = BigInt(conn.mark);
    for (const w of marks) mark = (mark & ~w.mask) | (w.value & w.mask);
    conn.mark = Number(mark & CT_MARK_ALL);
    return conn;
  }

  /** The committed connections (copies). */
  entries(): ConntrackEntry[] {
    return [...this.conns.values()].map((c) => ({ ...c }));
  }

  get size(): number {
    return this.conns.size;
  }

  flush(): void {
    this.conns.clear();
    this.xlat.clear();
  }
}

type NatAction = Extract<Action, { type: 'nat' }>;

/** The nat action nested in ct(), if any (only destination NAT to one address and port is modelled). */
function ctNat(actions: readonly Action[]): NatAction | undefined {
  const nat = actions.find((a): a is NatAction => a.type === 'nat');
  if (!nat) return undefined;
  if (nat.flags & ~0x2) throw new Error(`tracer: nat flags 0x${nat.flags.toString(16)} are not modelled (only dst)`);
  if (nat.ipMax !== undefined || nat.portMax !== undefined) throw new Error('tracer: nat ranges are not modelled');
  if ((nat.flags & 0x2) === 0 && nat.ipMin !== undefined) throw new Error('tracer: nat with an address needs dst');
  return nat;
}

/** Apply `conn`'s destination NAT to the packet (`reply`: the reverse translation of its source). */
function applyNat(s: State, conn: ConntrackEntry, reply: boolean): void {
  if (!conn.nat) return;
  const proto = s.get('ip_proto');
  const l4 = proto === 6n ? 'tcp' : proto === 17n ? 'udp' : undefined;
  if (!reply) {
    s.set('ipv4_dst', toBig('ipv4_dst', conn.nat.ip));
    if (l4) s.set(`${l4}_dst`, BigInt(conn.nat.port));
  } else {
    s.set('ipv4_src', toBig('ipv4_src', conn.dst));
    if (l4) s.set(`${l4}_src`, BigInt(conn.dstPort));
  }
}

/** The ct_mark writes of ct()'s nested actions (a nat action is read by ctNat); anything else is not modelled (ct_label). */
function ctMarkWrites(actions: readonly Action[]): MarkWrite[] {
  return actions
    .filter((a) => a.type !== 'nat')
    .map((a) => {
      if ((a.type === 'set_field' || a.type === 'reg_load2') && a.field.field === 'ct_mark') {
        const mask = a.field.mask === undefined ? CT_MARK_ALL : toBig('ct_mark', a.field.mask);
        return { value: toBig('ct_mark', a.field.value), mask };
      }
      if (a.type === 'reg_load' && a.dst.field === 'ct_mark') {
        if (a.dst.ofs + a.dst.nBits > 32) throw new Error('tracer: reg_load outside ct_mark');
        return { value: a.value << BigInt(a.dst.ofs), mask: bits(a.dst.nBits) << BigInt(a.dst.ofs) };
      }
      throw new Error(`tracer: ${a.type} nested in ct() is not modelled (only writes into ct_mark are)`);
    });
}

/** The flow's conjunction actions; OVS rejects a flow that mixes them with anything but notes. */
function conjunctionsOf(e: Pick<Entry, 'instructions' | 'feature' | 'object'>): Conjunction[] | undefined {
  const conj: Conjunction[] = [];
  let other = false;
  for (const ins of e.instructions) {
    if (ins.type !== 'apply_actions') {
      other = true;
      continue;
    }
    for (const a of ins.actions) {
      if (a.type === 'conjunction') conj.push(a);
      else if (a.type !== 'note') other = true;
    }
  }
  if (conj.length === 0) return undefined;
  const name = `${e.feature}/${e.object}`;
  if (other) throw new Error(`tracer: flow ${name} mixes conjunction with other actions or instructions (OVS rejects it)`);
  for (const c of conj) {
    if (!Number.isInteger(c.nClauses) || c.nClauses < 2 || c.nClauses > 64)
      throw new Error(`tracer: flow ${name}: conjunction ${c.id} needs 2..64 clauses (got ${c.nClauses})`);
    if (!Number.isInteger(c.clause) || c.clause < 0 || c.clause >= c.nClauses)
      throw new Error(`tracer: flow ${name}: conjunction ${c.id} clause ${c.clause} is outside 0..${c.nClauses - 1}`);
  }
  return conj;
}

/** undefined for a match with raw fields (those throw when a packet meets them) */
function matchKeyOf(match: Match): string | undefined {
  if (match.some((m) => m.field === 'raw')) return undefined;
  return match
    .map((m) => {
      if (m.field === 'raw') return '';
      const mask = m.mask === undefined ? bits(widthOf(m.field)) : toBig(m.field, m.mask);
      return `${m.field}=${(toBig(m.field, m.value) & mask).toString(16)}/${mask.toString(16)}`;
    })
    .sort()
    .join(',');
}

const MAX_DEPTH = 64;
const MAX_STEPS = 2000;

function isFlowMod(f: DesiredFlow | FlowMod): f is FlowMod {
  return (f as FlowMod).type === 'flow_mod';
}

export class PacketTracer {
  private readonly tables = new Map<number, Entry[]>();
  readonly conntrack: Conntrack;

  /** `conntrack`: connections to start from (shared with another tracer); a fresh one by default. */
  private readonly groups: Map<number, GroupDesc>;
  private readonly selectBucket: (groupId: number, buckets: number, packet: PacketFields) => number;

  /**
   * `conntrack`: connections to start from (shared with another tracer); a fresh one by default.
   * `groups`: the switch's groups; `selectBucket`: which bucket of a select group a packet takes.
   */
  constructor(
    flows: readonly (DesiredFlow | FlowMod)[],
    opts: {
      conntrack?: Conntrack;
      groups?: readonly GroupDesc[];
      selectBucket?: (groupId: number, buckets: number, packet: PacketFields) => number;
    } = {},
  ) {
    this.conntrack = opts.conntrack ?? new Conntrack();
    this.groups = new Map((opts.groups ?? []).map((g) => [g.groupId, g]));
    this.selectBucket = opts.selectBucket ?? tupleHashBucket;
    for (const f of flows) {
      let base: Omit<Entry, 'conj' | 'matchKey' | 'hiddenFromConjLookup'>;
      if (isFlowMod(f)) {
        if (f.command !== 'add') throw new Error(`tracer: only add flow_mods can be loaded (got ${f.command})`);
        base = {
          table: f.tableId,
          priority: f.priority,
          match: f.match,
          instructions: f.instructions,
          feature: undefined,
          object: undefined,
        };
      } else {
        base = { table: f.table, priority: f.priority, match: f.match, instructions: f.instructions, feature: f.feature, object: f.object };
      }
      if (base.match.some((m) => m.field === 'conj_id' && m.mask !== undefined))
        throw new Error(`tracer: flow ${base.feature}/${base.object} masks conj_id, which OVS cannot mask`);
      const e: Entry = { ...base, conj: conjunctionsOf(base), matchKey: matchKeyOf(base.match), hiddenFromConjLookup: false };
      const list = this.tables.get(e.table) ?? [];
      list.push(e);
      this.tables.set(e.table, list);
    }
    for (const [tableId, list] of this.tables) {
      list.sort((a, b) => b.priority - a.priority);
      const nClauses = new Map<string, number>();
      for (const e of list) {
        for (const c of e.conj ?? []) {
          const k = `${e.priority}/${c.id}`;
          const n = nClauses.get(k);
          if (n !== undefined && n !== c.nClauses)
            throw new Error(
              `tracer: conjunction ${c.id} at priority ${e.priority} in table ${tableId} has both ${n} and ${c.nClauses} clauses`,
            );
          nClauses.set(k, c.nClauses);
        }
        if (!e.conj && e.matchKey !== undefined)
          e.hiddenFromConjLookup = list.some((o) => o.conj && o.priority > e.priority && o.matchKey === e.matchKey);
      }
    }
  }

  /** Run one packet through the pipeline from table 0. */
  trace(p: Packet): TraceResult {
    const res: TraceResult = { outputs: [], steps: [], notes: [] };
    this.runPass(toState(p), 0, res, p.in_port);
    return res;
  }

  private runPass(s: State, firstTable: number, res: TraceResult, inPort: number): void {
    const actionSet: Action[] = [];
    try {
      this.runTable(s, firstTable, res, inPort, actionSet, 0);
      // the action set runs when the pipeline ends
      this.runActions(actionSet, s, res, inPort, 0, firstTable);
    } catch (e) {
      if (!(e instanceof TraceStop)) throw e;
      res.notes.push(e.message);
    }
  }

  /**
   * The highest-priority plain flow among `hits` (sorted by priority). Equal priorities are
   * ambiguous (OVS picks either) unless the flows do the same thing: then the first is as good as
   * any (policy's allows at one priority, say: Kubernetes' union of rules).
   */
  private static bestPlain(hits: readonly Entry[], tableId: number, forConjId: boolean): Entry | undefined {
    const plain = hits.filter((e) => !e.conj && !(forConjId && e.hiddenFromConjLookup));
    const best = plain[0];
    const tie = plain.find((e) => e !== best && e.priority === best?.priority && !sameInstructions(e, best));
    if (best && tie)
      throw new Error(
        `tracer: two flows of priority ${best.priority} in table ${tableId} match the packet (${best.feature}/${best.object} and ${tie.feature}/${tie.object})`,
      );
    return best;
  }

  /** OVS's classifier lookup with conjunctive matches (classifier_lookup__ in lib/classifier.c). */
  private classify(s: State, tableId: number, res: TraceResult): Hit | undefined {
    const list = this.tables.get(tableId) ?? [];
    const hits = list.filter((e) => entryMatches(e, s));
    const plainPri = hits.find((e) => !e.conj)?.priority ?? -Infinity;
    // clause flows only matter above the best plain flow (a plain flow wins a tie), highest first
    const softPris = [...new Set(hits.filter((e) => e.conj && e.priority > plainPri).map((e) => e.priority))];
    for (const pri of softPris) {
      const level = hits.filter((e) => e.conj && e.priority === pri);
      const byId = new Map<number, { n: number; clauses: Set<number>; flows: Entry[] }>();
      for (const e of level) {
        for (const c of e.conj!) {
          const m = byId.get(c.id) ?? { n: c.nClauses, clauses: new Set<number>(), flows: [] };
          m.clauses.add(c.clause);
          if (!m.flows.includes(e)) m.flows.push(e);
          byId.set(c.id, m);
        }
      }
      // OVS also skips a conjunction needing more clauses than there are clause flows at this priority
      const met = [...byId].filter(([, m]) => m.clauses.size === m.n && m.n <= level.length);
      if (met.length > 1)
        throw new Error(
          `tracer: conjunctions ${met.map(([id]) => id).join(' and ')} both match the packet at priority ${pri} in table ${tableId} (OVS picks either)`,
        );
      for (const [id, m] of byId) {
        if (!met.some(([metId]) => metId === id))
          res.notes.push(
            `table ${tableId}: conjunction ${id} at priority ${pri} not met (only clauses ${[...m.clauses].sort((a, b) => a - b).join(',')} of 0..${m.n - 1} match)`,
          );
      }
      const first = met[0];
      if (!first) continue;
      const [id, m] = first;
      // search the table again with conj_id set; clause flows are ignored then (no recursion)
      const withId: State = new Map(s);
      withId.set('conj_id', BigInt(id));
      const found = PacketTracer.bestPlain(
        list.filter((e) => entryMatches(e, withId)),
        tableId,
        true,
      );
      if (found) return { entry: found, conjId: id, clauses: m.flows };
      res.notes.push(`table ${tableId}: conjunction ${id} met at priority ${pri} but no flow matches conj_id=${id}`);
    }
    const best = PacketTracer.bestPlain(hits, tableId, false);
    return best && { entry: best };
  }

  private lookup(s: State, tableId: number, res: TraceResult): Entry | undefined {
    if (res.steps.length >= MAX_STEPS) throw new Error('tracer: too many steps (loop?)');
    const tableName = PIPELINE.find((t) => t.id === tableId)?.name ?? `table${tableId}`;
    const hit = this.classify(s, tableId, res);
    if (!hit) {
      res.steps.push({ table: tableId, tableName, priority: undefined, feature: undefined, object: undefined, noMatch: true });
      return undefined;
    }
    const { entry: e, conjId, clauses } = hit;
    const step: TraceStep = { table: tableId, tableName, priority: e.priority, feature: e.feature, object: e.object };
    if (conjId !== undefined && clauses) {
      step.conjId = conjId;
      step.conjClauses = clauses.flatMap((c) =>
        c
          .conj!.filter((x) => x.id === conjId)
          .map((x) => ({ clause: x.clause, priority: c.priority, feature: c.feature, object: c.object })),
      );
    }
    const meter = e.instructions.find((i) => i.type === 'meter');
    if (meter) step.meterId = meter.meterId;
    res.steps.push(step);
    return e;
  }

  private runTable(s: State, tableId: number, res: TraceResult, inPort: number, actionSet: Action[], depth: number): void {
    if (depth > MAX_DEPTH) throw new Error('tracer: resubmit depth exceeded');
    const e = this.lookup(s, tableId, res);
    if (!e) return;
    let next: number | undefined;
    for (const ins of e.instructions) {
      switch (ins.type) {
        case 'meter':
          // recorded in the step by lookup; rates are not modelled
          break;
        case 'apply_actions':
          this.runActions(ins.actions, s, res, inPort, depth, tableId);
          break;
        case 'write_actions':
          for (const a of ins.actions) {
            const i = actionSet.findIndex(
              (x) => x.type === a.type && (a.type !== 'set_field' || (x.type === 'set_field' && x.field.field === a.field.field)),
            );
            if (i >= 0) actionSet.splice(i, 1);
            actionSet.push(a);
          }
          break;
        case 'clear_actions':
          actionSet.length = 0;
          break;
        case 'goto_table':
          if (ins.tableId <= tableId) throw new Error(`tracer: goto_table ${ins.tableId} from table ${tableId} does not go forward`);
          next = ins.tableId;
          break;
        default:
          throw new Error(`tracer: instruction ${ins.type} is not modelled`);
      }
    }
    if (next !== undefined) this.runTable(s, next, res, inPort, actionSet, depth);
  }

  private readRef(s: State, r: FieldRef): bigint {
    if (typeof r.field === 'number') throw new Error('tracer: raw field references are not modelled');
    const v = s.get(r.field);
    if (v === undefined) throw new Error(`tracer: the packet has no ${r.field} to read`);
    return (v >> BigInt(r.ofs)) & bits(r.nBits);
  }

  private writeRef(s: State, r: FieldRef, value: bigint): void {
    if (typeof r.field === 'number') throw new Error('tracer: raw field references are not modelled');
    const cur = s.get(r.field);
    if (cur === undefined) throw new Error(`tracer: the packet has no ${r.field} to write`);
    if (r.ofs + r.nBits > widthOf(r.field)) throw new Error(`tracer: ${r.field}[${r.ofs}..${r.ofs + r.nBits - 1}] is outside the field`);
    const mask = bits(r.nBits) << BigInt(r.ofs);
    s.set(r.field, (cur & ~mask) | ((value << BigInt(r.ofs)) & mask));
  }

  private setField(s: State, f: KnownOxm): void {
    const cur = s.get(f.field);
    if (cur === undefined) throw new Error(`tracer: set_field ${f.field} on a packet without that field`);
    let v = toBig(f.field, f.value);
    if (f.field === 'vlan_vid') {
      if (!(cur & VID_PRESENT)) throw new Error('tracer: set_field vlan_vid on an untagged packet');
      v |= VID_PRESENT;
    }
    const mask = f.mask === undefined ? bits(widthOf(f.field)) : toBig(f.field, f.mask);
    s.set(f.field, (cur & ~mask) | (v & mask));
  }

  private runActions(actions: readonly Action[], s: State, res: TraceResult, inPort: number, depth: number, tableId: number): void {
    for (const a of actions) {
      switch (a.type) {
        case 'output': {
          const port = a.port === OFPP.IN_PORT ? inPort : a.port;
          if (a.port !== OFPP.IN_PORT && a.port === inPort) {
            res.notes.push(`output to input port ${inPort} suppressed`);
            break;
          }
          const regs = Array.from({ length: 8 }, (_, i) => Number(s.get(`reg${i}` as OxmFieldName) ?? 0n));
          res.outputs.push({ port, packet: toFields(s), regs });
          break;
        }
        case 'set_field':
          if (a.field.field === 'raw') throw new Error('tracer: raw set_field is not modelled');
          this.setField(s, a.field);
          break;
        case 'reg_load2':
          if (a.field.field === 'raw') throw new Error('tracer: raw reg_load2 is not modelled');
          this.setField(s, a.field);
          break;
        case 'reg_load':
          this.writeRef(s, a.dst, a.value);
          break;
        case 'reg_move':
          if (a.src.nBits !== a.dst.nBits) throw new Error('tracer: reg_move with different widths');
          this.writeRef(s, a.dst, this.readRef(s, a.src));
          break;
        case 'push_vlan':
          if ((s.get('vlan_vid') ?? 0n) & VID_PRESENT) throw new Error('tracer: push_vlan on a tagged packet (QinQ is not modelled)');
          if (a.ethertype !== 0x8100) throw new Error('tracer: only 802.1Q tags are modelled');
          s.set('vlan_vid', VID_PRESENT);
          break;
        case 'pop_vlan':
          if (!((s.get('vlan_vid') ?? 0n) & VID_PRESENT)) throw new Error('tracer: pop_vlan on an untagged packet');
          s.set('vlan_vid', 0n);
          break;
        case 'dec_nw_ttl': {
          const ttl = s.get('ip_ttl');
          if (ttl === undefined) throw new Error('tracer: dec_nw_ttl on a non-IP packet');
          if (ttl <= 1n) throw new TraceStop('TTL expired: packet dropped by dec_ttl');
          s.set('ip_ttl', ttl - 1n);
          break;
        }
        case 'set_nw_ttl':
          if (!s.has('ip_ttl')) throw new Error('tracer: set_nw_ttl on a non-IP packet');
          s.set('ip_ttl', BigInt(a.ttl));
          break;
        case 'resubmit': {
          const t = a.table === NO_TABLE ? tableId : a.table;
          const saved = s.get('in_port')!;
          if (a.inPort !== OFPP.IN_PORT) s.set('in_port', BigInt(a.inPort));
          this.runTable(s, t, res, inPort, [], depth + 1);
          s.set('in_port', saved);
          break;
        }
        case 'ct': {
          if (s.get('eth_type') !== ETH_IPV4) throw new Error('tracer: ct() on a non-IPv4 packet');
          if (a.flags & CT_FORCE) throw new Error('tracer: ct(force) is not modelled');
          const commit = (a.flags & CT_COMMIT) !== 0;
          const marks = ctMarkWrites(a.actions);
          const nat = ctNat(a.actions);
          if (marks.length > 0 && !commit) throw new Error('tracer: ct() writing ct_mark without commit (OVS rejects it)');
          if (nat?.ipMin !== undefined && !commit) throw new Error('tracer: ct(nat(dst=...)) without commit (OVS rejects it)');
          const zone = a.zoneSrc ? Number(this.readRef(s, a.zoneSrc)) : a.zoneImm;
          const seen = this.conntrack.lookup(zone, s);
          const state = seen.state;
          let conn = seen.conn;
          // the datapath commits before it recirculates: the fork sees the mark just written
          if (commit && !(state & CT_INV)) {
            const dnat = nat?.ipMin === undefined ? undefined : { ip: nat.ipMin, port: nat.portMin ?? 0 };
            conn = this.conntrack.commit(zone, s, marks, dnat);
          }
          if (nat && conn?.nat) {
            applyNat(s, conn, (state & CT_RPL) !== 0n);
            res.notes.push(
              `ct(zone=${zone}, nat): ${conn.src} -> ${conn.dst}:${conn.dstPort} translated to ${conn.nat.ip}:${conn.nat.port}`,
            );
          }
          if (a.recircTable !== NO_TABLE) {
            const fork: State = new Map(s);
            const mark = BigInt(conn?.mark ?? 0);
            fork.set('ct_state', state);
            fork.set('ct_zone', BigInt(zone));
            fork.set('ct_mark', mark);
            res.notes.push(
              `ct(zone=${zone}) -> table ${a.recircTable} with ct_state 0x${state.toString(16)} ct_mark 0x${mark.toString(16)}`,
            );
            this.runPass(fork, a.recircTable, res, inPort);
          }
          // the packet that goes on after ct() has no conntrack metadata (ovs-actions(7))
          for (const f of ['ct_state', 'ct_zone', 'ct_mark'] as const) s.set(f, 0n);
          break;
        }
        case 'note':
          break;
        case 'controller': {
          const regs = Array.from({ length: 8 }, (_, i) => Number(s.get(`reg${i}` as OxmFieldName) ?? 0n));
          res.outputs.push({ port: OFPP.CONTROLLER, packet: toFields(s), regs });
          break;
        }
        case 'group': {
          const g = this.groups.get(a.groupId);
          if (!g) throw new Error(`tracer: group ${a.groupId} does not exist (OVS refuses the flow)`);
          if (g.groupType !== 'select' && g.groupType !== 'all') throw new Error(`tracer: ${g.groupType} groups are not modelled`);
          if (g.buckets.length === 0) {
            res.notes.push(`group ${g.groupId} has no bucket: dropped`);
            break;
          }
          let chosen = g.buckets;
          if (g.groupType === 'select') {
            const i = this.selectBucket(g.groupId, g.buckets.length, toFields(s));
            res.notes.push(`group ${g.groupId}: bucket ${i} of ${g.buckets.length}`);
            chosen = [g.buckets[i]!];
          }
          // each bucket acts on a copy of the packet, as OVS's group translation does
          for (const b of chosen) this.runActions(b.actions, new Map(s), res, inPort, depth + 1, tableId);
          break;
        }
        default:
          throw new Error(`tracer: action ${a.type} is not modelled`);
      }
    }
  }
}

/** The default select-group choice: a hash of the packet's 5-tuple (one connection, one bucket). */
export function tupleHashBucket(_groupId: number, buckets: number, p: PacketFields): number {
  const t = `${p.ip_proto}/${p.ipv4_src}:${p.tcp_src ?? p.udp_src ?? 0}>${p.ipv4_dst}:${p.tcp_dst ?? p.udp_dst ?? 0}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193) >>> 0;
  return h % buckets;
}

/** The packet as the next hop receives an output: on `inPort`, tunnel source set when it crossed a tunnel. */
export function receivedAs(out: TraceOutput, inPort: number, opts: { tunSrc?: string } = {}): Packet {
  const p: Packet = { ...out.packet, in_port: inPort };
  if (opts.tunSrc !== undefined) p.tun_ipv4_src = opts.tunSrc;
  return p;
}
