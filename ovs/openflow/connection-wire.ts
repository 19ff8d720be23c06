/**
 * The few OpenFlow 1.3 messages the connection itself speaks, built and read at the byte level so
 * that the connection depends only on the 8-byte header: HELLO (with a version bitmap), ERROR,
 * ECHO, FEATURES, BARRIER, multipart flags, and the ONF bundle extension (EXT-230) that OVS accepts
 * on OpenFlow 1.3. Everything else is the codec's business.
 */
import { NetloomError } from '../../lib/errors';
import { OFP_HEADER_LEN } from './framer';
import { OFP13_VERSION, OFPHET_VERSIONBITMAP, OFPT, ONF_VENDOR_ID, ONFT_BUNDLE_ADD_MESSAGE, ONFT_BUNDLE_CONTROL } from './messages';

// The version, message type and ONF bundle numbers are the message model's; the connection re-exports them.
export { OFP13_VERSION, OFPHET_VERSIONBITMAP, OFPT, ONFT_BUNDLE_ADD_MESSAGE, ONFT_BUNDLE_CONTROL };
export { ONF_VENDOR_ID as ONF_EXPERIMENTER_ID };

export const OFPMPF_REPLY_MORE = 0x0001;

export const BUNDLE_CTRL = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;
export const BUNDLE_FLAG_ATOMIC = 0x0001;
export const BUNDLE_FLAG_ORDERED = 0x0002;

import type { OfHeader } from './messages';
export type { OfHeader };

export function readOfHeader(frame: Buffer): OfHeader {
  if (frame.length < OFP_HEADER_LEN)
    throw new NetloomError('DECODE_ERROR', `OpenFlow frame of ${frame.length} bytes is shorter than its header`, { field: 'header' });
  return { version: frame[0] as number, type: frame[1] as number, length: frame.readUInt16BE(2), xid: frame.readUInt32BE(4) };
}

/** A message of `type` with `body` after the header. */
export function ofFrame(type: number, xid: number, body: Buffer = Buffer.alloc(0), version = OFP13_VERSION): Buffer {
  const len = OFP_HEADER_LEN + body.length;
  if (len > 0xffff) throw new NetloomError('INVALID_ARGUMENT', `OpenFlow message of ${len} bytes exceeds 65535`, { field: 'length' });
  const b = Buffer.allocUnsafe(len); // every byte is written below
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(len, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  body.copy(b, OFP_HEADER_LEN);
  return b;
}

/** Overwrite the xid of an encoded message in place. */
export function setXid(frame: Buffer, xid: number): void {
  frame.writeUInt32BE(xid >>> 0, 4);
}

// ---- HELLO ----

/** HELLO advertising exactly the given versions in a version-bitmap element. */
export function helloFrame(xid: number, versions: readonly number[] = [OFP13_VERSION]): Buffer {
  const max = Math.max(...versions);
  const words = Math.floor(max / 32) + 1;
  const elemLen = 4 + 4 * words;
  const padded = (elemLen + 7) & ~7;
  const body = Buffer.alloc(padded);
  body.writeUInt16BE(OFPHET_VERSIONBITMAP, 0);
  body.writeUInt16BE(elemLen, 2);
  for (const v of versions) {
    const w = Math.floor(v / 32);
    const off = 4 + 4 * w;
    body.writeUInt32BE((body.readUInt32BE(off) | (1 << v % 32)) >>> 0, off);
  }
  return ofFrame(OFPT.HELLO, xid, body, max);
}

/** The versions a peer's HELLO offers: its bitmap when present, else every version up to its header's. */
export function helloVersions(frame: Buffer): number[] {
  const h = readOfHeader(frame);
  let off = OFP_HEADER_LEN;
  while (off + 4 <= frame.length) {
    const type = frame.readUInt16BE(off);
    const len = frame.readUInt16BE(off + 2);
    if (len < 4 || off + len > frame.length) break;
    if (type === OFPHET_VERSIONBITMAP) {
      const out: number[] = [];
      for (let w = 0; 4 + 4 * w + 4 <= len; w++) {
        const bits = frame.readUInt32BE(off + 4 + 4 * w);
        for (let b = 0; b < 32; b++) if (bits & (1 << b)) out.push(32 * w + b);
      }
      return out;
    }
    off += (len + 7) & ~7;
  }
  const out: number[] = [];
  for (let v = 1; v <= h.version; v++) out.push(v);
  return out;
}

/** The version both sides speak, or undefined when there is none (we speak only `ours`). */
export function negotiateVersion(peerHello: Buffer, ours: readonly number[] = [OFP13_VERSION]): number | undefined {
  const theirs = new Set(helloVersions(peerHello));
  const common = ours.filter((v) => theirs.has(v));
  return common.length > 0 ? Math.max(...common) : undefined;
}

// ---- ERROR ----

export const OFPET_HELLO_FAILED = 0;
export const OFPHFC_INCOMPATIBLE = 0;
export const OFPET_EXPERIMENTER = 0xffff;

/** An ERROR message: `data` is (the start of) the message that caused it, or text for HELLO_FAILED. */
export function errorFrame(xid: number, type: number, code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4 + data.length);
  body.writeUInt16BE(type, 0);
  body.writeUInt16BE(code, 2);
  data.copy(body, 4);
  return ofFrame(OFPT.ERROR, xid, body);
}

