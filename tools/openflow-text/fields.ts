/**
 * Field names and values in ovs-ofctl text syntax: the aliases ovs-fields(7) accepts for each field
 * (short names, NXM_* and OXM_* names), parsing of `value[/mask]` per field kind (integers, MAC,
 * IPv4/IPv6 with prefix or mask, ct_state and tcp_flags flag sets, port names), bit-range field
 * references (`NXM_NX_REG0[0..15]`), and the inverse formatting.
 */
import { NetloomError } from '../../lib/errors';
import type { FieldRef, OxmFieldName, OxmValue } from '../../ovs/openflow/messages';
import { OFPP } from '../../ovs/openflow/messages';
import { FIELD_BY_NAME, type FieldSpec, fieldSpec, refBits, valueToBytes, bytesToValue } from '../../ovs/openflow/oxm';

export function textError(field: string, msg: string): NetloomError {
  return new NetloomError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

const ALIASES: Record<string, OxmFieldName> = {};
function alias(name: OxmFieldName, ...names: string[]): void {
  ALIASES[name.toLowerCase()] = name;
  for (const n of names) ALIASES[n.toLowerCase()] = name;
}
alias('in_port', 'nxm_of_in_port', 'oxm_of_in_port');
alias('in_phy_port', 'oxm_of_in_phy_port');
alias('metadata', 'oxm_of_metadata');
alias('eth_src', 'dl_src', 'nxm_of_eth_src', 'oxm_of_eth_src');
alias('eth_dst', 'dl_dst', 'nxm_of_eth_dst', 'oxm_of_eth_dst');
alias('eth_type', 'dl_type', 'nxm_of_eth_type', 'oxm_of_eth_type');
alias('vlan_tci', 'nxm_of_vlan_tci');
alias('vlan_vid', 'oxm_of_vlan_vid');
alias('vlan_pcp', 'dl_vlan_pcp', 'oxm_of_vlan_pcp');
alias('ip_proto', 'nw_proto', 'nxm_of_ip_proto', 'oxm_of_ip_proto');
alias('ipv4_src', 'nw_src', 'ip_src', 'nxm_of_ip_src', 'oxm_of_ipv4_src');
alias('ipv4_dst', 'nw_dst', 'ip_dst', 'nxm_of_ip_dst', 'oxm_of_ipv4_dst');
alias('ip_dscp', 'oxm_of_ip_dscp');
alias('ip_ecn', 'nw_ecn', 'nxm_nx_ip_ecn', 'oxm_of_ip_ecn');
alias('ip_ttl', 'nw_ttl', 'nxm_nx_ip_ttl');
alias('ip_frag', 'nw_frag', 'nxm_nx_ip_frag');
alias('tcp_src', 'nxm_of_tcp_src', 'oxm_of_tcp_src');
alias('tcp_dst', 'nxm_of_tcp_dst', 'oxm_of_tcp_dst');
alias('udp_src', 'nxm_of_udp_src', 'oxm_of_udp_src');
alias('udp_dst', 'nxm_of_udp_dst', 'oxm_of_udp_dst');
alias('sctp_src', 'oxm_of_sctp_src');
alias('sctp_dst', 'oxm_of_sctp_dst');
alias('icmpv4_type', 'icmp_type', 'nxm_of_icmp_type', 'oxm_of_icmpv4_type');
alias('icmpv4_code', 'icmp_code', 'nxm_of_icmp_code', 'oxm_of_icmpv4_code');
alias('icmpv6_type', 'nxm_nx_icmpv6_type', 'oxm_of_icmpv6_type');
alias('icmpv6_code', 'nxm_nx_icmpv6_code', 'oxm_of_icmpv6_code');
alias('arp_op', 'nxm_of_arp_op', 'oxm_of_arp_op');
alias('arp_spa', 'nxm_of_arp_spa', 'oxm_of_arp_spa');
alias('arp_tpa', 'nxm_of_arp_tpa', 'oxm_of_arp_tpa');
alias('arp_sha', 'nxm_nx_arp_sha', 'oxm_of_arp_sha');
alias('arp_tha', 'nxm_nx_arp_tha', 'oxm_of_arp_tha');
alias('ipv6_src', 'nxm_nx_ipv6_src', 'oxm_of_ipv6_src');
alias('ipv6_dst', 'nxm_nx_ipv6_dst', 'oxm_of_ipv6_dst');
alias('ipv6_label', 'nxm_nx_ipv6_label', 'oxm_of_ipv6_flabel');
alias('nd_target', 'nxm_nx_nd_target', 'oxm_of_ipv6_nd_target');
alias('nd_sll', 'nxm_nx_nd_sll', 'oxm_of_ipv6_nd_sll');
alias('nd_tll', 'nxm_nx_nd_tll', 'oxm_of_ipv6_nd_tll');
alias('mpls_label', 'oxm_of_mpls_label');
alias('mpls_tc', 'oxm_of_mpls_tc');
alias('mpls_bos', 'oxm_of_mpls_bos');
alias('pbb_isid', 'oxm_of_pbb_isid');
alias('tunnel_id', 'tun_id', 'nxm_nx_tun_id', 'oxm_of_tunnel_id');
alias('ipv6_exthdr', 'oxm_of_ipv6_exthdr');
for (let i = 0; i < 16; i++) alias(`reg${i}` as OxmFieldName, `nxm_nx_reg${i}`);
for (let i = 0; i < 8; i++) alias(`xreg${i}` as OxmFieldName, `oxm_of_pkt_reg${i}`);
alias('tun_ipv4_src', 'tun_src', 'nxm_nx_tun_ipv4_src');
alias('tun_ipv4_dst', 'tun_dst', 'nxm_nx_tun_ipv4_dst');
alias('pkt_mark', 'nxm_nx_pkt_mark');
alias('dp_hash', 'nxm_nx_dp_hash');
alias('recirc_id', 'nxm_nx_recirc_id');
alias('conj_id', 'nxm_nx_conj_id');
alias('tun_flags', 'nxm_nx_tun_flags');
alias('ct_state', 'nxm_nx_ct_state');
alias('ct_zone', 'nxm_nx_ct_zone');
alias('ct_mark', 'nxm_nx_ct_mark');
alias('ct_label', 'nxm_nx_ct_label');
alias('tcp_flags', 'nxm_nx_tcp_flags', 'onf_tcp_flags');
alias('actset_output', 'onf_actset_output');

/** The field a text name (any alias, case-insensitive) names, or undefined. */
export function lookupField(name: string): OxmFieldName | undefined {
  return ALIASES[name.toLowerCase()];
}

/** Short names used when printing (the ovs-ofctl names). */
const PRINT_NAMES: Partial<Record<OxmFieldName, string>> = {
  eth_src: 'dl_src',
  eth_dst: 'dl_dst',
  eth_type: 'dl_type',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
  ip_proto: 'nw_proto',
  ip_ecn: 'nw_ecn',
  ip_ttl: 'nw_ttl',
  ip_frag: 'nw_frag',
  icmpv4_type: 'icmp_type',
  icmpv4_code: 'icmp_code',
  tunnel_id: 'tun_id',
  tun_ipv4_src: 'tun_src',
  tun_ipv4_dst: 'tun_dst',
  vlan_pcp: 'dl_vlan_pcp',
};

export function printName(f: OxmFieldName): string {
  return PRINT_NAMES[f] ?? f;
}

// ---------- numbers ----------

/** Parse a decimal or 0x-hex unsigned integer as bigint. */
export function parseBig(s: string, field: string): bigint {
  const t = s.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw textError(field, `'${s}' is not a number`);
  return BigInt(t);
}

export function parseNum(s: string, field: string, max = 0xffffffff): number {
  const v = parseBig(s, field);
  if (v > BigInt(max)) throw textError(field, `${s} is larger than ${max}`);
  return Number(v);
}

const PORT_NAMES: Record<string, number> = {
  in_port: OFPP.IN_PORT,
  table: OFPP.TABLE,
  normal: OFPP.NORMAL,
  flood: OFPP.FLOOD,
  all: OFPP.ALL,
  controller: OFPP.CONTROLLER,
  local: OFPP.LOCAL,
  any: OFPP.ANY,
  none: OFPP.ANY,
};

/** A port number or reserved port name (IN_PORT, LOCAL, CONTROLLER, ALL, FLOOD, NORMAL, TABLE, ANY). */
export function parsePort(s: string, field: string): number {
  const named = PORT_NAMES[s.trim().toLowerCase()];
  if (named !== undefined) return named;
  const v = parseNum(s, field);
  if (v >= 0xff00 && v <= 0xffff) return v + 0xffff0000; // OF1.0 reserved numbers
  return v;
}

export function formatPort(p: number): string {
  for (const [name, v] of Object.entries(PORT_NAMES)) if (v === p && name !== 'none') return name.toUpperCase();
  return String(p);
}

// ---------- flag sets ----------

export const CT_STATE_FLAGS: Record<string, number> = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
  snat: 0x40,
  dnat: 0x80,
};
export const TCP_FLAGS: Record<string, number> = {
  fin: 0x001,
  syn: 0x002,
  rst: 0x004,
  psh: 0x008,
  ack: 0x010,
  urg: 0x020,
  ece: 0x040,
  cwr: 0x080,
  ns: 0x100,
};

