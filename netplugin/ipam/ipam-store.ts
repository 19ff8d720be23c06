/**
 * The local allocator's file: what makes an ADD's address durable before the ADD answers (issue 15
 * item 2). Unlike the endpoint store, which writes in the background, `save` resolves only once the
 * data is on disk: each snapshot is appended to a log of checksummed snapshots and fdatasynced
 * (snapshot-log.ts, which also says why not a renamed temporary file each time). A crash therefore
 * leaves the last snapshot whose save resolved, or a newer one, never a mix.
 *
 * A file that does not parse or breaks an allocator invariant is refused with a DECODE_ERROR naming
 * it: starting empty instead would give the same addresses a second time.
 *
 * Saves coalesce: an fsync costs milliseconds, so while one write is in flight every save asked
 * meanwhile joins ONE next write, whose snapshot is taken when it starts (so it holds every change
 * those saves were asked for). Under concurrent ADDs that is one fsync per burst, not per ADD.
 * The file also carries each allocation's registration (what netmaster needs to record it).
 */
import { z } from 'zod';
import { errorMessage, NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { allocatorSnapshotSchema, LocalAllocator } from './local-allocator';
import { registrationSchema, type Registration } from './registration';
import { lastSnapshot, SnapshotLog } from './snapshot-log';

const fileSchema = z.object({ version: z.literal(1), registrations: z.array(registrationSchema).default([]) }).and(allocatorSnapshotSchema);

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class IpamStore {
  /** the write asked for while another is in flight: its snapshot is taken when it starts */
  private queued: { text: () => string; waiters: Waiter[] } | undefined;
  private writing = false;
  /** writes (fdatasyncs) done, for tests and measurements */
  writes = 0;
  private readonly log: SnapshotLog;

  constructor(
    readonly path: string,
    opts: { maxBytes?: number } = {},
  ) {
    this.log = new SnapshotLog(path, opts.maxBytes);
  }

  /** The allocator as last saved; empty when there is no file yet. */
  load(): LocalAllocator {
    return this.loadAll().allocator;
  }

  /** The allocator and the registrations of its allocations, as last saved. */
  loadAll(): { allocator: LocalAllocator; registrations: Registration[] } {
    const text = this.log.readText();
    if (text === undefined) return { allocator: new LocalAllocator(), registrations: [] };
    const snapshot = lastSnapshot(text);
    if (snapshot === undefined) throw this.damaged('no intact snapshot in it', undefined);
    let json: unknown;
    try {
      json = JSON.parse(snapshot);
    } catch (e) {
      throw this.damaged(`not JSON (${errorMessage(e)})`, e);
    }
    const file = parseWith(fileSchema, json, {
      what: `ipam state file ${this.path}`,
      code: 'DECODE_ERROR',
      field: 'state-dir',
      message: ({ reason, path }) => `ipam state file ${this.path} is damaged: ${path ? `${path}: ` : ''}${reason}`,
    });
    try {
      return {
        allocator: LocalAllocator.fromSnapshot({ blocks: file.blocks, allocations: file.allocations }),
        registrations: file.registrations,
      };
    } catch (e) {
      throw this.damaged(errorMessage(e), e);
    }
  }

  /**
   * Resolves once `allocator`'s state (and `registrations`) as of now, or newer, is on disk. Both
   * are read when the write starts, so callers pass the live objects.
   */
  save(allocator: LocalAllocator, registrations?: () => Registration[]): Promise<void> {
    const text = (): string => JSON.stringify({ version: 1, ...allocator.snapshot(), registrations: registrations?.() ?? [] });
    return new Promise<void>((resolve, reject) => {
      if (this.queued) this.queued.text = text;
      else this.queued = { text, waiters: [] };
      this.queued.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Write what is queued, one write at a time (a failed write fails only its own saves). */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      for (let q = this.queued; q; q = this.queued) {
        this.queued = undefined;
        try {
          await this.write(q.text());
          this.writes++;
          for (const w of q.waiters) w.resolve();
        } catch (e) {
          for (const w of q.waiters) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Let go of the open file (the agent stops); a later save opens it again. */
  async close(): Promise<void> {
    while (this.writing) await new Promise((r) => setImmediate(r));
    await this.log.close();
  }

  private async write(text: string): Promise<void> {
    try {
      await this.log.write(text);
    } catch (e) {
      throw new NetloomError('INTERNAL', `writing the ipam state file ${this.path} failed: ${errorMessage(e)}`, {
        field: 'state-dir',
        cause: e,
      });
    }
  }

  private damaged(reason: string, cause: unknown): NetloomError {
    return new NetloomError('DECODE_ERROR', `ipam state file ${this.path} is damaged: ${reason}`, {
      field: 'state-dir',
      details: { file: this.path },
      cause,
    });
  }
}
