/**
 * Actions and instructions in ovs-ofctl / ovs-actions(7) text syntax: parse an `actions=` list into
 * OpenFlow 1.3 instructions the way ovs-ofctl encodes them (e.g. `load:` and masked `set_field`
 * become NXAST_REG_LOAD segments, plain `controller` becomes output:CONTROLLER), and print
 * instructions back in text that parses to the same bytes.
 */
import type { Action, FieldRef, Instruction, LearnSpec, OxmFieldName } from '../../ovs/openflow/messages';
import { NO_TABLE, NX_CT_F, NX_NAT_F, OFPP } from '../../ovs/openflow/messages';
import { portFrom16, portTo16 } from '../../ovs/openflow/actions';
import { FIELD_BY_NAME, refBits } from '../../ovs/openflow/oxm';
import {
  fieldValueBig,
  fieldValueFromBig,
  formatFieldRef,
  formatFieldValue,
  formatPort,
  lookupField,
  parseBig,
  parseFieldRef,
  parseFieldValue,
  parseNum,
  parsePort,
  printName,
  textError,
} from './fields';

/** Split at top-level commas (not inside parentheses). */
export function splitTop(s: string, where: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth < 0) throw textError(where, `unbalanced ')' in '${s}'`);
    }
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw textError(where, `unbalanced '(' in '${s}'`);
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out.filter((x) => x !== '');
}

/** `name(args)` → [name, args]; `name:arg` → [name, arg]; `name=arg` → [name, arg]; else [token, undefined]. */
function splitNameArg(tok: string): [string, string | undefined] {
  const paren = tok.indexOf('(');
  const colon = tok.indexOf(':');
  const eq = tok.indexOf('=');
  const firstSep = [paren, colon, eq].filter((i) => i >= 0).sort((a, b) => a - b)[0];
  if (firstSep === undefined) return [tok, undefined];
  if (firstSep === paren) {
    if (!tok.endsWith(')')) throw textError('actions', `'${tok}' lacks a closing parenthesis`);
    return [tok.slice(0, paren), tok.slice(paren + 1, -1)];
  }
  return [tok.slice(0, firstSep), tok.slice(firstSep + 1)];
}

const ALL_ONES_64 = (1n << 64n) - 1n;

/** `load:`/masked set_field as OVS encodes it: one NXAST_REG_LOAD per run of mask bits (<= 64 bits each). */
function loadSegments(field: OxmFieldName, value: bigint, mask: bigint, where: string): Action[] {
  const spec = FIELD_BY_NAME.get(field)!;
  const bits = refBits(spec);
  if (!spec.nxm && spec.experimenter !== undefined) {
    return [{ type: 'reg_load2', field: { field, value: fieldValueFromBig(field, value & mask), mask: fieldValueFromBig(field, mask) } }];
  }
  const out: Action[] = [];
  let ofs = 0;
  while (ofs < bits) {
    while (ofs < bits && ((mask >> BigInt(ofs)) & 1n) === 0n) ofs++;
    if (ofs >= bits) break;
    let end = ofs;
    while (end < bits && end - ofs < 64 && ((mask >> BigInt(end)) & 1n) === 1n) end++;
    const n = end - ofs;
    out.push({ type: 'reg_load', dst: { field, ofs, nBits: n }, value: (value >> BigInt(ofs)) & ((1n << BigInt(n)) - 1n) });
    ofs = end;
  }
  if (out.length === 0) throw textError(where, 'mask selects no bits');
  return out;
}

function parseSetField(arg: string, where: string): Action[] {
  const arrow = arg.lastIndexOf('->');
  if (arrow < 0) throw textError(where, `set_field needs VALUE->FIELD, got '${arg}'`);
  const fieldName = arg.slice(arrow + 2).trim();
  const field = lookupField(fieldName);
  if (!field) throw textError(where, `set_field: unknown field '${fieldName}'`);
  if (field === 'in_port') {
    // ovs-ofctl sets the 16-bit in_port, which only has the NXM_OF_IN_PORT header
    const port = portTo16(parsePort(arg.slice(0, arrow), `${where}.set_field.in_port`));
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(port, 0);
    return [{ type: 'set_field', field: { field: 'raw', oxmClass: 0, oxmField: 0, hasMask: false, payload } }];
  }
  const { value, mask } = parseFieldValue(field, arg.slice(0, arrow), `${where}.set_field.${fieldName}`);
  if (mask === undefined) return [{ type: 'set_field', field: { field, value } }];
  const spec = FIELD_BY_NAME.get(field)!;
  const v = fieldValueBig(field, value, where);
  const m = fieldValueBig(field, mask, where);
  if (m === (1n << BigInt(spec.bytes * 8)) - 1n) return [{ type: 'set_field', field: { field, value } }];
  return loadSegments(field, v & m, m, where);
}

