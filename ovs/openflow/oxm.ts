/**
 * OXM/NXM match fields: the table of fields (class, number, width, value kind, maskability,
 * prerequisites) as Open vSwitch encodes them over OpenFlow 1.3, value conversion, TLV encoding
 * and decoding, and the prerequisite check applied before a match is encoded.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import type { KnownOxm, Match, OxmField, OxmFieldName, OxmValue, RawOxm } from './messages';
import { ONF_VENDOR_ID } from './messages';
import { Reader, Writer } from './wire';

export const OXM_CLASS = { NXM_OF: 0x0000, NXM_NX: 0x0001, OPENFLOW_BASIC: 0x8000, PACKET_REGS: 0x8001, EXPERIMENTER: 0xffff } as const;

export type ValueKind = 'uint' | 'mac' | 'ipv4' | 'ipv6';

export interface FieldSpec {
  name: OxmFieldName;
  oxmClass: number;
  oxmField: number;
  experimenter?: number;
  /** value width in bytes */
  bytes: number;
  kind: ValueKind;
  maskable: boolean;
  /** significant bits when narrower than bytes*8 (OVS's n_bits: vlan_vid 12, ip_dscp 6, ...) */
  nBits?: number;
  /** the NXM (class 0/1) header number OVS uses for this field in action field references, if any */
  nxm?: { oxmClass: number; oxmField: number; bytes: number };
}

function f(
  name: OxmFieldName,
  oxmClass: number,
  oxmField: number,
  bytes: number,
  kind: ValueKind,
  maskable: boolean,
  experimenter?: number,
): FieldSpec {
  return experimenter === undefined
    ? { name, oxmClass, oxmField, bytes, kind, maskable }
    : { name, oxmClass, oxmField, bytes, kind, maskable, experimenter };
}

const B = OXM_CLASS.OPENFLOW_BASIC;
const NX = OXM_CLASS.NXM_NX;