export interface OfErrorFields {
  type: number;
  code: number;
  /** set for experimenter errors (type 0xffff) */
  experimenter?: number;
  data: Buffer;
}

export function readErrorFrame(frame: Buffer): OfErrorFields {
  if (frame.length < OFP_HEADER_LEN + 4)
    throw new NetloomError('DECODE_ERROR', `ERROR message of ${frame.length} bytes is too short`, { field: 'error' });
  const type = frame.readUInt16BE(8);
  const code = frame.readUInt16BE(10);
  if (type === OFPET_EXPERIMENTER && frame.length >= 16) {
    return { type, code, experimenter: frame.readUInt32BE(12), data: frame.subarray(16) };
  }
  return { type, code, data: frame.subarray(12) };
}

// ---- FEATURES ----

export interface SwitchFeatures {
  /** 64-bit datapath id as 16 lowercase hex digits (as ovs-ofctl prints it) */
  datapathId: string;
  datapathIdBig: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  capabilities: number;
}

export function readFeaturesReply(frame: Buffer): SwitchFeatures {
  if (frame.length < 32)
    throw new NetloomError('DECODE_ERROR', `FEATURES_REPLY of ${frame.length} bytes is shorter than 32`, { field: 'features_reply' });
  const dp = frame.readBigUInt64BE(8);
  return {
    datapathId: dp.toString(16).padStart(16, '0'),
    datapathIdBig: dp,
    nBuffers: frame.readUInt32BE(16),
    nTables: frame[20] as number,
    auxiliaryId: frame[21] as number,
    capabilities: frame.readUInt32BE(24),
  };
}

// ---- MULTIPART ----

/** True when a MULTIPART_REPLY says more parts follow. */
export function multipartHasMore(frame: Buffer): boolean {
  return frame.length >= 12 && (frame.readUInt16BE(10) & OFPMPF_REPLY_MORE) !== 0;
}

// ---- BUNDLES (ONF EXT-230 on OpenFlow 1.3) ----

function onfExperimenter(xid: number, expType: number, body: Buffer): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b.writeUInt32BE(ONF_VENDOR_ID, 0);
  b.writeUInt32BE(expType, 4);
  body.copy(b, 8);
  return ofFrame(OFPT.EXPERIMENTER, xid, b);
}

export function bundleControlFrame(xid: number, bundleId: number, ctrlType: number, flags: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(bundleId >>> 0, 0);
  body.writeUInt16BE(ctrlType, 4);
  body.writeUInt16BE(flags, 6);
  return onfExperimenter(xid, ONFT_BUNDLE_CONTROL, body);
}

/** Wraps `inner` (a whole encoded message) in a bundle-add; the caller keeps the xids equal. */
export function bundleAddFrame(xid: number, bundleId: number, flags: number, inner: Buffer): Buffer {
  const len = 24 + inner.length;
  if (len > 0xffff)
    throw new NetloomError('INVALID_ARGUMENT', `bundled message of ${inner.length} bytes does not fit a bundle-add`, { field: 'length' });
  const b = Buffer.allocUnsafe(len); // every byte is written below
  b[0] = OFP13_VERSION;
  b[1] = OFPT.EXPERIMENTER;
  b.writeUInt16BE(len, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  b.writeUInt32BE(ONF_VENDOR_ID, 8);
  b.writeUInt32BE(ONFT_BUNDLE_ADD_MESSAGE, 12);
  b.writeUInt32BE(bundleId >>> 0, 16);
  b.writeUInt16BE(0, 20); // pad
  b.writeUInt16BE(flags, 22);
  inner.copy(b, 24);
  return b;
}

export interface BundleControlFields {
  bundleId: number;
  ctrlType: number;
  flags: number;
}

/** The bundle-control body of an ONF experimenter message, or undefined when it is not one. */
export function readBundleControl(frame: Buffer): BundleControlFields | undefined {
  if (frame.length < 24 || frame[1] !== OFPT.EXPERIMENTER) return undefined;
  if (frame.readUInt32BE(8) !== ONF_VENDOR_ID || frame.readUInt32BE(12) !== ONFT_BUNDLE_CONTROL) return undefined;
  return { bundleId: frame.readUInt32BE(16), ctrlType: frame.readUInt16BE(20), flags: frame.readUInt16BE(22) };
}
