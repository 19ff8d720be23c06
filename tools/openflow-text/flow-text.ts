/**
 * Flows in ovs-ofctl syntax: `parseFlow('table=1,priority=100,ip,nw_src=10.1.0.0/16,tcp,tp_dst=80,
 * ct_state=+trk+new,actions=ct(commit,zone=5,table=2),output:3')` gives the FlowMod ovs-ofctl
 * would send over OpenFlow 1.3 (same match order and encodings), and `formatFlowMod` /
 * `formatFlowStats` print a flow back in text that parses to the same bytes.
 */
import type { FlowMod, FlowModCommand, FlowStats, KnownOxm, Match, OxmFieldName } from '../../ovs/openflow/messages';
import { flowMod, OFPFF, OFPG_ANY, OFPP } from '../../ovs/openflow/messages';
import { canonicalMatch } from '../../ovs/openflow/match-order';
import { checkPrerequisites } from '../../ovs/openflow/oxm';
import { formatInstructions, parseInstructions, splitTop } from './actions-text';
import { formatFieldValue, formatPort, lookupField, parseBig, parseFieldValue, parseNum, parsePort, printName, textError } from './fields';

const SHORTHANDS: Record<string, [number, number?]> = {
  ip: [0x0800],
  ipv6: [0x86dd],
  icmp: [0x0800, 1],
  icmp6: [0x86dd, 58],
  tcp: [0x0800, 6],
  tcp6: [0x86dd, 6],
  udp: [0x0800, 17],
  udp6: [0x86dd, 17],
  sctp: [0x0800, 132],
  sctp6: [0x86dd, 132],
  arp: [0x0806],
  rarp: [0x8035],
  mpls: [0x8847],
  mplsm: [0x8848],
};

const FLAG_WORDS: Record<string, number> = {
  send_flow_rem: OFPFF.SEND_FLOW_REM,
  check_overlap: OFPFF.CHECK_OVERLAP,
  reset_counts: OFPFF.RESET_COUNTS,
  no_packet_counts: OFPFF.NO_PKT_COUNTS,
  no_byte_counts: OFPFF.NO_BYT_COUNTS,
};

const ALL_ONES_64 = (1n << 64n) - 1n;

/** Separate `actions=...` (everything after it) from the match/settings part. */
function splitActions(line: string): { head: string; actions: string | undefined } {
  const m = /(^|[,\s])(actions|instructions)\s*=/i.exec(line);
  if (!m) return { head: line, actions: undefined };
  return { head: line.slice(0, m.index), actions: line.slice(m.index + m[0].length) };
}

export interface ParseFlowOptions {
  /** flow_mod command (default 'add'; ovs-ofctl's add-flow / mod-flows / del-flows ...) */
  command?: FlowModCommand;
  /** require an actions= part (default: true for add/modify) */
  requireActions?: boolean;
}

/**
 * Parse one ovs-ofctl flow line into a FlowMod (xid 0). Errors are NetloomError INVALID_ARGUMENT
 * with `field` naming the offending keyword.
 */