/** Every field this codec knows, with the header OVS uses for it in OpenFlow 1.3. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  f('in_port', B, 0, 4, 'uint', false),
  f('in_phy_port', B, 1, 4, 'uint', false),
  f('metadata', B, 2, 8, 'uint', true),
  f('eth_dst', B, 3, 6, 'mac', true),
  f('eth_src', B, 4, 6, 'mac', true),
  f('eth_type', B, 5, 2, 'uint', false),
  f('vlan_vid', B, 6, 2, 'uint', true),
  f('vlan_pcp', B, 7, 1, 'uint', false),
  f('ip_dscp', B, 8, 1, 'uint', false),
  f('ip_ecn', B, 9, 1, 'uint', false),
  f('ip_proto', B, 10, 1, 'uint', false),
  f('ipv4_src', B, 11, 4, 'ipv4', true),
  f('ipv4_dst', B, 12, 4, 'ipv4', true),
  f('tcp_src', B, 13, 2, 'uint', true),
  f('tcp_dst', B, 14, 2, 'uint', true),
  f('udp_src', B, 15, 2, 'uint', true),
  f('udp_dst', B, 16, 2, 'uint', true),
  f('sctp_src', B, 17, 2, 'uint', true),
  f('sctp_dst', B, 18, 2, 'uint', true),
  f('icmpv4_type', B, 19, 1, 'uint', false),
  f('icmpv4_code', B, 20, 1, 'uint', false),
  f('arp_op', B, 21, 2, 'uint', false),
  f('arp_spa', B, 22, 4, 'ipv4', true),
  f('arp_tpa', B, 23, 4, 'ipv4', true),
  f('arp_sha', B, 24, 6, 'mac', true),
  f('arp_tha', B, 25, 6, 'mac', true),
  f('ipv6_src', B, 26, 16, 'ipv6', true),
  f('ipv6_dst', B, 27, 16, 'ipv6', true),
  f('ipv6_label', B, 28, 4, 'uint', true),
  f('icmpv6_type', B, 29, 1, 'uint', false),
  f('icmpv6_code', B, 30, 1, 'uint', false),
  f('nd_target', B, 31, 16, 'ipv6', true),
  f('nd_sll', B, 32, 6, 'mac', true),
  f('nd_tll', B, 33, 6, 'mac', true),
  f('mpls_label', B, 34, 4, 'uint', false),
  f('mpls_tc', B, 35, 1, 'uint', false),
  f('mpls_bos', B, 36, 1, 'uint', false),
  f('pbb_isid', B, 37, 3, 'uint', true),
  f('tunnel_id', B, 38, 8, 'uint', true),
  f('ipv6_exthdr', B, 39, 2, 'uint', true),
  ...Array.from({ length: 16 }, (_, i) => f(`reg${i}` as OxmFieldName, NX, i, 4, 'uint', true)),
  ...Array.from({ length: 8 }, (_, i) => f(`xreg${i}` as OxmFieldName, OXM_CLASS.PACKET_REGS, i, 8, 'uint', true)),
  f('ip_frag', NX, 26, 1, 'uint', true),
  f('ip_ttl', NX, 29, 1, 'uint', false),
  f('tun_ipv4_src', NX, 31, 4, 'ipv4', true),
  f('tun_ipv4_dst', NX, 32, 4, 'ipv4', true),
  f('pkt_mark', NX, 33, 4, 'uint', true),
  f('dp_hash', NX, 35, 4, 'uint', true),
  f('recirc_id', NX, 36, 4, 'uint', false),
  f('conj_id', NX, 37, 4, 'uint', false),
  f('tun_flags', NX, 104, 2, 'uint', true),
  f('ct_state', NX, 105, 4, 'uint', true),
  f('ct_zone', NX, 106, 2, 'uint', false),
  f('ct_mark', NX, 107, 4, 'uint', true),
  f('ct_label', NX, 108, 16, 'uint', true),
  f('vlan_tci', OXM_CLASS.NXM_OF, 4, 2, 'uint', true),
  f('tcp_flags', OXM_CLASS.EXPERIMENTER, 42, 2, 'uint', true, ONF_VENDOR_ID),
  f('actset_output', OXM_CLASS.EXPERIMENTER, 43, 4, 'uint', false, ONF_VENDOR_ID),
];

/** NXM headers of fields that have one (NXM_OF_* class 0, NXM_NX_* class 1): OVS names fields by these in actions. */
const NXM_ALIASES: Partial<Record<OxmFieldName, [number, number, number?]>> = {
  in_port: [0, 0, 2],
  eth_dst: [0, 1],
  eth_src: [0, 2],
  eth_type: [0, 3],
  vlan_tci: [0, 4],
  ip_proto: [0, 6],
  ipv4_src: [0, 7],
  ipv4_dst: [0, 8],
  tcp_src: [0, 9],
  tcp_dst: [0, 10],
  udp_src: [0, 11],
  udp_dst: [0, 12],
  icmpv4_type: [0, 13],
  icmpv4_code: [0, 14],
  arp_op: [0, 15],
  arp_spa: [0, 16],
  arp_tpa: [0, 17],
  tunnel_id: [1, 16],
  arp_sha: [1, 17],
  arp_tha: [1, 18],
  ipv6_src: [1, 19],
  ipv6_dst: [1, 20],
  icmpv6_type: [1, 21],
  icmpv6_code: [1, 22],
  nd_target: [1, 23],
  nd_sll: [1, 24],
  nd_tll: [1, 25],
  ipv6_label: [1, 27],
  ip_ecn: [1, 28],
  tcp_flags: [1, 34],
};
for (const spec of FIELD_SPECS as FieldSpec[]) {
  const a = NXM_ALIASES[spec.name];
  if (a) spec.nxm = { oxmClass: a[0], oxmField: a[1], bytes: a[2] ?? spec.bytes };
  else if (spec.oxmClass === OXM_CLASS.NXM_NX || spec.oxmClass === OXM_CLASS.NXM_OF)
    spec.nxm = { oxmClass: spec.oxmClass, oxmField: spec.oxmField, bytes: spec.bytes };
}

const NARROW: Partial<Record<OxmFieldName, number>> = {
  vlan_vid: 12,
  vlan_pcp: 3,
  ip_dscp: 6,
  ip_ecn: 2,
  ipv6_label: 20,
  mpls_label: 20,
  mpls_tc: 3,
  mpls_bos: 1,
  tcp_flags: 12,
  ip_frag: 2,
  tun_flags: 1,
};
for (const spec of FIELD_SPECS as FieldSpec[]) {
  const n = NARROW[spec.name];
  if (n !== undefined) spec.nBits = n;
}

