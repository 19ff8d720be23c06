/**
 * Groups and meters in ovs-ofctl syntax: `group_id=1,type=select,bucket=weight:10,actions=output:1,
 * bucket=...` and `meter=1,kbps,burst,stats,band=type=drop,rate=10000,burst_size=100`, parsed into
 * GROUP_MOD / METER_MOD messages as ovs-ofctl sends them over OpenFlow 1.3, and printed back.
 */
import type { Bucket, GroupMod, GroupModCommand, GroupType, MeterBand, MeterMod, MeterModCommand } from '../../ovs/openflow/messages';
import { OFPG_ANY, OFPMF, OFPP } from '../../ovs/openflow/messages';
import { formatAction, parseActionList, splitTop } from './actions-text';
import { formatPort, parseNum, parsePort, textError } from './fields';

const GROUP_TYPE_WORDS: Record<string, GroupType> = { all: 'all', select: 'select', indirect: 'indirect', ff: 'ff', fast_failover: 'ff' };

function parseBucket(text: string, groupType: GroupType, where: string): Bucket {
  const b: Bucket = { weight: groupType === 'select' ? 1 : 0, watchPort: OFPP.ANY, watchGroup: OFPG_ANY, actions: [] };
  const actionToks: string[] = [];
  const toks = splitTop(text, where);
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!;
    const m = /^(weight|watch_port|watch_group|bucket_id|actions)[:=](.*)$/.exec(tok);
    if (!m) {
      actionToks.push(tok);
      continue;
    }
    const [, key, val] = m;
    if (key === 'actions') {
      actionToks.push(val!, ...toks.slice(i + 1));
      break;
    }
    if (key === 'weight') b.weight = parseNum(val!, `${where}.weight`, 0xffff);
    else if (key === 'watch_port') b.watchPort = parsePort(val!, `${where}.watch_port`);
    else if (key === 'watch_group') b.watchGroup = parseNum(val!, `${where}.watch_group`);
    // bucket_id exists only from OpenFlow 1.5 on; ovs-ofctl drops it for 1.3
  }
  b.actions = parseActionList(actionToks.join(','), `${where}.actions`);
  return b;
}

/** Parse an ovs-ofctl group line into a GROUP_MOD (xid 0). */
export function parseGroup(line: string, command: GroupModCommand = 'add'): GroupMod {
  const text = line.trim();
  const first = text.search(/(^|,)\s*bucket=/);
  const head = first < 0 ? text : text.slice(0, first);
  const bucketsText = first < 0 ? '' : text.slice(first).replace(/^,/, '');
  let groupId: number | undefined;
  let groupType: GroupType | undefined;
  for (const tok of splitTop(head, 'group')) {
    const [k, v] = tok.split('=');
    if (k === 'group_id') groupId = v === 'all' ? 0xfffffffc : parseNum(v ?? '', 'group_id');
    else if (k === 'type') {
      groupType = GROUP_TYPE_WORDS[v ?? ''];
      if (!groupType) throw textError('type', `unknown group type '${v}' (all, select, indirect, ff)`);
    } else throw textError(k ?? 'group', `unknown group keyword '${tok}'`);
  }
  if (groupId === undefined) throw textError('group_id', 'the group has no group_id');
  if (groupType === undefined) {
    if (command === 'delete') groupType = 'all';
    else throw textError('type', 'the group has no type');
  }
  const buckets: Bucket[] = [];
  if (bucketsText) {
    const parts = bucketsText.split(/(?:^|,)\s*bucket=/).filter((p) => p.trim() !== '');
    parts.forEach((p, i) => buckets.push(parseBucket(p.replace(/,$/, ''), groupType!, `bucket[${i}]`)));
  }
  if (groupType === 'indirect' && buckets.length !== 1 && command !== 'delete')
    throw textError('bucket', 'an indirect group needs exactly one bucket');
  return { type: 'group_mod', xid: 0, command, groupType, groupId, buckets };
}

