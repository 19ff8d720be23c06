/**
 * The host routes to this host's routed endpoints (`<ip>/32 dev <hostIf> proto 81`) kept equal to
 * the endpoint records: a missing or wrong one is put back (`ip route replace`, with the host
 * end's sysctls: idempotent), one whose endpoint is gone is deleted. Run at agent start (before
 * netmaster answers: the records are the local truth) and at every reconcile, so a restarted agent
 * re-checks its endpoints without touching the routes that are right (no packet lost). The plan is
 * pure; `syncEndpointRoutes` reads the kernel and applies it.
 */
import type { CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { ENDPOINT_ROUTE_PROTO, plumbRoutedHost } from '../plumbing/routed-veth';

export interface EndpointRoute {
  ip: string;
  hostIf: string;
}

export interface RoutePlan {
  /** routes to (re)install, with their host end's settings */
  put: EndpointRoute[];
  /** proto 81 routes no endpoint owns any more */
  remove: EndpointRoute[];
}

/** What to change so that the kernel's proto-81 routes (`have`) are exactly `want` (pure; both sides sorted by ip). */
export function planEndpointRoutes(want: readonly EndpointRoute[], have: readonly EndpointRoute[]): RoutePlan {
  const held = new Map(have.map((r) => [r.ip, r.hostIf]));
  const wanted = new Map(want.map((r) => [r.ip, r.hostIf]));
  const byIp = (a: EndpointRoute, b: EndpointRoute) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  return {
    put: want.filter((r) => held.get(r.ip) !== r.hostIf).sort(byIp),
    // a wanted ip on another device is fixed by the replace
    remove: have.filter((r) => !wanted.has(r.ip)).sort(byIp),
  };
}

/** The kernel's proto-81 routes (`ip -j route show proto 81`), /32s only. */
export function parseEndpointRoutes(json: string): EndpointRoute[] {
  const rows = JSON.parse(json || '[]') as Array<{ dst?: string; dev?: string }>;
  const out: EndpointRoute[] = [];
  for (const r of rows) {
    if (!r.dst || !r.dev) continue;
    const [ip, len] = r.dst.split('/');
    if (len !== undefined && len !== '32') continue;
    out.push({ ip: ip!, hostIf: r.dev });
  }
  return out;
}

export async function readEndpointRoutes(runner: CommandRunner): Promise<EndpointRoute[]> {
  const r = await runner('ip', ['-j', 'route', 'show', 'proto', String(ENDPOINT_ROUTE_PROTO)], { allowFailure: true });
  return r.code === 0 ? parseEndpointRoutes(r.stdout) : [];
}

/**
 * Make the kernel's endpoint routes equal `want`. A route whose host end is gone cannot be put
 * back (its container died with the agent down): logged, left to the endpoint's DEL.
 */
export async function syncEndpointRoutes(want: readonly EndpointRoute[], runner: CommandRunner, logger?: Logger): Promise<RoutePlan> {
  const plan = planEndpointRoutes(want, await readEndpointRoutes(runner));
  for (const r of plan.remove) {
    await runner('ip', ['route', 'del', `${r.ip}/32`, 'dev', r.hostIf, 'proto', String(ENDPOINT_ROUTE_PROTO)], { allowFailure: true });
  }
  for (const r of plan.put) {
    try {
      await plumbRoutedHost(r, runner);
    } catch (e) {
      logger?.warn({ endpoint: r.ip, hostIf: r.hostIf, err: String(e) }, 'routed endpoint: its host route cannot be put back');
    }
  }
  if (plan.put.length + plan.remove.length > 0)
    logger?.info({ put: plan.put.map((r) => r.ip), removed: plan.remove.map((r) => r.ip) }, 'routed endpoints: host routes re-checked');
  return plan;
}
