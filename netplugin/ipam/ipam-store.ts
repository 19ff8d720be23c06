/**
 * The local allocator's file: what makes an ADD's address durable before the ADD answers (issue 15
 * item 2). Unlike the endpoint store, which writes in the background, `save` resolves only once the
 * data is on disk: the snapshot goes to a temporary file that is fsynced, renamed over the file, and
 * the directory is fsynced so the rename itself survives a power cut. A crash therefore leaves
 * either the old or the new file, never a mix.
 *
 * A file that does not parse or breaks an allocator invariant is refused with a DECODE_ERROR naming
 * it: starting empty instead would give the same addresses a second time.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { errorMessage, NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { allocatorSnapshotSchema, LocalAllocator } from './local-allocator';

const fileSchema = z.object({ version: z.literal(1) }).and(allocatorSnapshotSchema);

export class IpamStore {
  /** saves run one after another, in call order, so an older snapshot never lands after a newer one */
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The allocator as last saved; empty when there is no file yet. */
  load(): LocalAllocator {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new LocalAllocator();
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
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
      return LocalAllocator.fromSnapshot({ blocks: file.blocks, allocations: file.allocations });
    } catch (e) {
      throw this.damaged(errorMessage(e), e);
    }
  }

  /** Resolves once `allocator`'s current state is on disk (the snapshot is taken now). */
  save(allocator: LocalAllocator): Promise<void> {
    const text = JSON.stringify({ version: 1, ...allocator.snapshot() }, null, 1);
    const run = this.tail.then(() => this.write(text));
    this.tail = run.catch(() => undefined); // one failed save does not block the next
    return run;
  }

  private async write(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const f = await open(tmp, 'w', 0o600);
      try {
        await f.writeFile(text);
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