export const FIELD_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(FIELD_SPECS.map((s) => [s.name, s]));

function headerKey(oxmClass: number, oxmField: number, experimenter: number | undefined): string {
  return experimenter === undefined ? `${oxmClass}:${oxmField}` : `${oxmClass}:${oxmField}:${experimenter}`;
}
const FIELD_BY_HEADER: ReadonlyMap<string, FieldSpec> = new Map(
  FIELD_SPECS.map((s) => [headerKey(s.oxmClass, s.oxmField, s.experimenter), s]),
);

/**
 * The 32-bit header (hasmask clear) naming a field in Nicira actions (load, move, learn, ct zone):
 * the NXM header where the field has one, as OVS emits, else the OXM header.
 */
export function fieldHeader(spec: FieldSpec): number {
  if (spec.nxm) return ((spec.nxm.oxmClass << 16) | (spec.nxm.oxmField << 9) | spec.nxm.bytes) >>> 0;
  const len = spec.bytes + (spec.experimenter === undefined ? 0 : 4);
  return ((spec.oxmClass << 16) | (spec.oxmField << 9) | len) >>> 0;
}

/**
 * Width in bits of a field as an action field reference names it: OVS's n_bits (vlan_vid is 12
 * bits, ip_dscp 6, ...; in_port is the 16-bit NXM_OF_IN_PORT there).
 */
export function refBits(spec: FieldSpec): number {
  if (spec.nxm) return Math.min(spec.nxm.bytes * 8, spec.nBits ?? 128);
  return spec.nBits ?? spec.bytes * 8;
}

const FIELD_BY_REF_HEADER: ReadonlyMap<string, FieldSpec> = new Map([
  ...FIELD_SPECS.map((s): [string, FieldSpec] => [headerKey(s.oxmClass, s.oxmField, s.experimenter), s]),
  ...FIELD_SPECS.filter((s) => s.nxm).map((s): [string, FieldSpec] => [headerKey(s.nxm!.oxmClass, s.nxm!.oxmField, undefined), s]),
]);

/** The field an action's field header names (NXM or OXM). */
export function specByHeader(header: number, experimenter?: number): FieldSpec | undefined {
  return FIELD_BY_REF_HEADER.get(headerKey(header >>> 16, (header >>> 9) & 0x7f, experimenter));
}

export function fieldSpec(name: string, where = 'field'): FieldSpec {
  const s = FIELD_BY_NAME.get(name);
  if (!s) throw new NetloomError('INVALID_ARGUMENT', `unknown match field '${name}'`, { field: where });
  return s;
}

/** The all-ones value of a field, in its value kind. */
export function fullMask(spec: FieldSpec): OxmValue {
  return bytesToValue(spec, Buffer.alloc(spec.bytes, 0xff));
}

// ---------- value <-> bytes ----------

function formatMac(b: Buffer, at = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (b[at + i]! < 16 ? '0' : '') + b[at + i]!.toString(16);
  return s;
}

export function parseIpv4(s: string, field: string): number {
  // hand-rolled: this is on the encode hot path
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3 || part > 255) break;
    } else if (c === 46 && digits > 0 && dots < 3) {
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      dots = -1;
      break;
    }
  }
  if (dots !== 3 || digits === 0 || digits > 3 || part > 255)
    throw new NetloomError('INVALID_ARGUMENT', `${field}: '${s}' is not an IPv4 address`, { field });
  return v * 256 + part;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Write a MAC "aa:bb:cc:dd:ee:ff" (1 or 2 hex digits per byte) as 6 bytes at `at`. */
function writeMacAt(s: string, out: Buffer, at: number, field: string): void {
  let byte = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c === 58) {
      if (digits === 0 || n >= 6) n = 99;
      else out[at + n++] = byte;
      byte = 0;
      digits = 0;
      if (n === 99) break;
      continue;
    }
    const h = hexVal(c);
    if (h < 0 || digits === 2) {
      n = 99;
      break;
    }
    byte = byte * 16 + h;
    digits++;
  }
  if (n !== 6) throw new NetloomError('INVALID_ARGUMENT', `${field}: '${s}' is not a MAC address`, { field });
}

export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

function parseIpv6(s: string, field: string): Buffer {
  if (!ipaddr.IPv6.isValid(s)) throw new NetloomError('INVALID_ARGUMENT', `${field}: '${s}' is not an IPv6 address`, { field });
  return Buffer.from(ipaddr.IPv6.parse(s).toByteArray());
}

