/**
 * One dataplane benchmark at a time: its labs, namespaces and private OVS instances have fixed
 * names, and a run starts by removing what an earlier (killed) run left, so a second run started
 * beside a live one would tear the first one's paths down under it. The lock file holds the
 * owner's PID; a lock whose owner is gone is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { NetloomError } from '../../lib/errors';
import { isAlive } from '../../lib/process';

export interface RunLockDeps {
  /** the PID written into the lock (default: this process) */
  pid?: number;
  /** whether a PID still runs (default: lib/process isAlive) */
  alive?: (pid: number) => boolean;
}

/** Takes the lock at `path` or throws CONFLICT naming the run that holds it; returns the release. */
export function takeRunLock(path: string, what: string, deps: RunLockDeps = {}): () => void {
  const pid = deps.pid ?? process.pid;
  const alive = deps.alive ?? isAlive;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return () => {
        if (ownerOf(path) === pid) rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = ownerOf(path);
      if (owner !== undefined && owner !== pid && alive(owner)) {
        throw new NetloomError('CONFLICT', `another ${what} is running (pid ${owner}): wait for it to end or stop it (lock ${path})`);
      }
      // its owner is gone (killed run) or it is unreadable: stale
      rmSync(path, { force: true });
    }
  }
  throw new NetloomError('CONFLICT', `could not take the lock ${path} for ${what}`);
}

function ownerOf(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