function parseLoad(arg: string, where: string): Action[] {
  const arrow = arg.indexOf('->');
  if (arrow < 0) throw textError(where, `load needs VALUE->DST[range], got '${arg}'`);
  const value = parseBig(arg.slice(0, arrow), `${where}.load`);
  const dst = parseFieldRef(arg.slice(arrow + 2), `${where}.load`);
  if (typeof dst.field === 'number') throw textError(where, 'load needs a known field');
  if (value >> BigInt(dst.nBits) !== 0n) throw textError(`${where}.load`, `value ${arg.slice(0, arrow)} does not fit in ${dst.nBits} bits`);
  const mask = ((1n << BigInt(dst.nBits)) - 1n) << BigInt(dst.ofs);
  return loadSegments(dst.field, value << BigInt(dst.ofs), mask, where);
}

function parseMove(arg: string, where: string): Action {
  const arrow = arg.indexOf('->');
  if (arrow < 0) throw textError(where, `move needs SRC[range]->DST[range], got '${arg}'`);
  const src = parseFieldRef(arg.slice(0, arrow), `${where}.move`);
  const dst = parseFieldRef(arg.slice(arrow + 2), `${where}.move`);
  if (src.nBits !== dst.nBits) throw textError(`${where}.move`, `source has ${src.nBits} bits but destination ${dst.nBits}`);
  return { type: 'reg_move', src, dst };
}

function parseNatAddrs(spec: string, where: string): { ipMin?: string; ipMax?: string; portMin?: number; portMax?: number } {
  const out: { ipMin?: string; ipMax?: string; portMin?: number; portMax?: number } = {};
  let rest = spec;
  let ips: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw textError(where, `unterminated IPv6 address in '${spec}'`);
    ips = rest.slice(1, close);
    rest = rest.slice(close + 1);
    const dash = ips.indexOf(']-[');
    if (rest.startsWith('-[')) {
      const close2 = rest.indexOf(']');
      out.ipMax = rest.slice(2, close2);
      rest = rest.slice(close2 + 1);
    }
    out.ipMin = dash >= 0 ? ips.slice(0, dash) : ips;
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    // IPv6 without brackets (as ovs-ofctl prints it when no port range follows)
    const [a, b] = rest.split('-');
    out.ipMin = a!;
    if (b !== undefined) out.ipMax = b;
    rest = '';
  } else {
    const colon = rest.indexOf(':');
    ips = colon < 0 ? rest : rest.slice(0, colon);
    rest = colon < 0 ? '' : rest.slice(colon);
    const [a, b] = ips.split('-');
    out.ipMin = a!;
    if (b !== undefined) out.ipMax = b;
  }
  for (const ip of [out.ipMin, out.ipMax]) {
    if (ip !== undefined) parseFieldValue(ip.includes(':') ? 'ipv6_src' : 'ipv4_src', ip, `${where}.nat`);
  }
  if (rest.startsWith(':')) {
    const [a, b] = rest.slice(1).split('-');
    out.portMin = parseNum(a!, `${where}.nat`, 0xffff);
    if (b !== undefined) out.portMax = parseNum(b, `${where}.nat`, 0xffff);
  } else if (rest !== '') throw textError(where, `cannot parse nat range '${spec}'`);
  if (out.portMin !== undefined && out.portMax !== undefined && out.portMin > out.portMax)
    throw textError(`${where}.nat`, `invalid nat range '${spec}': ports run backwards`);
  if (out.ipMin !== undefined && out.ipMax !== undefined) {
    const f = out.ipMin.includes(':') ? 'ipv6_src' : 'ipv4_src';
    if (fieldValueBig(f, out.ipMin, where) > fieldValueBig(f, out.ipMax, where))
      throw textError(`${where}.nat`, `invalid nat range '${spec}': addresses run backwards`);
  }
  return out;
}

function parseNat(arg: string | undefined, where: string): Action {
  const nat: Action & { type: 'nat' } = { type: 'nat', flags: 0 };
  for (const tok of arg ? splitTop(arg, where) : []) {
    const [k, v] = splitNameArg(tok);
    if (k === 'src' || k === 'dst') {
      nat.flags |= k === 'src' ? NX_NAT_F.SRC : NX_NAT_F.DST;
      if (v !== undefined) Object.assign(nat, parseNatAddrs(v, where));
    } else if (k === 'persistent') nat.flags |= NX_NAT_F.PERSISTENT;
    else if (k === 'hash') nat.flags |= NX_NAT_F.PROTO_HASH;
    else if (k === 'random') nat.flags |= NX_NAT_F.PROTO_RANDOM;
    else throw textError(`${where}.nat`, `unknown nat argument '${tok}'`);
  }
  return nat;
}