function formatIpv6(b: Buffer): string {
  return ipaddr.fromByteArray(Array.from(b)).toString();
}

/** A field value (number/bigint/string per kind) as `spec.bytes` big-endian bytes. */
export function valueToBytes(spec: FieldSpec, v: OxmValue, what: string = spec.name): Buffer {
  switch (spec.kind) {
    case 'mac':
      if (typeof v !== 'string') throw new NetloomError('INVALID_ARGUMENT', `${what}: expected a MAC address string`, { field: what });
      {
        const b = Buffer.allocUnsafe(6);
        writeMacAt(v, b, 0, what);
        return b;
      }
    case 'ipv4': {
      if (typeof v !== 'string') throw new NetloomError('INVALID_ARGUMENT', `${what}: expected an IPv4 address string`, { field: what });
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(parseIpv4(v, what), 0);
      return b;
    }
    case 'ipv6':
      if (typeof v !== 'string') throw new NetloomError('INVALID_ARGUMENT', `${what}: expected an IPv6 address string`, { field: what });
      return parseIpv6(v, what);
    case 'uint': {
      if (typeof v === 'string') throw new NetloomError('INVALID_ARGUMENT', `${what}: expected a number`, { field: what });
      const big = typeof v === 'bigint' ? v : BigInt(v);
      if (typeof v === 'number' && (!Number.isInteger(v) || v < 0)) {
        throw new NetloomError('INVALID_ARGUMENT', `${what}: ${v} is not a non-negative integer`, { field: what });
      }
      if (big < 0n || big >> BigInt(spec.bytes * 8) !== 0n) {
        throw new NetloomError('INVALID_ARGUMENT', `${what}: value ${big} does not fit in ${spec.bytes * 8} bits`, { field: what });
      }
      const b = Buffer.alloc(spec.bytes);
      if (spec.bytes <= 4) {
        b.writeUIntBE(Number(big), 0, spec.bytes);
      } else {
        let x = big;
        for (let i = spec.bytes - 1; i >= 0; i--) {
          b[i] = Number(x & 0xffn);
          x >>= 8n;
        }
      }
      return b;
    }
  }
}

const TWO_64 = (1n << 64n) - 1n;

/** Append a value of `spec` (spec.bytes bytes) without intermediate allocation where possible. */
function writeValue(w: Writer, spec: FieldSpec, v: OxmValue, what: string): void {
  if (spec.kind === 'uint') {
    if (typeof v === 'number' && spec.bytes <= 4) {
      if (!Number.isInteger(v) || v < 0 || v >= 2 ** (spec.bytes * 8)) {
        throw new NetloomError('INVALID_ARGUMENT', `${what}: value ${v} does not fit in ${spec.bytes * 8} bits`, { field: what });
      }
      w.uintBE(v, spec.bytes);
      return;
    }
    if (typeof v === 'bigint' && spec.bytes === 8) {
      if (v < 0n || v > TWO_64) throw new NetloomError('INVALID_ARGUMENT', `${what}: value ${v} does not fit in 64 bits`, { field: what });
      w.u64(v);
      return;
    }
  } else if (spec.kind === 'ipv4' && typeof v === 'string') {
    w.u32(parseIpv4(v, what));
    return;
  } else if (spec.kind === 'mac' && typeof v === 'string') {
    w.reserve(6);
    writeMacAt(v, w.buf, w.pos, what);
    w.pos += 6;
    return;
  }
  w.bytes(valueToBytes(spec, v, what));
}

/** Bytes (exactly spec.bytes) as the field's value kind. */
export function bytesToValue(spec: FieldSpec, b: Buffer, at = 0): OxmValue {
  switch (spec.kind) {
    case 'mac':
      return formatMac(b, at);
    case 'ipv4':
      return formatIpv4(b.readUInt32BE(at));
    case 'ipv6':
      return formatIpv6(b.subarray(at, at + 16));
    case 'uint':
      if (spec.bytes <= 4) return b.readUIntBE(at, spec.bytes);
      if (spec.bytes === 8) return b.readBigUInt64BE(at);
      return (b.readBigUInt64BE(at) << 64n) | b.readBigUInt64BE(at + 8);
  }
}

