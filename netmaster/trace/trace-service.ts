/**
 * `netctl trace`'s work in netmaster: resolve the two endpoints in the tenant, ask the source
 * host's agent to trace the packet from the source endpoint's port, and when the packet leaves
 * that host (VXLAN tunnel or VLAN uplink) ask the destination host's agent to trace it as it
 * arrives there (on the VXLAN port with the VNI and outer addresses the source host set, or on
 * the uplink with its tag; MACs and TTL as the source host left them). Endpoints on one host take
 * one trace. An external endpoint (no host) takes part on one side: to it, the source host's
 * trace (delivered when it leaves by the uplink); from it (same network), the destination host's
 * trace of the packet arriving tagged on the uplink. The hosts' results are combined by combine.ts.
 */
import { NetloomError, isNetloomError } from '../../lib/errors';
import type { TraceRequest } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { Endpoint } from '../model/schemas';
import { combineTrace, UPLINK_DELIVERY, type TraceAnswer } from './combine';
import { parseTraceQuery } from './trace-request';

export interface TraceDeps {
  listEndpoints(): Promise<Endpoint[]>;
  /** throws NOT_FOUND when the tenant does not exist */
  getTenant(name: string): Promise<unknown>;
  traceOnAgent(host: string, trace: TraceRequest): Promise<TraceResult__Output>;
  /** the VLAN (pktTag) of a network (tenant:network), for packets of an external endpoint */
  networkTag(netKey: string): Promise<number>;
}

export interface TracedEndpoint {
  endpoint: string;
  name: string;
  ip: string;
  mac: string;
  network: string;
  host: string;
}

export interface TraceResponse extends TraceAnswer {
  tenant: string;
  protocol: string;
  port?: number;
  from: TracedEndpoint;
  to: TracedEndpoint;
}

/** The endpoint of the tenant that `ref` names: its id, container name or id, or its IP address. */
export function resolveEndpoint(all: readonly Endpoint[], tenant: string, ref: string, field: string): Endpoint {
  const inTenant = all.filter((e) => e.tenantName === tenant);
  const found = inTenant.filter((e) => e.endpointID === ref);
  if (found.length === 0) found.push(...inTenant.filter((e) => e.containerName === ref || e.containerID === ref || e.ipAddress === ref));
  if (found.length === 0)
    throw new NetloomError('NOT_FOUND', `${field}: no endpoint '${ref}' in tenant ${tenant} (give an endpoint id, container name or IP)`, {
      field,
    });
  if (found.length > 1)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `${field}: '${ref}' names ${found.length} endpoints in tenant ${tenant} (${found.map((e) => e.endpointID).join(', ')}): give the endpoint id`,
      { field },
    );
  const ep = found[0]!;
  // an external endpoint (bare metal, a VM) is on no host: the trace runs on its peer's host only
  if (!ep.homingHost && !ep.external) throw new NetloomError('UNAVAILABLE', `${field}: endpoint ${ep.endpointID} is on no host`, { field });
  if (!ep.ipAddress) throw new NetloomError('INVALID_ARGUMENT', `${field}: endpoint ${ep.endpointID} has no IPv4 address`, { field });
  return ep;
}

function traced(e: Endpoint): TracedEndpoint {
  return { endpoint: e.endpointID, name: e.containerName, ip: e.ipAddress, mac: e.macAddress, network: e.network, host: e.homingHost };
}

export async function runTrace(deps: TraceDeps, body: unknown): Promise<TraceResponse> {
  const q = parseTraceQuery(body);
  try {
    await deps.getTenant(q.tenant);
  } catch (e) {
    if (isNetloomError(e, 'NOT_FOUND')) throw new NetloomError('NOT_FOUND', `tenant ${q.tenant} does not exist`, { field: 'tenant' });
    throw e;
  }
  const all = await deps.listEndpoints();
  const src = resolveEndpoint(all, q.tenant, q.from, 'from');
  const dst = resolveEndpoint(all, q.tenant, q.to, 'to');
  const packet: TraceRequest = {
    protocol: q.protocol,
    srcIp: src.ipAddress,
    dstIp: dst.ipAddress,
    srcMac: src.macAddress,
    dstMac: dst.macAddress,
    srcNetwork: src.network,
    dstNetwork: dst.network,
    srcPort: q.srcPort ?? 0,
    dstPort: q.port ?? 0,
  };
  const results: TraceResult__Output[] = [];
  if (src.external) {
    // from the VLAN: the packet arrives tagged on the destination host's uplink
    if (dst.external)
      throw new NetloomError('INVALID_ARGUMENT', 'to: both endpoints are external: no netloom host sees the packet', { field: 'to' });
    if (dst.network !== src.network)
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `from: an external endpoint's packet to another network goes to the gateway on whichever host the VLAN learnt its MAC: trace it the other way (from ${q.to})`,
        { field: 'from' },
      );
    const vlan = await deps.networkTag(src.network);
    results.push(await deps.traceOnAgent(dst.homingHost, { ...packet, arrival: 'uplink', vlan }));
    return {
      tenant: q.tenant,
      protocol: q.protocol,
      ...(q.port !== undefined ? { port: q.port } : {}),
      from: traced(src),
      to: traced(dst),
      ...combineTrace(results, dst.endpointID, q.raw),
    };
  }
  const first = await deps.traceOnAgent(src.homingHost, { ...packet, arrival: 'endpoint', srcEndpoint: src.endpointID });
  results.push(first);
  // to an external endpoint: the source host's trace alone (delivered: out of the uplink)
  if (dst.homingHost !== src.homingHost && !first.dropped && !dst.external) {
    // the packet as it left the source host, arriving at the destination host
    const leaving = { ...packet, srcMac: first.dlSrc || packet.srcMac, dstMac: first.dlDst || packet.dstMac, ttl: first.ttl };
    const tunnel = first.outputs.find((o) => o.kind === 'tunnel');
    const uplink = first.outputs.find((o) => o.kind === 'uplink');
    if (tunnel)
      results.push(
        await deps.traceOnAgent(dst.homingHost, {
          ...leaving,
          arrival: 'tunnel',
          tunId: tunnel.tunId,
          tunSrc: first.tunSrc,
          tunDst: tunnel.tunDst,
        }),
      );
    else if (uplink) results.push(await deps.traceOnAgent(dst.homingHost, { ...leaving, arrival: 'uplink', vlan: uplink.vlan }));
  }
  return {
    tenant: q.tenant,
    protocol: q.protocol,
    ...(q.port !== undefined ? { port: q.port } : {}),
    from: traced(src),
    to: traced(dst),
    ...combineTrace(results, dst.external ? UPLINK_DELIVERY : dst.endpointID, q.raw),
  };
}