function parseCt(arg: string | undefined, where: string): Action {
  const ct: Action & { type: 'ct' } = { type: 'ct', flags: 0, zoneImm: 0, recircTable: NO_TABLE, alg: 0, actions: [] };
  for (const tok of arg ? splitTop(arg, where) : []) {
    const [k, v] = splitNameArg(tok);
    if (k === 'commit') ct.flags |= NX_CT_F.COMMIT;
    else if (k === 'force') ct.flags |= NX_CT_F.FORCE;
    else if (k === 'table') ct.recircTable = parseNum(v ?? '', `${where}.ct.table`, 254);
    else if (k === 'zone') {
      if (v === undefined) throw textError(`${where}.ct.zone`, 'zone needs a value');
      if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) ct.zoneImm = parseNum(v, `${where}.ct.zone`, 0xffff);
      else ct.zoneSrc = parseFieldRef(v, `${where}.ct.zone`);
    } else if (k === 'alg') {
      if (v === 'ftp') ct.alg = 21;
      else if (v === 'tftp') ct.alg = 69;
      else ct.alg = parseNum(v ?? '', `${where}.ct.alg`, 0xffff);
    } else if (k === 'nat') ct.actions.push(parseNat(v, `${where}.ct`));
    else if (k === 'exec') ct.actions.push(...parseActionList(v ?? '', `${where}.ct.exec`));
    else throw textError(`${where}.ct`, `unknown ct argument '${tok}'`);
  }
  return ct;
}

function parseLearn(arg: string, where: string): Action {
  const l: Action & { type: 'learn' } = {
    type: 'learn',
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0x8000,
    cookie: 0n,
    flags: 0,
    tableId: 1,
    finIdleTimeout: 0,
    finHardTimeout: 0,
    specs: [],
  };
  const w = `${where}.learn`;
  for (const tok of splitTop(arg, where)) {
    const eq = tok.indexOf('=');
    const colon = tok.indexOf(':');
    const key = eq >= 0 && (colon < 0 || eq < colon) ? tok.slice(0, eq) : colon >= 0 ? tok.slice(0, colon) : tok;
    const val = eq >= 0 && (colon < 0 || eq < colon) ? tok.slice(eq + 1) : colon >= 0 ? tok.slice(colon + 1) : undefined;
    switch (key) {
      case 'table':
        l.tableId = parseNum(val ?? '', `${w}.table`, 254);
        continue;
      case 'idle_timeout':
        l.idleTimeout = parseNum(val ?? '', `${w}.idle_timeout`, 0xffff);
        continue;
      case 'hard_timeout':
        l.hardTimeout = parseNum(val ?? '', `${w}.hard_timeout`, 0xffff);
        continue;
      case 'fin_idle_timeout':
        l.finIdleTimeout = parseNum(val ?? '', `${w}.fin_idle_timeout`, 0xffff);
        continue;
      case 'fin_hard_timeout':
        l.finHardTimeout = parseNum(val ?? '', `${w}.fin_hard_timeout`, 0xffff);
        continue;
      case 'priority':
        l.priority = parseNum(val ?? '', `${w}.priority`, 0xffff);
        continue;
      case 'cookie':
        l.cookie = parseBig(val ?? '', `${w}.cookie`);
        continue;
      case 'send_flow_rem':
        l.flags |= 1;
        continue;
      case 'delete_learned':
        l.flags |= 2;
        continue;
      case 'load': {
        const arrow = (val ?? '').indexOf('->');
        if (arrow < 0) throw textError(w, `learn load needs SRC->DST, got '${tok}'`);
        const dst = parseFieldRef(val!.slice(arrow + 2), `${w}.load`);
        const srcText = val!.slice(0, arrow);
        const src: LearnSpec['src'] = /^(0x[0-9a-f]+|\d+)$/i.test(srcText)
          ? { kind: 'imm', value: parseBig(srcText, `${w}.load`) }
          : { kind: 'field', ref: parseFieldRef(srcText, `${w}.load`) };
        if (src.kind === 'field' && src.ref.nBits !== dst.nBits)
          throw textError(`${w}.load`, `source has ${src.ref.nBits} bits but destination ${dst.nBits}`);
        l.specs.push({ nBits: dst.nBits, src, dst: { kind: 'load', ref: dst } });
        continue;
      }
      case 'output': {
        const src = parseFieldRef(val ?? '', `${w}.output`);
        l.specs.push({ nBits: src.nBits, src: { kind: 'field', ref: src }, dst: { kind: 'output' } });
        continue;
      }
      default: {
        // match spec: DST[range]=VALUE | DST[range]=SRC[range] | FIELD[range]
        const dst = parseFieldRef(key, `${w}.${key}`);
        if (val === undefined) {
          l.specs.push({ nBits: dst.nBits, src: { kind: 'field', ref: dst }, dst: { kind: 'match', ref: dst } });
        } else if (/^[A-Za-z_]/.test(val) && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(val)) {
          const src = parseFieldRef(val, `${w}.${key}`);
          if (src.nBits !== dst.nBits) throw textError(`${w}.${key}`, `source has ${src.nBits} bits but destination ${dst.nBits}`);
          l.specs.push({ nBits: dst.nBits, src: { kind: 'field', ref: src }, dst: { kind: 'match', ref: dst } });
        } else {
          if (typeof dst.field === 'number') throw textError(w, 'unknown field');
          const whole = dst.ofs === 0 && dst.nBits === refBits(FIELD_BY_NAME.get(dst.field)!);
          const numeric = /^(0x[0-9a-f]+|\d+)$/i.test(val);
          const v =
            whole && !numeric
              ? fieldValueBig(dst.field, parseFieldValue(dst.field, val, `${w}.${key}`).value, w)
              : parseBig(val, `${w}.${key}`);
          l.specs.push({ nBits: dst.nBits, src: { kind: 'imm', value: v }, dst: { kind: 'match', ref: dst } });
        }
      }
    }
  }
  return l;
}

