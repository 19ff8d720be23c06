/**
 * The netmaster replicas an agent may use, from `--netmaster-grpc host:port[,host:port...]` (Contiv
 * style, like `--etcd URL,URL`), the one an agent starts on (its home: a stable hash of its host
 * name, so that agents spread over the replicas) and the next one after a failure (pure).
 */
import { NetloomError } from '../../lib/errors';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s,:[\]]+):(\d{1,5})$/;

/**
 * A list of host:port addresses, from one comma-separated string or an array of them (blanks
 * around commas ignored, duplicates dropped keeping the first). Throws INVALID_ARGUMENT naming
 * `field` for an empty list or a bad address.
 */
export function parseNetmasterAddresses(input: string | readonly string[], field = 'netmaster-grpc'): string[] {
  const parts = (typeof input === 'string' ? [input] : [...input]).flatMap((s) => s.split(',')).map((s) => s.trim());
  const out: string[] = [];
  for (const p of parts) {
    if (p === '') continue;
    const m = HOST_PORT.exec(p);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535)
      throw new NetloomError('INVALID_ARGUMENT', `--${field} must be host:port or a comma-separated list of them, got '${p}'`, { field });
    if (!out.includes(p)) out.push(p);
  }
  if (out.length === 0) throw new NetloomError('INVALID_ARGUMENT', `--${field} needs at least one host:port`, { field });
  return out;
}

/** The index to try after `index` failed (round-robin over `count` addresses). */
export function nextAddressIndex(index: number, count: number): number {
  return count <= 1 ? 0 : (index + 1) % count;
}

/**
 * The replica a host starts on and returns to: FNV-1a (32 bit) of its name's UTF-8 bytes, modulo
 * `count`. Stable across restarts and agents, so that a fleet spreads evenly over the replicas
 * without any coordination, and a host keeps going to the same one.
 */
export function homeReplicaIndex(host: string, count: number): number {
  if (count <= 1) return 0;
  let h = 0x811c9dc5;
  for (const b of Buffer.from(host, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}
