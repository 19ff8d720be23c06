/**
 * Message framing for OVSDB JSON-RPC (RFC 7047 section 4): the stream carries JSON objects one
 * after another with no delimiter. This splitter finds where each top-level value ends by scanning
 * bytes (brackets, strings, escapes), so values split across chunks or merged into one chunk come
 * out whole. Its buffer is bounded: a value larger than `maxMessageBytes` or bytes that cannot
 * start a JSON object or array fail with a DECODE_ERROR and the stream is unusable after that.
 *
 * Scanning bytes rather than characters is safe for UTF-8: the bytes of a multi-byte character are
 * all >= 0x80, so they never look like a bracket, quote or backslash, and a character split
 * between two chunks is decoded only once the whole value is there.
 */
import { NetloomError } from '../../lib/errors';

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

export class JsonStreamSplitter {
  private readonly maxMessageBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** scanner state, carried across chunks */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private failed: NetloomError | undefined;

  constructor(opts: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 2) {
      throw new NetloomError('INVALID_ARGUMENT', `maxMessageBytes must be an integer >= 2, got ${String(opts.maxMessageBytes)}`, {
        field: 'maxMessageBytes',
      });
    }
  }

  /** Bytes held for a value not yet complete. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feed the next chunk; returns every value completed by it, parsed, in order. Throws
   * DECODE_ERROR on garbage, on invalid JSON inside a balanced value, or on an oversize value.
   */
  push(chunk: Buffer): unknown[] {
    if (this.failed) throw this.failed;
    const out: unknown[] = [];
    let start = 0;
    let i = 0;
    // current value so far lives in this.chunks (earlier chunks) + chunk[start..i)
    for (; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.depth === 0) {
        if (isJsonWhitespace(b)) {
          start = i + 1;
          continue;
        }
        if (b !== OPEN_BRACE && b !== OPEN_BRACKET) {
          throw this.fail(
            `unexpected byte 0x${b.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(b))}) between JSON-RPC messages`,
          );
        }
        this.depth = 1;
        start = i;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          const size = this.buffered + (i + 1 - start);
          if (size > this.maxMessageBytes) throw this.oversize(size);
          const tail = chunk.subarray(start, i + 1);
          const whole = this.chunks.length === 0 ? tail : Buffer.concat([...this.chunks, tail]);
          this.chunks = [];
          this.buffered = 0;
          out.push(this.parse(whole));
          start = i + 1;
        }
      }
    }
    if (this.depth > 0 && start < chunk.length) {
      const rest = chunk.subarray(start);
      const size = this.buffered + rest.length;
      if (size > this.maxMessageBytes) throw this.oversize(size);
      // copy: the caller may reuse its buffer
      this.chunks.push(Buffer.from(rest));
      this.buffered = size;
    }
    return out;
  }

  /** Call at end of stream: throws DECODE_ERROR when a value was cut off. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.depth > 0) throw this.fail(`stream ended inside a JSON value (${this.buffered} bytes pending)`);
  }

  private parse(bytes: Buffer): unknown {
    const text = bytes.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw this.fail(`invalid JSON in message: ${(e as Error).message}; starts with ${JSON.stringify(text.slice(0, 80))}`);
    }
  }

  private oversize(size: number): NetloomError {
    return this.fail(`JSON-RPC message exceeds ${this.maxMessageBytes} bytes (at least ${size} bytes)`, { size });
  }

  private fail(message: string, details: Record<string, unknown> = {}): NetloomError {
    this.failed = new NetloomError('DECODE_ERROR', message, { details: { maxMessageBytes: this.maxMessageBytes, ...details } });
    this.chunks = [];
    this.buffered = 0;
    return this.failed;
  }
}
