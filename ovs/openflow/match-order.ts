/**
 * Canonical form of a match as Open vSwitch writes it over OpenFlow 1.3: values ANDed with their
 * masks, all-ones masks dropped, all-zero masks dropping the entry, xregN split into the register
 * pair reg(2N)/reg(2N+1), vlan_tci turned into vlan_vid/vlan_pcp, a field given twice keeping its
 * last value, and entries in OVS's fixed emission order. Two matches that mean the same then encode to the same bytes as ovs-ofctl's.
 */
import type { KnownOxm, Match, OxmField, OxmFieldName } from './messages';
import { bytesToValue, FIELD_BY_NAME, valueToBytes } from './oxm';

const ORDER: readonly OxmFieldName[] = [
  'dp_hash',
  'recirc_id',
  'conj_id',
  'in_port',
  'actset_output',
  'eth_src',
  'eth_dst',
  'eth_type',
  'vlan_vid',
  'vlan_pcp',
  'mpls_tc',
  'mpls_bos',
  'mpls_label',
  'ipv4_src',
  'ipv4_dst',
  'ipv6_src',
  'ipv6_dst',
  'ip_frag',
  'ip_dscp',
  'ip_ecn',
  'ip_ttl',
  'ipv6_label',
  'ip_proto',
  'tcp_src',
  'tcp_dst',
  'tcp_flags',
  'udp_src',
  'udp_dst',
  'sctp_src',
  'sctp_dst',
  'icmpv4_type',
  'icmpv4_code',
  'icmpv6_type',
  'icmpv6_code',
  'nd_target',
  'nd_sll',
  'nd_tll',
  'arp_op',
  'arp_spa',
  'arp_tpa',
  'arp_sha',
  'arp_tha',
  'tunnel_id',
  'tun_flags',
  'tun_ipv4_src',
  'tun_ipv4_dst',
  'reg0',
  'reg1',
  'reg2',
  'reg3',
  'reg4',
  'reg5',
  'reg6',
  'reg7',
  'reg8',
  'reg9',
  'reg10',
  'reg11',
  'reg12',
  'reg13',
  'reg14',
  'reg15',
  'pkt_mark',
  'ct_state',
  'ct_zone',
  'ct_mark',
  'ct_label',
  'metadata',
  'in_phy_port',
  'pbb_isid',
  'ipv6_exthdr',
];
const RANK: ReadonlyMap<string, number> = new Map(ORDER.map((n, i) => [n, i]));

function normalize(e: KnownOxm): KnownOxm | undefined {
  if (e.mask === undefined) return e;
  const spec = FIELD_BY_NAME.get(e.field)!;
  const v = valueToBytes(spec, e.value);
  const m = valueToBytes(spec, e.mask);
  if (e.field === 'ip_frag' && (m[0]! & 3) === 3) return { field: e.field, value: v[0]! & 3 };
  let ones = true;
  let zero = true;
  for (let i = 0; i < v.length; i++) {
    v[i] = v[i]! & m[i]!;
    if (m[i] !== 0xff) ones = false;
    if (m[i] !== 0) zero = false;
  }
  if (zero) return undefined;
  if (ones) return { field: e.field, value: bytesToValue(spec, v) };
  if (e.field === 'vlan_vid' && m.readUInt16BE(0) === 0x1fff) return { field: e.field, value: bytesToValue(spec, v) };
  return { field: e.field, value: bytesToValue(spec, v), mask: bytesToValue(spec, m) };
}

function splitXreg(e: KnownOxm): KnownOxm[] {
  const n = Number(e.field.slice(4));
  const v = BigInt(e.value as bigint);
  const m = e.mask === undefined ? (1n << 64n) - 1n : BigInt(e.mask as bigint);
  const hi: KnownOxm = { field: `reg${2 * n}` as OxmFieldName, value: Number(v >> 32n), mask: Number(m >> 32n) };
  const lo: KnownOxm = { field: `reg${2 * n + 1}` as OxmFieldName, value: Number(v & 0xffffffffn), mask: Number(m & 0xffffffffn) };
  return [hi, lo];
}

function splitVlanTci(e: KnownOxm): KnownOxm[] {
  const tci = Number(e.value);
  const mask = e.mask === undefined ? 0xffff : Number(e.mask);
  const out: KnownOxm[] = [];
  const vidMask = mask & 0x1fff;
  if (vidMask) out.push({ field: 'vlan_vid', value: tci & 0x1fff, mask: vidMask });
  if ((tci & 0x1fff) !== 0 && (mask & 0xe000) === 0xe000) out.push({ field: 'vlan_pcp', value: tci >> 13 });
  return out;
}

/** The canonical (OVS wire order, normalized) form of a match. Unknown (raw) entries go last, in order. */
export function canonicalMatch(match: Match): Match {
  const known: KnownOxm[] = [];
  const raw: OxmField[] = [];
  for (const e of match) {
    if (e.field === 'raw') raw.push(e);
    else if (e.field.startsWith('xreg')) known.push(...splitXreg(e));
    else if (e.field === 'vlan_tci') known.push(...splitVlanTci(e));
    else known.push(e);
  }
  // a field given twice (e.g. reg0 and then xreg0, which covers it) keeps the last value, as OVS does
  const last = new Map<string, KnownOxm>();
  for (const e of known) last.set(e.field, e);
  const normalized: KnownOxm[] = [];
  for (const e of last.values()) {
    const n = normalize(e);
    if (n) normalized.push(n);
  }
  normalized.sort((a, b) => (RANK.get(a.field) ?? 999) - (RANK.get(b.field) ?? 999));
  return [...normalized, ...raw];
}
