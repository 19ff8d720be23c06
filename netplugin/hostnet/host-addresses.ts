/**
 * The host's own IPv4 addresses with their prefixes, from `ip -j -4 addr show` (the parser is
 * pure): loopback and netloom's gateway ports are left out. desired-state.ts keeps host-access
 * routes off subnets the host is itself connected to.
 */
import { NetloomError } from '../../lib/errors';
import type { CommandRunner } from '../../lib/exec';
import { GATEWAY_PORT_PREFIX } from './numbering';

export function parseHostAddresses(text: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (e) {
    throw new NetloomError('INTERNAL', `ip -j addr show: output is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) return [];
  const out: string[] = [];
  for (const link of raw as Array<{ ifname?: unknown; addr_info?: unknown }>) {
    const name = typeof link.ifname === 'string' ? link.ifname : '';
    if (name === 'lo' || name.startsWith(GATEWAY_PORT_PREFIX) || !Array.isArray(link.addr_info)) continue;
    for (const a of link.addr_info as Array<{ family?: unknown; local?: unknown; prefixlen?: unknown }>) {
      if (a.family === 'inet' && typeof a.local === 'string' && typeof a.prefixlen === 'number') out.push(`${a.local}/${a.prefixlen}`);
    }
  }
  return [...new Set(out)].sort();
}

export async function readHostAddresses(runner: CommandRunner): Promise<string[]> {
  return parseHostAddresses((await runner('ip', ['-j', '-4', 'addr', 'show'])).stdout);
}