function parseFlagSet(s: string, flags: Record<string, number>, field: string): { value: number; mask: number } {
  let value = 0;
  let mask = 0;
  const re = /([+-])([a-z]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s)) !== null) {
    const bit = flags[m[2]!];
    if (bit === undefined) throw textError(field, `unknown flag '${m[2]}' (known: ${Object.keys(flags).join(', ')})`);
    if (mask & bit) throw textError(field, `flag '${m[2]}' given twice`);
    mask |= bit;
    if (m[1] === '+') value |= bit;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0) throw textError(field, `'${s}' is not a +flag-flag list`);
  return { value, mask };
}

function formatFlagSet(value: number, mask: number, flags: Record<string, number>): string {
  let s = '';
  for (const [name, bit] of Object.entries(flags)) if (mask & bit) s += (value & bit ? '+' : '-') + name;
  return s;
}

// ---------- values ----------

function allOnes(spec: FieldSpec): bigint {
  return (1n << BigInt(spec.bytes * 8)) - 1n;
}

function prefixMask(bits: number, width: number, field: string): bigint {
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw textError(field, `prefix length /${bits} out of range 0..${width}`);
  return bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
}

function bigToValue(spec: FieldSpec, v: bigint): OxmValue {
  const b = Buffer.alloc(spec.bytes);
  let x = v;
  for (let i = spec.bytes - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return bytesToValue(spec, b);
}

export function valueToBig(spec: FieldSpec, v: OxmValue, field: string): bigint {
  const b = valueToBytes(spec, v, field);
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}

/** Parse the value (and optional mask) of `field` in text form, as OxmValues of its kind. */
export function parseFieldValue(name: OxmFieldName, text: string, where: string = name): { value: OxmValue; mask?: OxmValue } {
  const spec = fieldSpec(name, where);
  const t = text.trim();
  if (name === 'ct_state' && /^[+-]/.test(t)) {
    const { value, mask } = parseFlagSet(t, CT_STATE_FLAGS, where);
    return { value, mask };
  }
  if (name === 'tcp_flags' && /^[+-]/.test(t)) {
    const { value, mask } = parseFlagSet(t, TCP_FLAGS, where);
    return mask === 0xfff ? { value } : { value, mask };
  }
  if (name === 'in_port' || name === 'actset_output') return { value: parsePort(t, where) };
  const slash = t.indexOf('/');
  const vText = slash < 0 ? t : t.slice(0, slash);
  const mText = slash < 0 ? undefined : t.slice(slash + 1);
  if (spec.kind === 'uint') {
    const v = parseBig(vText, where);
    if (v > allOnes(spec)) throw textError(where, `${vText} does not fit in ${spec.bytes * 8} bits`);
    if (mText === undefined) return { value: bigToValue(spec, v) };
    if (!spec.maskable) throw textError(where, `field ${name} cannot be masked`);
    const m = parseBig(mText, where);
    if (m > allOnes(spec)) throw textError(where, `mask ${mText} does not fit in ${spec.bytes * 8} bits`);
    return { value: bigToValue(spec, v), mask: bigToValue(spec, m) };
  }
  // address kinds: validate by converting
  valueToBytes(spec, vText, where);
  if (mText === undefined) return { value: vText };
  if (!spec.maskable) throw textError(where, `field ${name} cannot be masked`);
  if (/^\d+$/.test(mText) && spec.kind !== 'mac') {
    return { value: vText, mask: bigToValue(spec, prefixMask(Number(mText), spec.bytes * 8, where)) };
  }
  valueToBytes(spec, mText, where);
  return { value: vText, mask: mText };
}

/** Format a value (and mask) of `name` in text form that parseFieldValue reads back. */
export function formatFieldValue(name: OxmFieldName, value: OxmValue, mask?: OxmValue): string {
  const spec = FIELD_BY_NAME.get(name)!;
  if (name === 'ct_state' && typeof value === 'number') {
    const m = typeof mask === 'number' ? mask : 0xffffffff;
    if ((m & ~0xff) === 0 && (value & ~m) === 0) return formatFlagSet(value, m, CT_STATE_FLAGS) || `0/0`;
  }
  if (name === 'in_port' || name === 'actset_output') return formatPort(Number(value));
  if (spec.kind === 'uint') {
    const v = typeof value === 'bigint' ? value : BigInt(value as number);
    const hex = (x: bigint): string => `0x${x.toString(16)}`;
    if (mask === undefined) return spec.bytes > 2 || name.startsWith('reg') ? hex(v) : v.toString();
    const m = typeof mask === 'bigint' ? mask : BigInt(mask as number);
    return `${hex(v)}/${hex(m)}`;
  }
  return mask === undefined ? String(value) : `${String(value)}/${String(mask)}`;
}

// ---------- field references ----------

/** Parse `NAME[]`, `NAME[a..b]`, `NAME[a]` or `NAME` (whole field). */
export function parseFieldRef(text: string, where: string): FieldRef {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(text.trim());
  if (!m) throw textError(where, `'${text}' is not a field reference like NXM_NX_REG0[0..15]`);
  const field = lookupField(m[1]!);
  if (!field) throw textError(where, `unknown field '${m[1]}'`);
  const bits = refBits(FIELD_BY_NAME.get(field)!);
  if (m[2] === undefined) return { field, ofs: 0, nBits: bits };
  const lo = Number(m[2]);
  const hi = m[3] === undefined ? lo : Number(m[3]);
  if (hi < lo || hi >= bits) throw textError(where, `bit range [${lo}..${hi}] is outside the ${bits}-bit field ${m[1]}`);
  return { field, ofs: lo, nBits: hi - lo + 1 };
}

export function formatFieldRef(ref: FieldRef): string {
  if (typeof ref.field === 'number') return `0x${ref.field.toString(16)}[${ref.ofs}..${ref.ofs + ref.nBits - 1}]`;
  const bits = refBits(FIELD_BY_NAME.get(ref.field)!);
  const name = ref.field;
  if (ref.ofs === 0 && ref.nBits === bits) return `${name}[]`;
  if (ref.nBits === 1) return `${name}[${ref.ofs}]`;
  return `${name}[${ref.ofs}..${ref.ofs + ref.nBits - 1}]`;
}

/** Bits of a whole field as a bigint (value kinds converted). */
export function fieldValueBig(name: OxmFieldName, v: OxmValue, where: string): bigint {
  return valueToBig(fieldSpec(name, where), v, where);
}

export function fieldValueFromBig(name: OxmFieldName, v: bigint): OxmValue {
  return bigToValue(fieldSpec(name), v);
}