export function parseFlow(line: string, opts: ParseFlowOptions = {}): FlowMod {
  const command = opts.command ?? 'add';
  const fm = flowMod({ command });
  if (command === 'delete' || command === 'delete_strict') fm.tableId = 0xff;
  const { head, actions } = splitActions(line.trim());
  const entries: KnownOxm[] = [];
  let ethType: number | undefined;
  let proto: number | undefined;
  let tableSet = false;
  const set = (field: OxmFieldName, text: string, where: string): void => {
    const { value, mask } = parseFieldValue(field, text, where);
    const e: KnownOxm = mask === undefined ? { field, value } : { field, value, mask };
    const at = entries.findIndex((x) => x.field === field);
    if (at >= 0) throw textError(where, `field ${where} given twice`);
    entries.push(e);
    if (field === 'eth_type' && mask === undefined) ethType = Number(value);
    if (field === 'ip_proto') proto = Number(value);
  };
  const deferred: [string, string][] = [];
  for (const tok of splitTop(head.replace(/\s+/g, ','), 'flow')) {
    const eq = tok.indexOf('=');
    const key = (eq < 0 ? tok : tok.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? undefined : tok.slice(eq + 1).trim();
    const sh = SHORTHANDS[key];
    if (sh && val === undefined) {
      if (ethType !== undefined && ethType !== sh[0]) throw textError(key, `conflicts with eth_type 0x${ethType.toString(16)}`);
      if (ethType === undefined) set('eth_type', String(sh[0]), key);
      if (sh[1] !== undefined) {
        if (proto !== undefined && proto !== sh[1]) throw textError(key, `conflicts with ip_proto ${proto}`);
        if (proto === undefined) set('ip_proto', String(sh[1]), key);
      }
      continue;
    }
    if (FLAG_WORDS[key] !== undefined && val === undefined) {
      fm.flags |= FLAG_WORDS[key]!;
      continue;
    }
    if (val === undefined) throw textError(key, `'${key}' needs a value (${key}=...)`);
    switch (key) {
      case 'table':
        fm.tableId = parseNum(val, 'table', 254);
        tableSet = true;
        continue;
      case 'priority':
        fm.priority = parseNum(val, 'priority', 0xffff);
        continue;
      case 'idle_timeout':
        fm.idleTimeout = parseNum(val, 'idle_timeout', 0xffff);
        continue;
      case 'hard_timeout':
        fm.hardTimeout = parseNum(val, 'hard_timeout', 0xffff);
        continue;
      case 'cookie': {
        const [v, m] = val.split('/');
        fm.cookie = parseBig(v!, 'cookie');
        // ovs-ofctl refuses a mask when adding; OpenFlow says switches ignore it on ADD, so keep it
        if (m !== undefined) fm.cookieMask = m === '-1' ? ALL_ONES_64 : parseBig(m, 'cookie');
        if (fm.cookie > ALL_ONES_64 || fm.cookieMask > ALL_ONES_64) throw textError('cookie', 'cookie or its mask exceeds 64 bits');
        continue;
      }
      case 'out_port':
        fm.outPort = parsePort(val, 'out_port');
        continue;
      case 'out_group':
        fm.outGroup = val.toLowerCase() === 'any' ? OFPG_ANY : parseNum(val, 'out_group');
        continue;
      case 'buffer_id':
        fm.bufferId = parseNum(val, 'buffer_id');
        continue;
      case 'dl_vlan': {
        const v = parseNum(val, 'dl_vlan', 0xffff);
        if (v === 0xffff) set('vlan_vid', '0', 'dl_vlan');
        else if (v > 4095) throw textError('dl_vlan', `${v} is not a VLAN id (0..4095 or 0xffff)`);
        else set('vlan_vid', String(0x1000 | v), 'dl_vlan');
        continue;
      }
      case 'nw_tos': {
        const v = parseNum(val, 'nw_tos', 255);
        set('ip_dscp', String(v >> 2), 'nw_tos');
        continue;
      }
      case 'nw_frag': {
        const frag: Record<string, string> = { no: '0/3', yes: '1/1', first: '1/3', later: '3/3', not_later: '0/2' };
        set('ip_frag', frag[val] ?? val, 'nw_frag');
        continue;
      }
      case 'tp_src':
      case 'tp_dst':
      case 'icmp_type':
      case 'icmp_code':
        deferred.push([key, val]);
        continue;
      default: {
        const field = lookupField(key);
        if (!field) throw textError(key, `unknown match field or keyword '${key}'`);
        deferred.push([key, val]);
      }
    }
  }
  for (const [key, val] of deferred) {
    let field: OxmFieldName | undefined;
    if (key === 'tp_src' || key === 'tp_dst') {
      const side = key === 'tp_src' ? 'src' : 'dst';
      if (proto === 6) field = `tcp_${side}`;
      else if (proto === 17) field = `udp_${side}`;
      else if (proto === 132) field = `sctp_${side}`;
      else if (proto === 1 && ethType === 0x0800) field = side === 'src' ? 'icmpv4_type' : 'icmpv4_code';
      else if (proto === 58) field = side === 'src' ? 'icmpv6_type' : 'icmpv6_code';
      else throw textError(key, `${key} requires tcp, udp, sctp or icmp (set ip_proto or use tcp/udp/... first)`);
    } else if (key === 'icmp_type' || key === 'icmp_code') {
      field = proto === 58 ? (key === 'icmp_type' ? 'icmpv6_type' : 'icmpv6_code') : key === 'icmp_type' ? 'icmpv4_type' : 'icmpv4_code';
    } else {
      field = lookupField(key)!;
      // ovs-ofctl: nw_src/nw_dst/nw_proto on ARP mean the ARP fields
      if (ethType === 0x0806 || ethType === 0x8035) {
        if (field === 'ipv4_src') field = 'arp_spa';
        else if (field === 'ipv4_dst') field = 'arp_tpa';
        else if (field === 'ip_proto') field = 'arp_op';
      }
    }
    set(field, val, key);
  }
  if (!tableSet && (command === 'delete' || command === 'delete_strict')) fm.tableId = 0xff;
  const match: Match = canonicalMatch(entries);
  checkPrerequisites(match, 'flow');
  fm.match = match;
  const needActions = opts.requireActions ?? (command === 'add' || command === 'modify' || command === 'modify_strict');
  if (actions === undefined) {
    if (needActions) throw textError('actions', 'the flow has no actions= part');
  } else {
    const vid = match.find((e) => e.field === 'vlan_vid');
    const vlan =
      vid !== undefined &&
      vid.field !== 'raw' &&
      (Number(vid.value) & 0x1000) !== 0 &&
      (vid.mask === undefined || (Number(vid.mask) & 0x1000) !== 0);
    fm.instructions = parseInstructions(actions, 'actions', proto === undefined ? { vlan } : { vlan, ipProto: proto });
  }
  return fm;
}

const ETH_NAMES: Record<number, string> = { 0x0800: 'ip', 0x86dd: 'ipv6', 0x0806: 'arp', 0x8035: 'rarp', 0x8847: 'mpls', 0x8848: 'mplsm' };

/** The match part in ovs-ofctl syntax (without trailing comma); '' for match-all. */
export function formatMatch(match: Match): string {
  const parts: string[] = [];
  const eth = match.find((e) => e.field === 'eth_type');
  const ethType = eth && eth.field !== 'raw' && eth.mask === undefined ? Number(eth.value) : undefined;
  for (const e of match) {
    if (e.field === 'raw') continue; // not expressible in text
    if (e.field === 'eth_type' && ethType !== undefined && ETH_NAMES[ethType]) {
      parts.push(ETH_NAMES[ethType]!);
      continue;
    }
    let name = printName(e.field);
    if (ethType === 0x0806 || ethType === 0x8035) {
      if (e.field === 'arp_spa') name = 'arp_spa';
      if (e.field === 'arp_tpa') name = 'arp_tpa';
    }
    if (e.field === 'in_port') {
      parts.push(`in_port=${formatPort(Number(e.value))}`);
      continue;
    }
    parts.push(`${name}=${formatFieldValue(e.field, e.value, e.mask)}`);
  }
  return parts.join(',');
}

function flagWords(flags: number): string[] {
  return Object.entries(FLAG_WORDS)
    .filter(([, bit]) => flags & bit)
    .map(([w]) => w);
}

/** A flow_mod in ovs-ofctl add-flow syntax (command and xid are not part of the text). */
export function formatFlowMod(fm: FlowMod): string {
  const parts: string[] = [];
  if (fm.cookie !== 0n || fm.cookieMask !== 0n)
    parts.push(
      fm.cookieMask === 0n ? `cookie=0x${fm.cookie.toString(16)}` : `cookie=0x${fm.cookie.toString(16)}/0x${fm.cookieMask.toString(16)}`,
    );
  if (fm.tableId !== 0) parts.push(`table=${fm.tableId}`);
  if (fm.priority !== 0x8000) parts.push(`priority=${fm.priority}`);
  if (fm.idleTimeout) parts.push(`idle_timeout=${fm.idleTimeout}`);
  if (fm.hardTimeout) parts.push(`hard_timeout=${fm.hardTimeout}`);
  if (fm.outPort !== OFPP.ANY) parts.push(`out_port=${formatPort(fm.outPort)}`);
  if (fm.outGroup !== OFPG_ANY) parts.push(`out_group=${fm.outGroup}`);
  parts.push(...flagWords(fm.flags));
  const m = formatMatch(fm.match);
  if (m) parts.push(m);
  parts.push(`actions=${formatInstructions(fm.instructions)}`);
  return parts.join(',');
}

/** A flow-stats entry in the style of ovs-ofctl dump-flows (parseable back with parseFlow). */
export function formatFlowStats(fs: FlowStats): string {
  const head = [
    `cookie=0x${fs.cookie.toString(16)}`,
    `duration=${fs.durationSec}.${String(Math.floor(fs.durationNsec / 1e6)).padStart(3, '0')}s`,
    `table=${fs.tableId}`,
    `n_packets=${fs.packetCount}`,
    `n_bytes=${fs.byteCount}`,
  ];
  if (fs.idleTimeout) head.push(`idle_timeout=${fs.idleTimeout}`);
  if (fs.hardTimeout) head.push(`hard_timeout=${fs.hardTimeout}`);
  head.push(...flagWords(fs.flags));
  const m = formatMatch(fs.match);
  const prio = fs.priority !== 0x8000 ? `priority=${fs.priority}` : '';
  const matchPart = [prio, m].filter((x) => x).join(',');
  return `${head.join(', ')}, ${matchPart ? `${matchPart} ` : ''}actions=${formatInstructions(fs.instructions)}`;
}

/** Parse a dump-flows style line (ignoring duration/n_packets/n_bytes) into a FlowMod. */
export function parseFlowStatsLine(line: string): FlowMod {
  const cleaned = line
    .replace(/\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]+,?\s*/g, '')
    .replace(/,\s+/g, ',')
    .trim();
  return parseFlow(cleaned);
}
