/**
 * OpenFlow 1.3 multipart request and reply bodies (desc, flow, aggregate, table, port stats, port
 * desc, group desc, meter stats, meter config), plus the group bucket and meter band structures
 * they share with GROUP_MOD and METER_MOD.
 */
import { NetloomError } from '../../lib/errors';
import { readActions, writeActions } from './actions';
import { readInstructions, writeInstructions } from './instructions';
import type {
  Bucket,
  FlowStats,
  FlowStatsRequestBody,
  GroupType,
  MeterBand,
  MultipartReplyBody,
  MultipartRequestBody,
  PortDesc,
  PortStats,
} from './messages';
import { GROUP_TYPES } from './messages';
import { readMatch, writeMatch } from './oxm';
import { Reader, Writer } from './wire';

export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  GROUP_DESC: 7,
  METER_STATS: 9,
  METER_CONFIG: 10,
  PORT_DESC: 13,
} as const;

const KIND_TO_MP: Record<Exclude<MultipartRequestBody['kind'], 'raw'>, number> = {
  desc: OFPMP.DESC,
  flow: OFPMP.FLOW,
  aggregate: OFPMP.AGGREGATE,
  table: OFPMP.TABLE,
  port_stats: OFPMP.PORT_STATS,
  group_desc: OFPMP.GROUP_DESC,
  meter_stats: OFPMP.METER_STATS,
  meter_config: OFPMP.METER_CONFIG,
  port_desc: OFPMP.PORT_DESC,
};

export function multipartType(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === 'raw' ? body.mpType : KIND_TO_MP[body.kind];
}

// ---------- shared structures ----------

/** Write an entry that starts with its own 16-bit length; returns that length. */
function writeLengthPrefixed(w: Writer, body: () => void): number {
  const start = w.pos;
  w.u16(0);
  body();
  const len = w.pos - start;
  w.setU16(start, len);
  return len;
}

/**
 * Read entries that each start with their own 16-bit length (at least `min`) up to the end of `r`;
 * `read` gets the entry after its length, and the entry's offset for errors.
 */
function readLengthPrefixed<T>(r: Reader, what: string, min: number, read: (entry: Reader, start: number) => T): T[] {
  const out: T[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    const len = r.u16(`${what} length`);
    if (len < min) r.fail(`${what} length ${len} < ${min}`, start);
    out.push(read(r.sub(len - 2, what), start));
  }
  return out;
}

export function writeBuckets(w: Writer, buckets: readonly Bucket[], where: string): void {
  buckets.forEach((b, i) => {
    const len = writeLengthPrefixed(w, () => {
      w.u16(b.weight);
      w.u32(b.watchPort);
      w.u32(b.watchGroup);
      w.zeros(4);
      writeActions(w, b.actions, `${where}.bucket[${i}]`);
    });
    if (len > 0xffff) throw new NetloomError('INVALID_ARGUMENT', `${where}: bucket ${i} too long`, { field: where });
  });
}

export function readBuckets(r: Reader): Bucket[] {
  return readLengthPrefixed(r, 'bucket', 16, (b) => {
    const weight = b.u16();
    const watchPort = b.u32();
    const watchGroup = b.u32();
    b.skip(4);
    return { weight, watchPort, watchGroup, actions: readActions(b) };
  });
}

const BAND_TYPES = { drop: 1, dscp_remark: 2, experimenter: 0xffff } as const;

export function writeBands(w: Writer, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    w.u16(BAND_TYPES[b.type]);
    w.u16(16);
    w.u32(b.rate);
    w.u32(b.burstSize);
    if (b.type === 'drop') w.zeros(4);
    else if (b.type === 'dscp_remark') {
      w.u8(b.precLevel);
      w.zeros(3);
    } else w.u32(b.experimenter);
  }
}