function parseController(arg: string | undefined, where: string): Action {
  let maxLen = 0xffff;
  let controllerId = 0;
  let reason = 1;
  let userdata: Buffer | undefined;
  let pause = false;
  let meterId: number | undefined;
  if (arg !== undefined && /^\d+$/.test(arg)) maxLen = parseNum(arg, `${where}.controller`, 0xffff);
  else if (arg !== undefined) {
    for (const tok of splitTop(arg, where)) {
      const [k, v] = splitNameArg(tok);
      if (k === 'max_len') maxLen = parseNum(v ?? '', `${where}.controller.max_len`, 0xffff);
      else if (k === 'id') controllerId = parseNum(v ?? '', `${where}.controller.id`, 0xffff);
      else if (k === 'reason') {
        const r = { no_match: 0, action: 1, invalid_ttl: 2, action_set: 3, group: 4, packet_out: 5 }[v ?? ''];
        if (r === undefined) throw textError(`${where}.controller.reason`, `unknown reason '${v}'`);
        reason = r;
      } else if (k === 'userdata') {
        const hex = (v ?? '').replace(/\./g, '');
        if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw textError(`${where}.controller.userdata`, `bad hex '${v}'`);
        userdata = Buffer.from(hex, 'hex');
      } else if (k === 'pause') pause = true;
      else if (k === 'meter_id') meterId = parseNum(v ?? '', `${where}.controller.meter_id`);
      else throw textError(`${where}.controller`, `unknown controller argument '${tok}'`);
    }
  }
  if (reason === 1 && controllerId === 0 && userdata === undefined && !pause && meterId === undefined) {
    return { type: 'output', port: OFPP.CONTROLLER, maxLen };
  }
  const a: Action & { type: 'controller' } = { type: 'controller', maxLen, controllerId, reason };
  if (userdata !== undefined) a.userdata = userdata;
  if (pause) a.pause = true;
  if (meterId !== undefined) a.meterId = meterId;
  return a;
}

function parseResubmit(arg: string | undefined, paren: boolean, where: string): Action {
  if (arg === undefined) throw textError(where, 'resubmit needs a port or (port,table)');
  if (!paren) return { type: 'resubmit', inPort: parsePort(arg, `${where}.resubmit`), table: NO_TABLE };
  const parts = arg.split(',').map((x) => x.trim());
  if (parts.length < 1 || parts.length > 3) throw textError(where, `resubmit(${arg}) has too many arguments`);
  const inPort = parts[0] ? parsePort(parts[0], `${where}.resubmit`) : OFPP.IN_PORT;
  const table = parts[1] ? parseNum(parts[1], `${where}.resubmit`, 254) : NO_TABLE;
  return { type: 'resubmit', inPort, table };
}

const PORT_WORDS = new Set(['in_port', 'local', 'all', 'flood', 'normal', 'table', 'controller']);

/**
 * What the flow's match (and the actions so far) tell about the packet, for actions whose
 * encoding depends on it as in ovs-ofctl: mod_vlan_vid pushes a VLAN header when there may be
 * none; mod_tp_src/dst set tcp, udp or sctp ports by ip_proto.
 */
export interface ActionContext {
  vlan: boolean;
  ipProto?: number;
}

function vlanSet(field: 'vlan_vid' | 'vlan_pcp', value: number, ctx: ActionContext): Action[] {
  const out: Action[] = [];
  if (!ctx.vlan) out.push({ type: 'push_vlan', ethertype: 0x8100 });
  ctx.vlan = true;
  out.push({ type: 'set_field', field: { field, value } });
  return out;
}

