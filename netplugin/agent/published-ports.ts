/**
 * The ports this host publishes, as the host network's renderer (netplugin/hostnet) takes them:
 * one PortMapping (hostnet/port-mapping.ts) per published port of a local endpoint, from the
 * endpoint records (CNI portMappings and Docker -p alike). Only endpoints that are plugged in now
 * (an OVS port), that the desired state lists and whose ports are not withheld are published: a
 * record left behind by a container removed while the agent was down has no port after a restart
 * (Docker: its namespace and veth are gone) or is withheld (podman: its namespace is left with no
 * process in it), so no rule points at it. Also the claims check: no two endpoints of a host may
 * publish the same host socket, counting ADDs in flight.
 */
import { NetloomError } from '../../lib/errors';
import { describePort, findClash, type PublishedPort } from '../state/published-port';
import type { HostState, LocalPort } from '../state/host-state';
import { comparePortMappings, type PortMapping } from '../hostnet/port-mapping';
import type { EndpointRecord } from './endpoint-store';

/** Whether a record's ports count: it publishes some, is plugged in, and is not withheld (see Agent.start). */
function publishing(rec: EndpointRecord, ports: Readonly<Record<string, LocalPort>>, withheld: ReadonlySet<string>): boolean {
  return (rec.portMappings?.length ?? 0) > 0 && ports[rec.endpointId] !== undefined && !withheld.has(rec.idempotencyKey);
}

/**
 * The published ports of the endpoints that are live on this host (pure; sorted, so equal inputs
 * give equal lists). `withheld`: idempotency keys of records whose ports are not published.
 */
export function portMappingsOf(
  records: readonly EndpointRecord[],
  ports: Readonly<Record<string, LocalPort>>,
  state: HostState | undefined,
  withheld: ReadonlySet<string> = new Set(),
): PortMapping[] {
  if (!state) return [];
  const listed = new Set(state.endpoints.map((e) => e.id));
  const out: PortMapping[] = [];
  for (const rec of records) {
    if (!publishing(rec, ports, withheld) || !listed.has(rec.endpointId)) continue;
    const tenant = state.networks.find((n) => n.key === rec.networkKey)?.tenant;
    const vrfId = state.tenants.find((t) => t.name === tenant)?.vrfId;
    if (vrfId === undefined) continue;
    for (const p of rec.portMappings ?? []) out.push({ endpointId: rec.endpointId, tenantVrfId: vrfId, endpointIp: rec.ip, ...p });
  }
  return out.sort(comparePortMappings);
}

/** Who holds a host socket: an endpoint record (live) or an attachment being added. */
export interface PortClaim {
  /** the record's or the attachment's idempotency key */
  key: string;
  /** how an error names the holder */
  who: string;
  ports: readonly PublishedPort[];
}

/** The claims of the live records (plugged in now, not withheld) plus those in flight (pure). */
export function currentClaims(
  records: readonly EndpointRecord[],
  ports: Readonly<Record<string, LocalPort>>,
  inFlight: ReadonlyMap<string, readonly PublishedPort[]>,
  withheld: ReadonlySet<string> = new Set(),
): PortClaim[] {
  const claims: PortClaim[] = [];
  for (const rec of records) {
    if (publishing(rec, ports, withheld) && rec.portMappings) {
      const who = `endpoint ${rec.endpointId} (${rec.kind === 'cni' ? `container ${rec.containerId}` : `Docker endpoint ${rec.containerId.slice(0, 12)}`})`;
      claims.push({ key: rec.idempotencyKey, who, ports: rec.portMappings });
    }
  }
  for (const [key, ps] of inFlight) claims.push({ key, who: `attachment ${key} (being added)`, ports: ps });
  return claims;
}

/**
 * Throw CONFLICT when one of `ports` wants a host socket that another claim (not `key`'s own) has
 * or that an earlier port of the list has; `field(i)` names port i the way the front end calls it.
 */
export function checkClaim(key: string, ports: readonly PublishedPort[], claims: readonly PortClaim[], field: (i: number) => string): void {
  const others = claims.filter((c) => c.key !== key).map((c) => ({ owner: c.who, ports: c.ports }));
  const clash = findClash(ports, others, (i) => `${field(i)} of the same request`);
  if (!clash) return;
  const mine = ports[clash.index] ?? clash.theirs;
  throw new NetloomError(
    'CONFLICT',
    `${field(clash.index)}: host port ${describePort(mine)} is already published on this host by ${clash.owner} (${describePort(clash.theirs)})`,
    { field: field(clash.index) },
  );
}