export function readBands(r: Reader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    const type = r.u16('band type');
    const len = r.u16('band length');
    if (len < 16) r.fail(`meter band length ${len} < 16`, start);
    const b = r.sub(len - 4, 'meter band');
    const rate = b.u32();
    const burstSize = b.u32();
    if (type === 1) out.push({ type: 'drop', rate, burstSize });
    else if (type === 2) out.push({ type: 'dscp_remark', rate, burstSize, precLevel: b.u8() });
    else if (type === 0xffff) out.push({ type: 'experimenter', rate, burstSize, experimenter: b.u32() });
    else r.fail(`unknown meter band type ${type}`, start);
  }
  return out;
}

export function groupTypeNumber(t: GroupType): number {
  return GROUP_TYPES.indexOf(t);
}

export function groupTypeFrom(n: number, r: Reader, at: number): GroupType {
  const t = GROUP_TYPES[n];
  if (t === undefined) r.fail(`unknown group type ${n}`, at);
  return t;
}

export function writePort(w: Writer, p: PortDesc): void {
  w.u32(p.portNo);
  w.zeros(4);
  const mac = p.hwAddr.split(':').map((x) => parseInt(x, 16));
  if (mac.length !== 6 || mac.some((x) => !(x >= 0 && x <= 255)))
    throw new NetloomError('INVALID_ARGUMENT', `port hwAddr '${p.hwAddr}' is not a MAC address`, { field: 'hwAddr' });
  w.bytes(Buffer.from(mac));
  w.zeros(2);
  w.str(p.name, 16);
  for (const v of [p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.currSpeed, p.maxSpeed]) w.u32(v);
}

export function readPort(r: Reader): PortDesc {
  const portNo = r.u32('port_no');
  r.skip(4);
  const mac = r.bytes(6, 'hw_addr');
  r.skip(2);
  const name = r.str(16, 'port name');
  const hwAddr = Array.from(mac, (x) => x.toString(16).padStart(2, '0')).join(':');
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(),
    state: r.u32(),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}

// ---------- requests ----------

function writeFlowStatsRequest(w: Writer, b: FlowStatsRequestBody): void {
  w.u8(b.tableId);
  w.zeros(3);
  w.u32(b.outPort);
  w.u32(b.outGroup);
  w.zeros(4);
  w.u64(b.cookie);
  w.u64(b.cookieMask);
  writeMatch(w, b.match, 'multipart.match');
}

function readFlowStatsRequest(r: Reader): FlowStatsRequestBody {
  const tableId = r.u8();
  r.skip(3);
  const outPort = r.u32();
  const outGroup = r.u32();
  r.skip(4);
  const cookie = r.u64();
  const cookieMask = r.u64();
  return { tableId, outPort, outGroup, cookie, cookieMask, match: readMatch(r) };
}

export function writeMultipartRequestBody(w: Writer, body: MultipartRequestBody): void {
  switch (body.kind) {
    case 'desc':
    case 'table':
    case 'port_desc':
    case 'group_desc':
      return;
    case 'flow':
    case 'aggregate':
      writeFlowStatsRequest(w, body);
      return;
    case 'port_stats':
      w.u32(body.portNo);
      w.zeros(4);
      return;
    case 'meter_stats':
    case 'meter_config':
      w.u32(body.meterId);
      w.zeros(4);
      return;
    case 'raw':
      w.bytes(body.data);
      return;
  }
}

export function readMultipartRequestBody(mpType: number, r: Reader): MultipartRequestBody {
  switch (mpType) {
    case OFPMP.DESC:
      return { kind: 'desc' };
    case OFPMP.TABLE:
      return { kind: 'table' };
    case OFPMP.PORT_DESC:
      return { kind: 'port_desc' };
    case OFPMP.GROUP_DESC:
      return { kind: 'group_desc' };
    case OFPMP.FLOW:
      return { kind: 'flow', ...readFlowStatsRequest(r) };
    case OFPMP.AGGREGATE:
      return { kind: 'aggregate', ...readFlowStatsRequest(r) };
    case OFPMP.PORT_STATS: {
      const portNo = r.u32();
      r.skip(4);
      return { kind: 'port_stats', portNo };
    }
    case OFPMP.METER_STATS:
    case OFPMP.METER_CONFIG: {
      const meterId = r.u32();
      r.skip(4);
      return { kind: mpType === OFPMP.METER_STATS ? 'meter_stats' : 'meter_config', meterId };
    }
    default:
      return { kind: 'raw', mpType, data: r.bytes(r.remaining) };
  }
}

