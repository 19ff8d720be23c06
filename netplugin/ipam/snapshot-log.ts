/**
 * A file that holds the latest of a series of JSON snapshots durably, at the cost of one
 * fdatasync per snapshot. Each snapshot is appended as one line, `<crc32 hex> <json>\n`; reading
 * takes the last line that is whole and whose checksum holds, so a write cut short by a crash
 * leaves the previous snapshot (the one the caller was told is durable).
 *
 * Why not a temporary file renamed over the old one each time: that costs an fsync of the file and
 * one of its directory (two journal commits), measured at 8.6 ms p50 / 21.6 ms p90 on this
 * machine kind against 0.4 ms for an append and fdatasync, and it sat on every CNI ADD's path.
 *
 * The file is rewritten whole (temporary file, fsync, rename, directory fsync) at the first write
 * of a process (so a torn tail from before is never appended to), after a failed write, and when it
 * grows past `maxBytes` (then at least 16 snapshots fit before the next rewrite). A file written
 * as one plain JSON document (the format before this log) is read as one snapshot.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

const LINE_RE = /^([0-9a-f]{8}) (.*)$/;

export const DEFAULT_MAX_BYTES = 1 << 20;

function checksum(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}

/** One line of the log for `json` (which must not contain a newline: JSON.stringify without indentation). */
export function logLine(json: string): string {
  return `${checksum(json)} ${json}\n`;
}

/**
 * The last whole, intact snapshot of a log's text, or the text itself when it is one plain JSON
 * document; undefined when there is none (empty, or nothing intact).
 */
export function lastSnapshot(text: string): string | undefined {
  if (text.trimStart().startsWith('{')) return text;
  const lines = text.split('\n');
  // the part after the last newline is a line cut short (or '')
  for (let i = lines.length - 2; i >= 0; i--) {
    const m = LINE_RE.exec(lines[i] ?? '');
    if (m?.[1] !== undefined && m[2] !== undefined && checksum(m[2]) === m[1]) return m[2];
  }
  return undefined;
}

export class SnapshotLog {
  private fh: FileHandle | undefined;
  private size = 0;
  /** rewrites of the whole file so far (tests, measurements) */
  rewrites = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** The file's text, or undefined when there is no file. */
  readText(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Resolves once `json` is the snapshot the file gives. Not to be called again before it settles. */
  async write(json: string): Promise<void> {
    const line = logLine(json);
    const bytes = Buffer.byteLength(line);
    try {
      if (!this.fh || this.size + bytes > Math.max(this.maxBytes, bytes * 16)) {
        await this.rewrite(line);
        this.size = bytes;
        return;
      }
      await this.fh.appendFile(line);
      await this.fh.datasync();
      this.size += bytes;
    } catch (e) {
      // the tail may be torn: the next write starts a fresh file rather than append after it
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private async rewrite(line: string): Promise<void> {
    await this.close();
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const f = await open(tmp, 'w', 0o600);
    try {
      await f.writeFile(line);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.fh = await open(this.path, 'a');
    this.rewrites++;
  }
}
