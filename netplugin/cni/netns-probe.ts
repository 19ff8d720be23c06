/**
 * What CNI_NETNS names, found out without blocking: a network namespace file (a bind mount of one,
 * or /proc/PID/ns/net) is on nsfs. Anything else is refused here with the spec's code, before a
 * backend hands the path to nsenter: a FIFO would block its open (it waited for its 10 s timeout),
 * a plain file fails setns (an "internal" 999 before). Only a file on nsfs is ever opened, and
 * opening one never blocks.
 */
import { constants } from 'node:fs';
import { open, readlink, stat, statfs } from 'node:fs/promises';
import { CniError, CNI_CODE } from './errors';

/** statfs f_type of nsfs (linux/magic.h NSFS_MAGIC) */
const NSFS_MAGIC = 0x6e736673;

/** Checks that `path` is a network namespace; throws a CniError (3, 4 or 5) if it is not. */
export type NetnsProbe = (path: string) => Promise<void>;

function notNetns(path: string, what: string): CniError {
  return new CniError(CNI_CODE.INVALID_ENV, `invalid environment variable CNI_NETNS: ${path} is ${what}, not a network namespace`);
}

function kindOf(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export const probeNetns: NetnsProbe = async (path) => {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 'ENOENT' || errno === 'ENOTDIR')
      throw new CniError(CNI_CODE.UNKNOWN_CONTAINER, `network namespace ${path} does not exist`, 'CNI_NETNS');
    if (errno === 'ENAMETOOLONG' || errno === 'ELOOP') throw notNetns(path, `unusable (${errno})`);
    throw new CniError(CNI_CODE.IO_FAILURE, `could not examine CNI_NETNS ${path}`, e instanceof Error ? e.message : String(e));
  }
  if (!st.isFile()) throw notNetns(path, kindOf(st));
  const fs = await statfs(path);
  if (fs.type !== NSFS_MAGIC) throw notNetns(path, 'a file');
  // /proc/PID/ns/* opened say which namespace they are; a bind mount says its own path
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const target = await readlink(`/proc/self/fd/${fh.fd}`);
    const m = /^([a-z_]+):\[\d+\]$/.exec(target);
    if (m && m[1] !== 'net') throw notNetns(path, `a ${m[1]} namespace`);
  } finally {
    await fh.close();
  }
};
