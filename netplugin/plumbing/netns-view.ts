/**
 * What a container's network namespace holds for one interface, read for CNI CHECK: the link (MAC,
 * MTU, administratively up), its addresses and the namespace's main routing tables (IPv4 and
 * IPv6). Three `ip -j` reads at once through the agent's command runner.
 */
import { existsSync } from 'node:fs';
import { NetloomError } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';

export interface NetnsRoute {
  /** CIDR, normalized: `default` is 0.0.0.0/0 or ::/0, a host route has /32 or /128 */
  dst: string;
  gw?: string;
  dev?: string;
}

export interface NetnsLink {
  mac: string;
  mtu: number;
  /** administratively up (flag UP) */
  up: boolean;
  /** `ip/prefix` */
  addresses: string[];
}

export interface NetnsView {
  /** undefined when the namespace has no such interface */
  link?: NetnsLink;
  routes: NetnsRoute[];
}

interface IpAddrJson {
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: Array<{ local: string; prefixlen: number }>;
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** A route's `dst` as `ip -j` prints it, as a CIDR (pure). */
export function normalizeRouteDst(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  return dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

/** Parse the three `ip -j` outputs (pure); `addr` '' when the interface is missing. */
export function parseNetnsView(addr: string, routes4: string, routes6: string): NetnsView {
  const links = addr.trim() === '' ? [] : (JSON.parse(addr) as IpAddrJson[]);
  const l = links[0];
  const routes = (text: string, family: 4 | 6): NetnsRoute[] =>
    (text.trim() === '' ? [] : (JSON.parse(text) as IpRouteJson[])).map((r) => ({
      dst: normalizeRouteDst(r.dst, family),
      ...(r.gateway ? { gw: r.gateway } : {}),
      ...(r.dev ? { dev: r.dev } : {}),
    }));
  return {
    ...(l
      ? {
          link: {
            mac: (l.address ?? '').toLowerCase(),
            mtu: l.mtu ?? 0,
            up: (l.flags ?? []).includes('UP'),
            addresses: (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
          },
        }
      : {}),
    routes: [...routes(routes4, 4), ...routes(routes6, 6)],
  };
}

/** Read `ifName` and the routes inside `netnsPath`; NOT_FOUND (field netns) when the namespace is gone. */
export async function readNetnsView(netnsPath: string, ifName: string, runner: CommandRunner = run): Promise<NetnsView> {
  if (!existsSync(netnsPath)) throw new NetloomError('NOT_FOUND', `network namespace ${netnsPath} does not exist`, { field: 'netns' });
  const ip = (args: string[]) => runner('nsenter', [`--net=${netnsPath}`, 'ip', '-j', ...args], { allowFailure: true, timeoutMs: 10_000 });
  const [addr, r4, r6] = await Promise.all([ip(['addr', 'show', 'dev', ifName]), ip(['-4', 'route', 'show']), ip(['-6', 'route', 'show'])]);
  for (const r of [r4, r6])
    if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `reading the routes in ${netnsPath}: ${r.stderr.trim()}`);
  // a missing device is the one failure of `addr show dev` that is an answer
  if (addr.code !== 0 && !/does not exist|Cannot find device/.test(addr.stderr))
    throw new NetloomError('COMMAND_FAILED', `reading ${ifName} in ${netnsPath}: ${addr.stderr.trim()}`);
  return parseNetnsView(addr.code === 0 ? addr.stdout : '', r4.stdout, r6.stdout);
}
