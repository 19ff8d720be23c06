/**
 * Where the CNM plugin's state lives: a small JSON file, written atomically (temporary file in the
 * same directory, fsync, rename, fsync of the directory) so that a crash leaves either the old or
 * the new state, never a torn one. `MemoryStateStore` is for tests and for agents that persist
 * the state themselves.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { NetloomError } from '../../lib/errors';
import { CnmState, emptyState, validateState } from './state';

export interface StateStore {
  load(): CnmState;
  save(state: CnmState): void;
}

export const DEFAULT_STATE_PATH = '/var/lib/netloom/cnm-state.json';

export class FileStateStore implements StateStore {
  constructor(readonly path: string) {}

  /** The saved state, or an empty one when no file exists yet. A corrupt file is an error, not a reset. */
  load(): CnmState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new NetloomError('UNAVAILABLE', `cannot read CNM state file ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    let data: unknown;
    try {
      data = JSON.parse(text) as unknown;
    } catch (e) {
      throw new NetloomError('DECODE_ERROR', `CNM state file ${this.path} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    return validateState(data, this.path);
  }

  save(state: CnmState): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

export class MemoryStateStore implements StateStore {
  private saved: string;
  saves = 0;
  constructor(initial: CnmState = emptyState()) {
    this.saved = JSON.stringify(initial);
  }
  load(): CnmState {
    return validateState(JSON.parse(this.saved), 'memory');
  }
  save(state: CnmState): void {
    this.saved = JSON.stringify(state);
    this.saves++;
  }
}