// ---------- replies ----------

function writeFlowStats(w: Writer, e: FlowStats): void {
  writeLengthPrefixed(w, () => {
    w.u8(e.tableId);
    w.u8(0);
    w.u32(e.durationSec);
    w.u32(e.durationNsec);
    w.u16(e.priority);
    w.u16(e.idleTimeout);
    w.u16(e.hardTimeout);
    w.u16(e.flags);
    w.zeros(4);
    w.u64(e.cookie);
    w.u64(e.packetCount);
    w.u64(e.byteCount);
    writeMatch(w, e.match, 'flow_stats.match');
    writeInstructions(w, e.instructions, 'flow_stats.instructions');
  });
}

/** One flow stats entry, after its length. */
function readFlowStats(b: Reader): FlowStats {
  const tableId = b.u8();
  b.skip(1);
  const durationSec = b.u32();
  const durationNsec = b.u32();
  const priority = b.u16();
  const idleTimeout = b.u16();
  const hardTimeout = b.u16();
  const flags = b.u16();
  b.skip(4);
  const cookie = b.u64();
  const packetCount = b.u64();
  const byteCount = b.u64();
  const match = readMatch(b);
  return {
    tableId,
    durationSec,
    durationNsec,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    cookie,
    packetCount,
    byteCount,
    match,
    instructions: readInstructions(b),
  };
}

const PORT_STATS_COUNTERS = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxDropped',
  'txDropped',
  'rxErrors',
  'txErrors',
  'rxFrameErr',
  'rxOverErr',
  'rxCrcErr',
  'collisions',
] as const;

export function writeMultipartReplyBody(w: Writer, body: MultipartReplyBody): void {
  switch (body.kind) {
    case 'desc':
      w.str(body.mfrDesc, 256);
      w.str(body.hwDesc, 256);
      w.str(body.swDesc, 256);
      w.str(body.serialNum, 32);
      w.str(body.dpDesc, 256);
      return;
    case 'flow':
      for (const e of body.entries) writeFlowStats(w, e);
      return;
    case 'aggregate':
      w.u64(body.packetCount);
      w.u64(body.byteCount);
      w.u32(body.flowCount);
      w.zeros(4);
      return;
    case 'table':
      for (const t of body.entries) {
        w.u8(t.tableId);
        w.zeros(3);
        w.u32(t.activeCount);
        w.u64(t.lookupCount);
        w.u64(t.matchedCount);
      }
      return;
    case 'port_stats':
      for (const p of body.entries) {
        w.u32(p.portNo);
        w.zeros(4);
        for (const k of PORT_STATS_COUNTERS) w.u64(p[k]);
        w.u32(p.durationSec);
        w.u32(p.durationNsec);
      }
      return;
    case 'port_desc':
      for (const p of body.ports) writePort(w, p);
      return;
    case 'group_desc':
      for (const g of body.entries) {
        writeLengthPrefixed(w, () => {
          w.u8(groupTypeNumber(g.groupType));
          w.u8(0);
          w.u32(g.groupId);
          writeBuckets(w, g.buckets, 'group_desc');
        });
      }
      return;
    case 'meter_stats':
      for (const m of body.entries) {
        w.u32(m.meterId);
        w.u16(40 + 16 * m.bands.length);
        w.zeros(6);
        w.u32(m.flowCount);
        w.u64(m.packetInCount);
        w.u64(m.byteInCount);
        w.u32(m.durationSec);
        w.u32(m.durationNsec);
        for (const b of m.bands) {
          w.u64(b.packetBandCount);
          w.u64(b.byteBandCount);
        }
      }
      return;
    case 'meter_config':
      for (const m of body.entries) {
        writeLengthPrefixed(w, () => {
          w.u16(m.flags);
          w.u32(m.meterId);
          writeBands(w, m.bands);
        });
      }
      return;
    case 'raw':
      w.bytes(body.data);
      return;
  }
}

