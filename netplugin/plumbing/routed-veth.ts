/**
 * A routed endpoint's plumbing (BGP mode, issue 16), as Calico does it: a veth whose host end stays
 * in the host's namespace (not on OVS) and whose container end has the address as a /32 and
 * `default via 169.254.1.1 dev eth0 onlink`. The host answers the link-local gateway: the host end
 * has a fixed MAC (`ee:ee:ee:ee:ee:ee`, Calico's), the container holds a permanent neighbour entry
 * for 169.254.1.1 at that MAC (no ARP needed, so the first packet goes), and the host end has
 * `proxy_arp=1` (with `proxy_delay=0`) for a container that flushes its neighbours. The host routes
 * to the endpoint with `<ip>/32 dev <hostIf> proto 81 scope link` (81: netloom's endpoint routes;
 * 80 are the routes learned by BGP), and forwards (`forwarding=1` on the host end, `ip_forward=1`).
 *
 * Stage 1 (the veth) is the OVS endpoints' (`createVeth`/`plumbPair` in veth.ts); these are the
 * scripts of stage 2 on both sides and the removal. Pure scripts; commands go through a runner.
 */
import { NetloomError } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';
import { isV4 } from '../../lib/bgp/settings';

/** The gateway every routed container sends to (link-local: never a tenant's address). */
export const ROUTED_GATEWAY = '169.254.1.1';
/** The MAC of every routed endpoint's host end (Calico's): the container's gateway neighbour. */
export const ROUTED_HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/** The route protocol of the host routes to local routed endpoints (`ip route ... proto 81`). */
export const ENDPOINT_ROUTE_PROTO = 81;

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function need(ok: boolean, field: string, msg: string): void {
  if (!ok) throw new NetloomError('INVALID_ARGUMENT', msg, { field });
}

/** The container's side once the address is known. */
export interface RoutedContainer {
  ifName: string;
  ip: string;
  /** set when it differs from stage 1's */
  mac?: string;
  mtu?: number;
}

/** The `ip -b` script inside the container (pure): the /32, the gateway's neighbour entry, the default route. */
export function routedContainerScript(p: RoutedContainer): string {
  need(IFNAME_RE.test(p.ifName), 'ifName', `bad interface name ${JSON.stringify(p.ifName)}`);
  need(isV4(p.ip), 'ip', `bad IPv4 address ${JSON.stringify(p.ip)}`);
  if (p.mac !== undefined) need(MAC_RE.test(p.mac), 'mac', `bad MAC ${JSON.stringify(p.mac)}`);
  if (p.mtu !== undefined) need(Number.isInteger(p.mtu) && p.mtu >= 68 && p.mtu <= 65535, 'mtu', `bad MTU ${p.mtu}`);
  const lines: string[] = [];
  if (p.mac !== undefined || p.mtu !== undefined)
    lines.push(`link set ${p.ifName}${p.mac !== undefined ? ` address ${p.mac}` : ''}${p.mtu !== undefined ? ` mtu ${p.mtu}` : ''}`);
  lines.push(
    `addr add ${p.ip}/32 dev ${p.ifName}`,
    `neigh replace ${ROUTED_GATEWAY} lladdr ${ROUTED_HOST_MAC} dev ${p.ifName} nud permanent`,
    `route add default via ${ROUTED_GATEWAY} dev ${p.ifName} onlink`,
  );
  return lines.join('\n') + '\n';
}

/** The host's side: its end of the veth and the endpoint's address. */
export interface RoutedHostSide {
  hostIf: string;
  ip: string;
  mtu?: number;
}

/** The sysctls of a host end (pure): proxy ARP answered at once, forwarding on it and on the host. */
export function hostSysctls(hostIf: string): string[] {
  need(IFNAME_RE.test(hostIf), 'hostIf', `bad host interface name ${JSON.stringify(hostIf)}`);
  // sysctl names use '/' for a '.' inside an interface name
  const k = hostIf.replace(/\./g, '/');
  return [
    `net.ipv4.conf.${k}.proxy_arp=1`,
    `net.ipv4.neigh.${k}.proxy_delay=0`,
    `net.ipv4.conf.${k}.forwarding=1`,
    'net.ipv4.ip_forward=1',
  ];
}

/** The host route to a local routed endpoint (pure): the `ip route` arguments after `replace`/`del`. */
export function endpointRouteArgs(hostIf: string, ip: string): string[] {
  need(IFNAME_RE.test(hostIf), 'hostIf', `bad host interface name ${JSON.stringify(hostIf)}`);
  need(isV4(ip), 'ip', `bad IPv4 address ${JSON.stringify(ip)}`);
  return [`${ip}/32`, 'dev', hostIf, 'proto', String(ENDPOINT_ROUTE_PROTO), 'scope', 'link'];
}

/** The `ip -b` script of the host end (pure): its MAC (and MTU), up, the route to the endpoint. */
export function routedHostScript(p: RoutedHostSide): string {
  const route = endpointRouteArgs(p.hostIf, p.ip);
  if (p.mtu !== undefined) need(Number.isInteger(p.mtu) && p.mtu >= 68 && p.mtu <= 65535, 'mtu', `bad MTU ${p.mtu}`);
  return [
    `link set ${p.hostIf} address ${ROUTED_HOST_MAC}${p.mtu !== undefined ? ` mtu ${p.mtu}` : ''} up`,
    `route replace ${route.join(' ')}`,
    '',
  ].join('\n');
}

async function must(runner: CommandRunner, what: string, cmd: string, args: string[], input?: string): Promise<void> {
  const r = await runner(cmd, args, { allowFailure: true, timeoutMs: 10_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `${what}: ${r.stderr.trim()}`);
}

/** Host side: sysctls, then MAC, up and the route (idempotent: a restart may run it again). */
export async function plumbRoutedHost(p: RoutedHostSide, runner: CommandRunner = run): Promise<void> {
  const script = routedHostScript(p);
  await must(runner, `sysctls of ${p.hostIf}`, 'sysctl', ['-q', '-w', ...hostSysctls(p.hostIf)]);
  await must(runner, `routing ${p.ip} to ${p.hostIf}`, 'ip', ['-b', '-'], script);
}

/** Container side (one `ip -b` in its namespace). */
export async function configureRoutedContainer(p: RoutedContainer & { netnsPath: string }, runner: CommandRunner = run): Promise<void> {
  await must(
    runner,
    `configuring ${p.ifName} in ${p.netnsPath}`,
    'nsenter',
    [`--net=${p.netnsPath}`, 'ip', '-b', '-'],
    routedContainerScript(p),
  );
}

/** Remove the route and the veth (idempotent: both may be gone). */
export async function removeRoutedEndpoint(p: { hostIf: string; ip: string }, runner: CommandRunner = run): Promise<void> {
  if (isV4(p.ip)) await runner('ip', ['route', 'del', ...endpointRouteArgs(p.hostIf, p.ip)], { allowFailure: true });
  const r = await runner('ip', ['link', 'del', p.hostIf], { allowFailure: true });
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr))
    throw new NetloomError('COMMAND_FAILED', `deleting ${p.hostIf}: ${r.stderr.trim()}`);
}