function parseOutput(arg: string, where: string): Action {
  // output:PORT, output:FIELD[range], output(port=P,max_len=N)
  let portText = arg;
  let maxLen: number | undefined;
  if (/^port=/.test(arg)) {
    for (const kv of splitTop(arg, where)) {
      const [k, v] = splitNameArg(kv);
      if (k === 'port') portText = v ?? '';
      else if (k === 'max_len') maxLen = parseNum(v ?? '', `${where}.output.max_len`, 0xffff);
      else throw textError(`${where}.output`, `unknown output argument '${kv}'`);
    }
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*\[/.test(portText) || (lookupField(portText) !== undefined && !PORT_WORDS.has(portText.toLowerCase()))) {
    return { type: 'output_reg', src: parseFieldRef(portText, `${where}.output`), maxLen: maxLen ?? 0xffff };
  }
  const port = parsePort(portText, `${where}.output`);
  if (maxLen !== undefined && port !== OFPP.CONTROLLER) return { type: 'output_trunc', port, maxLen };
  return { type: 'output', port, maxLen: maxLen ?? (port === OFPP.CONTROLLER ? 0xffff : 0) };
}

/** Parse one action token into one or more actions. */
function parseAction(tok: string, where: string, ctx: ActionContext = { vlan: false }): Action[] {
  const [rawName, arg] = splitNameArg(tok);
  const name = rawName.toLowerCase();
  const paren = tok.length > rawName.length && tok[rawName.length] === '(';
  if (arg === undefined && /^\d+$/.test(tok)) return [{ type: 'output', port: parseNum(tok, where), maxLen: 0 }];
  if (arg === undefined && PORT_WORDS.has(name) && name !== 'controller')
    return [{ type: 'output', port: parsePort(name, where), maxLen: 0 }];
  switch (name) {
    case 'output':
      if (arg === undefined) throw textError(where, 'output needs a port');
      return [parseOutput(arg, where)];
    case 'exit':
      return [{ type: 'exit' }];
    case 'ct_clear':
      return [{ type: 'ct_clear' }];
    case 'clone':
      return [{ type: 'clone', actions: parseActionList(arg ?? '', `${where}.clone`, { ...ctx }) }];
    case 'fin_timeout': {
      const ft: Action & { type: 'fin_timeout' } = { type: 'fin_timeout', idleTimeout: 0, hardTimeout: 0 };
      for (const kv of splitTop(arg ?? '', where)) {
        const [k, v] = splitNameArg(kv);
        if (k === 'idle_timeout') ft.idleTimeout = parseNum(v ?? '', `${where}.fin_timeout.idle_timeout`, 0xffff);
        else if (k === 'hard_timeout') ft.hardTimeout = parseNum(v ?? '', `${where}.fin_timeout.hard_timeout`, 0xffff);
        else throw textError(`${where}.fin_timeout`, `unknown fin_timeout argument '${kv}'`);
      }
      return [ft];
    }
    case 'set_tunnel':
    case 'set_tunnel64':
      return [{ type: 'set_field', field: { field: 'tunnel_id', value: parseBig(arg ?? '', `${where}.${name}`) } }];
    case 'mod_vlan_vid':
      return vlanSet('vlan_vid', 0x1000 | parseNum(arg ?? '', `${where}.mod_vlan_vid`, 4095), ctx);
    case 'mod_vlan_pcp':
      return vlanSet('vlan_pcp', parseNum(arg ?? '', `${where}.mod_vlan_pcp`, 7), ctx);
    case 'mod_nw_tos': {
      const tos = parseNum(arg ?? '', `${where}.mod_nw_tos`, 255);
      if (tos & 3) throw textError(`${where}.mod_nw_tos`, `${tos} has ECN bits set (must be a multiple of 4)`);
      return [{ type: 'set_field', field: { field: 'ip_dscp', value: tos >> 2 } }];
    }
    case 'mod_tp_src':
    case 'mod_tp_dst': {
      const side = name === 'mod_tp_src' ? 'src' : 'dst';
      const proto = ctx.ipProto === 6 ? 'tcp' : ctx.ipProto === 17 ? 'udp' : ctx.ipProto === 132 ? 'sctp' : undefined;
      if (!proto) throw textError(`${where}.${name}`, `${name} needs a tcp, udp or sctp match`);
      return [{ type: 'set_field', field: { field: `${proto}_${side}`, value: parseNum(arg ?? '', `${where}.${name}`, 0xffff) } }];
    }
    case 'controller':
      return [parseController(arg, where)];
    case 'drop':
      return [];
    case 'group':
      return [{ type: 'group', groupId: parseNum(arg ?? '', `${where}.group`) }];
    case 'set_queue':
      return [{ type: 'set_queue', queueId: parseNum(arg ?? '', `${where}.set_queue`) }];
    case 'push_vlan':
      ctx.vlan = true;
      return [{ type: 'push_vlan', ethertype: parseNum(arg ?? '', `${where}.push_vlan`, 0xffff) }];
    case 'pop_vlan':
    case 'strip_vlan':
      ctx.vlan = false;
      return [{ type: 'pop_vlan' }];
    case 'push_mpls':
      return [{ type: 'push_mpls', ethertype: parseNum(arg ?? '', `${where}.push_mpls`, 0xffff) }];
    case 'pop_mpls':
      return [{ type: 'pop_mpls', ethertype: parseNum(arg ?? '', `${where}.pop_mpls`, 0xffff) }];
    case 'dec_ttl':
      if (arg === undefined) return [{ type: 'dec_nw_ttl' }];
      return [{ type: 'dec_ttl_ids', ids: splitTop(arg, where).map((x) => parseNum(x, `${where}.dec_ttl`, 0xffff)) }];
    case 'mod_nw_ttl':
      return [{ type: 'set_nw_ttl', ttl: parseNum(arg ?? '', `${where}.mod_nw_ttl`, 255) }];
    case 'set_mpls_ttl':
      return [{ type: 'set_mpls_ttl', ttl: parseNum(arg ?? '', `${where}.set_mpls_ttl`, 255) }];
    case 'dec_mpls_ttl':
      return [{ type: 'dec_mpls_ttl' }];
    case 'set_mpls_label':
      return [{ type: 'set_field', field: { field: 'mpls_label', value: parseNum(arg ?? '', `${where}.set_mpls_label`, 0xfffff) } }];
    case 'set_mpls_tc':
      return [{ type: 'set_field', field: { field: 'mpls_tc', value: parseNum(arg ?? '', `${where}.set_mpls_tc`, 7) } }];
    case 'copy_ttl_out':
      return [{ type: 'copy_ttl_out' }];
    case 'copy_ttl_in':
      return [{ type: 'copy_ttl_in' }];
    case 'set_field':
      return parseSetField(arg ?? '', where);
    case 'mod_dl_src':
    case 'mod_dl_dst':
      return parseSetField(`${arg}->${name === 'mod_dl_src' ? 'eth_src' : 'eth_dst'}`, where);
    case 'mod_nw_src':
    case 'mod_nw_dst':
      return parseSetField(`${arg}->${name === 'mod_nw_src' ? 'ipv4_src' : 'ipv4_dst'}`, where);
    case 'load':
      return parseLoad(arg ?? '', where);
    case 'move':
      return [parseMove(arg ?? '', where)];
    case 'resubmit':
      return [parseResubmit(arg, paren, where)];
    case 'conjunction': {
      const m = /^\s*(\d+|0x[0-9a-f]+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/i.exec(arg ?? '');
      if (!m) throw textError(`${where}.conjunction`, `expected conjunction(id,k/n), got '${tok}'`);
      const k = Number(m[2]);
      const n = Number(m[3]);
      if (n < 2 || n > 64 || k < 1 || k > n)
        throw textError(`${where}.conjunction`, `clause ${k}/${n} is invalid (need 2 <= n <= 64 and 1 <= k <= n)`);
      return [{ type: 'conjunction', id: Number(BigInt(m[1]!)), clause: k - 1, nClauses: n }];
    }
    case 'ct':
      return [parseCt(arg, where)];
    case 'nat':
      return [parseNat(arg, where)];
    case 'learn':
      return [parseLearn(arg ?? '', where)];
    case 'note': {
      const hex = (arg ?? '').replace(/\./g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw textError(`${where}.note`, `bad hex '${arg}'`);
      return [{ type: 'note', data: Buffer.from(hex, 'hex') }];
    }
    default:
      throw textError(where, `unknown action '${rawName}'`);
  }
}

/** Parse a comma-separated action list (no instructions). */
export function parseActionList(text: string, where = 'actions', ctx: ActionContext = { vlan: false }): Action[] {
  const out: Action[] = [];
  for (const tok of splitTop(text, where)) out.push(...parseAction(tok, where, ctx));
  return out;
}

/** Parse the text after `actions=` into OpenFlow 1.3 instructions. */
export function parseInstructions(text: string, where = 'actions', context: ActionContext = { vlan: false }): Instruction[] {
  const ctx = { ...context };
  const out: Instruction[] = [];
  let apply: Action[] | undefined;
  for (const tok of splitTop(text, where)) {
    const [rawName, arg] = splitNameArg(tok);
    const name = rawName.toLowerCase();
    switch (name) {
      case 'goto_table':
      case 'resubmit_table':
        out.push({ type: 'goto_table', tableId: parseNum(arg ?? '', `${where}.goto_table`, 254) });
        apply = undefined;
        continue;
      case 'meter':
        out.push({ type: 'meter', meterId: parseNum(arg ?? '', `${where}.meter`) });
        apply = undefined;
        continue;
      case 'clear_actions':
        out.push({ type: 'clear_actions' });
        apply = undefined;
        continue;
      case 'write_actions':
        out.push({ type: 'write_actions', actions: parseActionList(arg ?? '', `${where}.write_actions`, { ...ctx }) });
        apply = undefined;
        continue;
      case 'write_metadata': {
        const [v, m] = (arg ?? '').split('/');
        out.push({
          type: 'write_metadata',
          metadata: parseBig(v ?? '', `${where}.write_metadata`),
          mask: m === undefined ? ALL_ONES_64 : parseBig(m, `${where}.write_metadata`),
        });
        apply = undefined;
        continue;
      }
      default: {
        const actions = parseAction(tok, where, ctx);
        if (!apply) {
          if (name === 'drop' && actions.length === 0) continue;
          apply = [];
          out.push({ type: 'apply_actions', actions: apply });
        }
        apply.push(...actions);
      }
    }
  }
  return out;
}

// ---------- printing ----------

function hexDots(b: Buffer): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('.');
}

function formatRefOrValue(spec: LearnSpec['src']): string {
  return spec.kind === 'field' ? formatFieldRef(spec.ref) : `0x${spec.value.toString(16)}`;
}

function formatNatRange(a: Action & { type: 'nat' }): string {
  let s = '';
  if (a.ipMin !== undefined) {
    const v6 = a.ipMin.includes(':');
    s += v6 ? `[${a.ipMin}]` : a.ipMin;
    if (a.ipMax !== undefined) s += v6 ? `-[${a.ipMax}]` : `-${a.ipMax}`;
  }
  if (a.portMin !== undefined) {
    s += `:${a.portMin}`;
    if (a.portMax !== undefined) s += `-${a.portMax}`;
  }
  return s;
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      if (a.port === OFPP.CONTROLLER) return `controller(max_len=${a.maxLen})`;
      return a.maxLen === 0 ? `output:${formatPort(a.port)}` : `output(port=${formatPort(a.port)},max_len=${a.maxLen})`;
    case 'group':
      return `group:${a.groupId}`;
    case 'set_queue':
      return `set_queue:${a.queueId}`;
    case 'push_vlan':
      return `push_vlan:0x${a.ethertype.toString(16)}`;
    case 'pop_vlan':
      return 'pop_vlan';
    case 'push_mpls':
      return `push_mpls:0x${a.ethertype.toString(16)}`;
    case 'pop_mpls':
      return `pop_mpls:0x${a.ethertype.toString(16)}`;
    case 'dec_nw_ttl':
      return 'dec_ttl';
    case 'set_nw_ttl':
      return `mod_nw_ttl:${a.ttl}`;
    case 'set_mpls_ttl':
      return `set_mpls_ttl:${a.ttl}`;
    case 'dec_mpls_ttl':
      return 'dec_mpls_ttl';
    case 'copy_ttl_out':
      return 'copy_ttl_out';
    case 'copy_ttl_in':
      return 'copy_ttl_in';
    case 'set_field':
      if (a.field.field === 'raw') {
        const f = a.field;
        if (f.oxmClass === 0 && f.oxmField === 0 && !f.hasMask && f.payload.length === 2)
          return `set_field:${formatPort(portFrom16(f.payload.readUInt16BE(0)))}->in_port`;
        return `raw_set_field_${f.oxmClass}_${f.oxmField}`;
      }
      return `set_field:${formatFieldValue(a.field.field, a.field.value)}->${printName(a.field.field)}`;
    case 'reg_load2':
      if (a.field.field === 'raw') return `raw_reg_load2_${a.field.oxmClass}_${a.field.oxmField}`;
      return `set_field:${formatFieldValue(a.field.field, a.field.value, a.field.mask)}->${printName(a.field.field)}`;
    case 'resubmit': {
      const port = a.inPort === OFPP.IN_PORT ? '' : formatPort(a.inPort);
      return a.table === NO_TABLE ? `resubmit:${port || 'in_port'}` : `resubmit(${port},${a.table})`;
    }
    case 'conjunction':
      return `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`;
    case 'ct': {
      const parts: string[] = [];
      if (a.flags & NX_CT_F.COMMIT) parts.push('commit');
      if (a.flags & NX_CT_F.FORCE) parts.push('force');
      if (a.recircTable !== NO_TABLE) parts.push(`table=${a.recircTable}`);
      if (a.zoneSrc) parts.push(`zone=${formatFieldRef(a.zoneSrc)}`);
      else if (a.zoneImm) parts.push(`zone=${a.zoneImm}`);
      if (a.alg) parts.push(`alg=${a.alg === 21 ? 'ftp' : a.alg === 69 ? 'tftp' : a.alg}`);
      const nat = a.actions.filter((x) => x.type === 'nat');
      const exec = a.actions.filter((x) => x.type !== 'nat');
      for (const n of nat) parts.push(formatAction(n));
      if (exec.length) parts.push(`exec(${exec.map(formatAction).join(',')})`);
      return `ct(${parts.join(',')})`;
    }
    case 'nat': {
      const parts: string[] = [];
      const range = formatNatRange(a);
      if (a.flags & NX_NAT_F.SRC) parts.push(range ? `src=${range}` : 'src');
      else if (a.flags & NX_NAT_F.DST) parts.push(range ? `dst=${range}` : 'dst');
      if (a.flags & NX_NAT_F.PERSISTENT) parts.push('persistent');
      if (a.flags & NX_NAT_F.PROTO_HASH) parts.push('hash');
      if (a.flags & NX_NAT_F.PROTO_RANDOM) parts.push('random');
      return parts.length ? `nat(${parts.join(',')})` : 'nat';
    }
    case 'reg_load':
      return `load:0x${a.value.toString(16)}->${formatFieldRef(a.dst)}`;
    case 'reg_move':
      return `move:${formatFieldRef(a.src)}->${formatFieldRef(a.dst)}`;
    case 'learn': {
      const parts = [`table=${a.tableId}`];
      if (a.idleTimeout) parts.push(`idle_timeout=${a.idleTimeout}`);
      if (a.hardTimeout) parts.push(`hard_timeout=${a.hardTimeout}`);
      if (a.finIdleTimeout) parts.push(`fin_idle_timeout=${a.finIdleTimeout}`);
      if (a.finHardTimeout) parts.push(`fin_hard_timeout=${a.finHardTimeout}`);
      if (a.priority !== 0x8000) parts.push(`priority=${a.priority}`);
      if (a.cookie) parts.push(`cookie=0x${a.cookie.toString(16)}`);
      if (a.flags & 1) parts.push('send_flow_rem');
      if (a.flags & 2) parts.push('delete_learned');
      for (const s of a.specs) {
        if (s.dst.kind === 'output') parts.push(`output:${formatRefOrValue(s.src)}`);
        else if (s.dst.kind === 'load') parts.push(`load:${formatRefOrValue(s.src)}->${formatFieldRef(s.dst.ref)}`);
        else if (s.src.kind === 'field' && sameRef(s.src.ref, s.dst.ref)) parts.push(formatFieldRef(s.dst.ref));
        else parts.push(`${formatFieldRef(s.dst.ref)}=${formatRefOrValue(s.src)}`);
      }
      return `learn(${parts.join(',')})`;
    }
    case 'note':
      return `note:${hexDots(a.data)}`;
    case 'controller': {
      const parts: string[] = [];
      if (a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
      const reasons = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
      if (a.reason !== 1) parts.push(`reason=${reasons[a.reason] ?? a.reason}`);
      if (a.controllerId) parts.push(`id=${a.controllerId}`);
      if (a.userdata !== undefined && a.userdata.length) parts.push(`userdata=${hexDots(a.userdata)}`);
      if (a.pause) parts.push('pause');
      if (a.meterId !== undefined) parts.push(`meter_id=${a.meterId}`);
      return `controller(${parts.join(',')})`;
    }
    case 'output_reg':
      return a.maxLen === 0xffff ? `output:${formatFieldRef(a.src)}` : `output(port=${formatFieldRef(a.src)},max_len=${a.maxLen})`;
    case 'output_trunc':
      return `output(port=${formatPort(a.port)},max_len=${a.maxLen})`;
    case 'exit':
      return 'exit';
    case 'ct_clear':
      return 'ct_clear';
    case 'clone':
      return `clone(${a.actions.map(formatAction).join(',')})`;
    case 'fin_timeout': {
      const parts: string[] = [];
      if (a.idleTimeout) parts.push(`idle_timeout=${a.idleTimeout}`);
      if (a.hardTimeout) parts.push(`hard_timeout=${a.hardTimeout}`);
      return `fin_timeout(${parts.join(',')})`;
    }
    case 'dec_ttl_ids':
      return `dec_ttl(${a.ids.join(',')})`;
    case 'raw':
      return `raw_action_${a.actionType}`;
  }
}

function sameRef(a: FieldRef, b: FieldRef): boolean {
  return a.field === b.field && a.ofs === b.ofs && a.nBits === b.nBits;
}

export function formatInstructions(instructions: readonly Instruction[]): string {
  const parts: string[] = [];
  for (const ins of instructions) {
    switch (ins.type) {
      case 'apply_actions':
        parts.push(...ins.actions.map(formatAction));
        break;
      case 'write_actions':
        parts.push(`write_actions(${ins.actions.map(formatAction).join(',')})`);
        break;
      case 'clear_actions':
        parts.push('clear_actions');
        break;
      case 'goto_table':
        parts.push(`goto_table:${ins.tableId}`);
        break;
      case 'meter':
        parts.push(`meter:${ins.meterId}`);
        break;
      case 'write_metadata':
        parts.push(
          ins.mask === ALL_ONES_64
            ? `write_metadata:0x${ins.metadata.toString(16)}`
            : `write_metadata:0x${ins.metadata.toString(16)}/0x${ins.mask.toString(16)}`,
        );
        break;
      case 'raw':
        parts.push(`raw_instruction_${ins.instructionType}`);
        break;
    }
  }
  return parts.length ? parts.join(',') : 'drop';
}