// ---------- TLV encode/decode ----------

/** Append one OXM TLV (4-byte header, or 8 with experimenter id), value masked by mask if given. */
export function writeOxm(w: Writer, e: OxmField, where = 'match'): void {
  if (e.field === 'raw') {
    const hasExp = e.experimenter !== undefined;
    const len = e.payload.length + (hasExp ? 4 : 0);
    if (len > 255) throw new NetloomError('INVALID_ARGUMENT', `${where}: raw OXM payload too long`, { field: where });
    w.u32(((e.oxmClass << 16) | (e.oxmField << 9) | (e.hasMask ? 0x100 : 0) | len) >>> 0);
    if (hasExp) w.u32(e.experimenter!);
    w.bytes(e.payload);
    return;
  }
  const spec = FIELD_BY_NAME.get(e.field) ?? fieldSpec(e.field, where);
  const masked = e.mask !== undefined;
  if (masked && !spec.maskable)
    throw new NetloomError('INVALID_ARGUMENT', `${where}: field ${e.field} cannot be masked`, { field: e.field });
  const hasExp = spec.experimenter !== undefined;
  const len = (masked ? spec.bytes * 2 : spec.bytes) + (hasExp ? 4 : 0);
  w.u32(((spec.oxmClass << 16) | (spec.oxmField << 9) | (masked ? 0x100 : 0) | len) >>> 0);
  if (hasExp) w.u32(spec.experimenter!);
  writeValue(w, spec, e.value, `${where}.${e.field}`);
  if (masked) writeValue(w, spec, e.mask!, `${where}.${e.field} mask`);
}

/** Read one OXM TLV. Unknown fields come back as RawOxm. */
export function readOxm(r: Reader): OxmField {
  const start = r.pos;
  const header = r.u32('oxm header');
  const oxmClass = header >>> 16;
  const oxmField = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  let len = header & 0xff;
  let experimenter: number | undefined;
  if (oxmClass === OXM_CLASS.EXPERIMENTER) {
    if (len < 4) r.fail(`experimenter OXM with length ${len} < 4`, start);
    experimenter = r.u32('oxm experimenter');
    len -= 4;
  }
  const payload = r.sub(len, 'oxm payload');
  const spec = FIELD_BY_HEADER.get(headerKey(oxmClass, oxmField, experimenter));
  if (!spec || len !== (hasMask ? spec.bytes * 2 : spec.bytes) || (hasMask && !spec.maskable)) {
    const raw: RawOxm = { field: 'raw', oxmClass, oxmField, hasMask, payload: payload.bytes(len) };
    if (experimenter !== undefined) raw.experimenter = experimenter;
    return raw;
  }
  const out: KnownOxm = { field: spec.name, value: bytesToValue(spec, r.buf, payload.pos) };
  if (hasMask) out.mask = bytesToValue(spec, r.buf, payload.pos + spec.bytes);
  return out;
}

/** Append an ofp_match (type OXM, length, entries, padding to 8). */
export function writeMatch(w: Writer, match: Match, where = 'match'): void {
  checkPrerequisites(match, where);
  const start = w.pos;
  w.u16(1); // OFPMT_OXM
  w.u16(0);
  for (const e of match) writeOxm(w, e, where);
  w.setU16(start + 2, w.pos - start);
  w.pad8(start);
}

/** Read an ofp_match including its padding. */
export function readMatch(r: Reader): Match {
  const start = r.pos;
  const type = r.u16('match type');
  const length = r.u16('match length');
  if (type !== 1) r.fail(`match type ${type} is not OXM (1)`, start);
  if (length < 4) r.fail(`match length ${length} < 4`, start);
  const body = r.sub(length - 4, 'match fields');
  const out: Match = [];
  while (body.remaining > 0) out.push(readOxm(body));
  r.skip((8 - (length % 8)) % 8, 'match padding');
  return out;
}

// ---------- prerequisites ----------

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_MPLS = [0x8847, 0x8848];
const ETH_PBB = 0x88e7;

function exact(match: Match, name: OxmFieldName): OxmValue | undefined {
  for (const e of match) if (e.field === name && e.mask === undefined) return e.value;
  return undefined;
}

function need(ok: boolean, field: string, what: string, where: string): void {
  if (!ok) throw new NetloomError('INVALID_ARGUMENT', `${where}: ${field} requires ${what}`, { field });
}

