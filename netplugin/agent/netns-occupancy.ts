/**
 * Which container network namespaces no process is in any more. Every runtime keeps a process in
 * a live container's namespace (its init, a pause or infra process); a namespace with none is a
 * container that is gone. podman, for one, removes a container whose CNI DEL failed (the agent
 * was down) and leaves its namespace mounted, with the veth still in it: the endpoint looks
 * plugged in, and only this tells it is dead. Found by the namespace's inode: `/proc/PID/ns/net`
 * reads `net:[INODE]`, a namespace file (its bind mount) stats with that inode.
 */
import { readdir, readlink, stat } from 'node:fs/promises';

/** The inodes of the network namespaces processes are in (one pass over `procDir`). */
async function occupiedInodes(procDir: string): Promise<Set<number>> {
  const inodes = new Set<number>();
  const pids = (await readdir(procDir)).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const m = /^net:\[(\d+)\]$/.exec(await readlink(`${procDir}/${pid}/ns/net`));
        if (m) inodes.add(Number(m[1]));
      } catch {
        // the process ended meanwhile, or is a kernel thread without namespaces to read
      }
    }),
  );
  return inodes;
}

/** Of `paths`, those whose namespace is gone or holds no process. */
export async function unoccupiedNetns(paths: readonly string[], procDir = '/proc'): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const occupied = await occupiedInodes(procDir);
  const out = new Set<string>();
  for (const p of paths) {
    try {
      if (!occupied.has((await stat(p)).ino)) out.add(p);
    } catch {
      out.add(p); // no such namespace any more
    }
  }
  return out;
}