export function readMultipartReplyBody(mpType: number, r: Reader): MultipartReplyBody {
  switch (mpType) {
    case OFPMP.DESC:
      return { kind: 'desc', mfrDesc: r.str(256), hwDesc: r.str(256), swDesc: r.str(256), serialNum: r.str(32), dpDesc: r.str(256) };
    case OFPMP.FLOW: {
      return { kind: 'flow', entries: readLengthPrefixed(r, 'flow stats', 56, readFlowStats) };
    }
    case OFPMP.AGGREGATE: {
      const packetCount = r.u64();
      const byteCount = r.u64();
      const flowCount = r.u32();
      r.skip(4);
      return { kind: 'aggregate', packetCount, byteCount, flowCount };
    }
    case OFPMP.TABLE: {
      const entries = [];
      while (r.remaining > 0) {
        const tableId = r.u8();
        r.skip(3);
        entries.push({ tableId, activeCount: r.u32(), lookupCount: r.u64(), matchedCount: r.u64() });
      }
      return { kind: 'table', entries };
    }
    case OFPMP.PORT_STATS: {
      const entries: PortStats[] = [];
      while (r.remaining > 0) {
        const portNo = r.u32();
        r.skip(4);
        const c = PORT_STATS_COUNTERS.map(() => r.u64());
        entries.push({
          portNo,
          rxPackets: c[0]!,
          txPackets: c[1]!,
          rxBytes: c[2]!,
          txBytes: c[3]!,
          rxDropped: c[4]!,
          txDropped: c[5]!,
          rxErrors: c[6]!,
          txErrors: c[7]!,
          rxFrameErr: c[8]!,
          rxOverErr: c[9]!,
          rxCrcErr: c[10]!,
          collisions: c[11]!,
          durationSec: r.u32(),
          durationNsec: r.u32(),
        });
      }
      return { kind: 'port_stats', entries };
    }
    case OFPMP.PORT_DESC: {
      const ports: PortDesc[] = [];
      while (r.remaining > 0) ports.push(readPort(r));
      return { kind: 'port_desc', ports };
    }
    case OFPMP.GROUP_DESC: {
      const entries = readLengthPrefixed(r, 'group desc', 8, (b, start) => {
        const groupType = groupTypeFrom(b.u8(), b, start + 2);
        b.skip(1);
        const groupId = b.u32();
        return { groupType, groupId, buckets: readBuckets(b) };
      });
      return { kind: 'group_desc', entries };
    }
    case OFPMP.METER_STATS: {
      const entries = [];
      while (r.remaining > 0) {
        const start = r.pos;
        const meterId = r.u32();
        const len = r.u16('meter stats length');
        if (len < 40 || (len - 40) % 16 !== 0) r.fail(`meter stats length ${len} invalid`, start);
        const b = r.sub(len - 6, 'meter stats');
        b.skip(6);
        const flowCount = b.u32();
        const packetInCount = b.u64();
        const byteInCount = b.u64();
        const durationSec = b.u32();
        const durationNsec = b.u32();
        const bands = [];
        while (b.remaining > 0) bands.push({ packetBandCount: b.u64(), byteBandCount: b.u64() });
        entries.push({ meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands });
      }
      return { kind: 'meter_stats', entries };
    }
    case OFPMP.METER_CONFIG: {
      const entries = readLengthPrefixed(r, 'meter config', 8, (b) => {
        const flags = b.u16();
        const meterId = b.u32();
        return { flags, meterId, bands: readBands(b) };
      });
      return { kind: 'meter_config', entries };
    }
    default:
      return { kind: 'raw', mpType, data: r.bytes(r.remaining) };
  }
}