/**
 * Throw INVALID_ARGUMENT naming the field when a match entry lacks its OpenFlow prerequisites
 * (e.g. tcp_dst needs eth_type ipv4/ipv6 and ip_proto=6), or a field appears twice.
 */
export function checkPrerequisites(match: Match, where = 'match'): void {
  if (match.length === 0) return;
  const ethType = exact(match, 'eth_type');
  const proto = exact(match, 'ip_proto');
  const isIp = ethType === ETH_IPV4 || ethType === ETH_IPV6;
  for (let i = 0; i < match.length; i++) {
    const e = match[i]!;
    const name = e.field;
    if (name === 'raw') continue;
    for (let j = 0; j < i; j++)
      if (match[j]!.field === name) throw new NetloomError('INVALID_ARGUMENT', `${where}: field ${name} appears twice`, { field: name });
    switch (name) {
      case 'ipv4_src':
      case 'ipv4_dst':
        need(ethType === ETH_IPV4, name, 'eth_type=0x0800 (ip)', where);
        break;
      case 'ipv6_src':
      case 'ipv6_dst':
      case 'ipv6_label':
      case 'ipv6_exthdr':
        need(ethType === ETH_IPV6, name, 'eth_type=0x86dd (ipv6)', where);
        break;
      case 'arp_op':
      case 'arp_spa':
      case 'arp_tpa':
      case 'arp_sha':
      case 'arp_tha':
        need(ethType === ETH_ARP || ethType === ETH_RARP, name, 'eth_type=0x0806 (arp)', where);
        break;
      case 'ip_proto':
      case 'ip_dscp':
      case 'ip_ecn':
      case 'ip_ttl':
      case 'ip_frag':
        need(isIp, name, 'eth_type ipv4 or ipv6', where);
        break;
      case 'tcp_src':
      case 'tcp_dst':
      case 'tcp_flags':
        need(isIp && proto === 6, name, 'eth_type ipv4/ipv6 and ip_proto=6 (tcp)', where);
        break;
      case 'udp_src':
      case 'udp_dst':
        need(isIp && proto === 17, name, 'eth_type ipv4/ipv6 and ip_proto=17 (udp)', where);
        break;
      case 'sctp_src':
      case 'sctp_dst':
        need(isIp && proto === 132, name, 'eth_type ipv4/ipv6 and ip_proto=132 (sctp)', where);
        break;
      case 'icmpv4_type':
      case 'icmpv4_code':
        need(ethType === ETH_IPV4 && proto === 1, name, 'eth_type=0x0800 and ip_proto=1 (icmp)', where);
        break;
      case 'icmpv6_type':
      case 'icmpv6_code':
        need(ethType === ETH_IPV6 && proto === 58, name, 'eth_type=0x86dd and ip_proto=58 (icmp6)', where);
        break;
      case 'nd_target': {
        const t = exact(match, 'icmpv6_type');
        need(ethType === ETH_IPV6 && proto === 58 && (t === 135 || t === 136), name, 'icmpv6_type=135 or 136 (neighbour discovery)', where);
        break;
      }
      case 'nd_sll':
        need(
          ethType === ETH_IPV6 && proto === 58 && exact(match, 'icmpv6_type') === 135,
          name,
          'icmpv6_type=135 (neighbour solicitation)',
          where,
        );
        break;
      case 'nd_tll':
        need(
          ethType === ETH_IPV6 && proto === 58 && exact(match, 'icmpv6_type') === 136,
          name,
          'icmpv6_type=136 (neighbour advertisement)',
          where,
        );
        break;
      case 'mpls_label':
      case 'mpls_tc':
      case 'mpls_bos':
        need(typeof ethType === 'number' && ETH_MPLS.includes(ethType), name, 'eth_type=0x8847 or 0x8848 (mpls)', where);
        break;
      case 'pbb_isid':
        need(ethType === ETH_PBB, name, 'eth_type=0x88e7 (pbb)', where);
        break;
      case 'vlan_pcp': {
        const vid = match.find((x) => x.field === 'vlan_vid');
        need(vid !== undefined && vid.field !== 'raw' && vid.value !== 0, name, 'a vlan_vid match other than "no VLAN"', where);
        break;
      }
      default:
        break;
    }
  }
}