export function formatGroup(g: Pick<GroupMod, 'groupId' | 'groupType' | 'buckets'>): string {
  const parts = [`group_id=${g.groupId}`, `type=${g.groupType}`];
  for (const b of g.buckets) {
    const bp: string[] = [];
    if (b.weight !== (g.groupType === 'select' ? 1 : 0)) bp.push(`weight:${b.weight}`);
    if (b.watchPort !== OFPP.ANY) bp.push(`watch_port:${formatPort(b.watchPort)}`);
    if (b.watchGroup !== OFPG_ANY) bp.push(`watch_group:${b.watchGroup}`);
    bp.push(`actions=${b.actions.map(formatAction).join(',')}`);
    parts.push(`bucket=${bp.join(',')}`);
  }
  return parts.join(',');
}

/** Parse an ovs-ofctl meter line (add-meter or dump-meters form) into a METER_MOD (xid 0). */
export function parseMeter(line: string, command: MeterModCommand = 'add'): MeterMod {
  // ovs-ofctl dump-meters separates with spaces and newlines; add-meter with commas
  const text = line.trim().replace(/\s+/g, ',').replace(/,+/g, ',');
  const bandAt = text.search(/(^|,)\s*bands?=/);
  const head = bandAt < 0 ? text : text.slice(0, bandAt);
  const bandText = bandAt < 0 ? '' : text.slice(bandAt).replace(/^,?\s*bands?=/, '');
  let meterId: number | undefined;
  let flags = 0;
  for (const tok of splitTop(head, 'meter')) {
    const [k, v] = tok.split('=');
    if (k === 'meter') meterId = v === 'all' ? 0xffffffff : parseNum(v ?? '', 'meter');
    else if (k === 'kbps') flags |= OFPMF.KBPS;
    else if (k === 'pktps') flags |= OFPMF.PKTPS;
    else if (k === 'burst') flags |= OFPMF.BURST;
    else if (k === 'stats') flags |= OFPMF.STATS;
    else throw textError(k ?? 'meter', `unknown meter keyword '${tok}'`);
  }
  if (meterId === undefined) throw textError('meter', 'the meter has no meter= id');
  if (flags & OFPMF.KBPS && flags & OFPMF.PKTPS) throw textError('meter', 'kbps and pktps are exclusive');
  const bands: MeterBand[] = [];
  if (bandText) {
    const chunks = bandText.split(/(?:^|,)\s*type=/).filter((c) => c.trim() !== '');
    chunks.forEach((chunk, i) => {
      const where = `band[${i}]`;
      const [typeWord, ...rest] = chunk
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      let rate = 0;
      let burstSize = 0;
      let precLevel = 0;
      for (const kv of rest) {
        const [k, v] = kv.split('=');
        if (k === 'rate') rate = parseNum(v ?? '', `${where}.rate`);
        else if (k === 'burst_size') burstSize = parseNum(v ?? '', `${where}.burst_size`);
        else if (k === 'prec_level') precLevel = parseNum(v ?? '', `${where}.prec_level`, 255);
        else throw textError(`${where}.${k}`, `unknown band keyword '${kv}'`);
      }
      if (typeWord === 'drop') bands.push({ type: 'drop', rate, burstSize });
      else if (typeWord === 'dscp_remark') bands.push({ type: 'dscp_remark', rate, burstSize, precLevel });
      else throw textError(`${where}.type`, `unknown band type '${typeWord}' (drop, dscp_remark)`);
    });
  }
  if (command !== 'delete' && bands.length === 0) throw textError('band', 'the meter has no band');
  return { type: 'meter_mod', xid: 0, command, flags, meterId, bands };
}

export function formatMeter(m: Pick<MeterMod, 'meterId' | 'flags' | 'bands'>): string {
  const parts = [`meter=${m.meterId}`];
  if (m.flags & OFPMF.KBPS) parts.push('kbps');
  if (m.flags & OFPMF.PKTPS) parts.push('pktps');
  if (m.flags & OFPMF.BURST) parts.push('burst');
  if (m.flags & OFPMF.STATS) parts.push('stats');
  const bands = m.bands.map((b) => {
    let s = `type=${b.type},rate=${b.rate}`;
    if (b.burstSize) s += `,burst_size=${b.burstSize}`;
    if (b.type === 'dscp_remark') s += `,prec_level=${b.precLevel}`;
    return s;
  });
  if (bands.length) parts.push(`bands=${bands.join(',')}`);
  return parts.join(',');
}
