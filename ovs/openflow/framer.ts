/**
 * Splits the byte stream of an OpenFlow connection into whole messages using the 8-byte header's
 * length field. A frame shorter than its header, or of a version other than the one expected, is a
 * typed error after which the stream cannot be trusted (the connection closes). At most one partial
 * frame is held, and a frame is at most 65535 bytes, so memory per connection stays bounded.
 */
import { NetloomError } from '../../lib/errors';

export const OFP_HEADER_LEN = 8;
export const OFP_MAX_MESSAGE_LEN = 0xffff;

/** A framing failure: the offset is counted from the first byte this framer ever received. */
export class OfFramingError extends NetloomError {
  readonly offset: number;
  constructor(message: string, offset: number, details: Record<string, unknown> = {}) {
    super('DECODE_ERROR', message, { field: 'header', details: { offset, ...details } });
    this.name = 'OfFramingError';
    this.offset = offset;
  }
}

export interface FramerOptions {
  /**
   * Versions accepted in the header. HELLO is always accepted with any version (negotiation needs
   * it); every other message must carry one of these.
   */
  versions?: readonly number[];
}

const OFPT_HELLO = 0;

export class OfFramer {
  private pending: Buffer | undefined;
  private consumed = 0;
  private failed: OfFramingError | undefined;
  private readonly versions: ReadonlySet<number>;

  constructor(opts: FramerOptions = {}) {
    this.versions = new Set(opts.versions ?? [0x04]);
  }

  /** Bytes held for an incomplete frame (never more than one maximum-size message). */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Feed the next chunk of the stream; returns every frame it completes, in order. Frames are
   * copies or slices the caller may keep. Throws OfFramingError on a bad header, and keeps
   * throwing it for any later chunk.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const buf = this.pending && this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= OFP_HEADER_LEN) {
      const version = buf[off] as number;
      const type = buf[off + 1] as number;
      const length = buf.readUInt16BE(off + 2);
      const at = this.consumed + off;
      if (length < OFP_HEADER_LEN) {
        this.failed = new OfFramingError(`OpenFlow message at byte ${at} declares length ${length}, less than the 8-byte header`, at, {
          length,
        });
        throw this.failed;
      }
      if (type !== OFPT_HELLO && !this.versions.has(version)) {
        this.failed = new OfFramingError(
          `OpenFlow message at byte ${at} has version 0x${version.toString(16).padStart(2, '0')}, expected ${[...this.versions].map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(' or ')}`,
          at,
          { version, type },
        );
        throw this.failed;
      }
      if (buf.length - off < length) break;
      out.push(buf.subarray(off, off + length));
      off += length;
    }
    this.consumed += off;
    if (off < buf.length) {
      // Copy the tail so that the (possibly large) chunk it came from can be freed.
      this.pending = Buffer.from(buf.subarray(off));
    }
    return out;
  }
}
