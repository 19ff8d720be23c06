/**
 * Byte-level reading and writing for the OpenFlow codec: a bounds-checked Reader that fails only
 * with OfDecodeError (carrying the byte offset), and a growable big-endian Writer.
 */
import { NetloomError } from '../../lib/errors';

/** A malformed or unsupported OpenFlow byte sequence. `offset` is where decoding gave up. */
export class OfDecodeError extends NetloomError {
  readonly offset: number;
  readonly reason: string;

  constructor(offset: number, reason: string) {
    super('DECODE_ERROR', `OpenFlow decode error at byte ${offset}: ${reason}`, { details: { offset, reason } });
    this.name = 'OfDecodeError';
    this.offset = offset;
    this.reason = reason;
  }
}

/** Reads big-endian fields from `buf[start, end)`; every read past `end` throws OfDecodeError. */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new OfDecodeError(this.pos, `${what}: need ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number, what = 'padding'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A copy of the next n bytes (copied so decoded messages do not pin the receive buffer). */
  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  /** A NUL-padded fixed-width string field. */
  str(n: number, what = 'string'): string {
    this.need(n, what);
    const slice = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    const nul = slice.indexOf(0);
    return slice.toString('latin1', 0, nul < 0 ? n : nul);
  }

  /** A reader over the next n bytes, advancing this one past them. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  fail(reason: string, offset = this.pos): never {
    throw new OfDecodeError(offset, reason);
  }
}

/** Appends big-endian fields to a growing buffer. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Make room for n more bytes (then write into `buf` at `pos` directly). */
  reserve(n: number): void {
    this.ensure(n);
  }

  /** An unsigned big-endian integer of 1..6 bytes. */
  uintBE(v: number, bytes: number): void {
    this.ensure(bytes);
    this.buf.writeUIntBE(v, this.pos, bytes);
    this.pos += bytes;
  }

  /** Start over (keeping the buffer) so one writer can encode many messages. */
  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  zeros(n: number): void {
    if (n <= 0) return;
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Fixed-width NUL-padded string (truncated to n-1 bytes so it stays NUL-terminated). */
  str(s: string, n: number): void {
    this.ensure(n);
    const written = this.buf.write(s.slice(0, n - 1), this.pos, n - 1, 'latin1');
    this.buf.fill(0, this.pos + written, this.pos + n);
    this.pos += n;
  }

  /** Zero-pad so that (pos - start) is a multiple of 8. */
  pad8(start: number): void {
    this.zeros((8 - ((this.pos - start) % 8)) % 8);
  }

  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, at);
  }

  setU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /** The bytes written so far (a copy, independent of later writes). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
