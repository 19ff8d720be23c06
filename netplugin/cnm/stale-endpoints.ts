/**
 * Endpoints whose container went without Docker telling the plugin. A dockerd killed (or crashed)
 * leaves its containers running; started again without live restore (swarm mode refuses it), it
 * kills them and removes their sandboxes, but a swarm network's endpoints are not deleted through
 * the driver then (the network is not back on the node yet): the plugin never hears Leave,
 * DeleteEndpoint or ReleaseAddress, and the netloom endpoint and its address stay taken.
 *
 * The sign is the host end of the veth: it goes with the container's namespace. A joined endpoint
 * whose host end has been gone for a grace period (longer than Docker takes for its own Leave and
 * DeleteEndpoint after a container stops) is deleted and its address released here, as
 * DeleteEndpoint and ReleaseAddress would. A late call from Docker is harmless: Leave and
 * DeleteEndpoint of an unknown endpoint answer success, and ReleaseAddress leaves an address that
 * an endpoint holds again (ipam-driver.ts).
 */
import type { CnmBackend } from './backend';
import { bareAddress } from './addresses';
import { releaseAddress } from './ipam-driver';
import { deleteEndpoint } from './network-driver';
import { entry, type CnmState } from './state';

/** How long a joined endpoint's host end must stay gone before the plugin releases the endpoint. */
export const STALE_GRACE_MS = 60_000;
/** How often the agent looks (netplugin/cnm/index.ts). */
export const STALE_SWEEP_EVERY_MS = 20_000;

/**
 * One look at the joined endpoints: `goneSince` (endpoint id -> monotonic ms its host end was first
 * seen gone) is updated; endpoints gone for `graceMs` by `now` are released. Returns their ids.
 */
export async function releaseStaleEndpoints(
  state: CnmState,
  backend: CnmBackend,
  goneSince: Map<string, number>,
  now: number,
  graceMs: number,
): Promise<string[]> {
  const joined = Object.values(state.endpoints).filter((ep) => ep.joined?.hostIfName !== undefined);
  for (const id of [...goneSince.keys()]) if (!joined.some((ep) => ep.endpointId === id)) goneSince.delete(id);
  const released: string[] = [];
  if (joined.length === 0) return released;
  const present = await backend.existingHostEnds(joined.map((ep) => ep.joined?.hostIfName ?? ''));
  for (const ep of joined) {
    const hostIf = ep.joined?.hostIfName;
    if (hostIf === undefined || present.has(hostIf)) {
      goneSince.delete(ep.endpointId);
      continue;
    }
    const since = goneSince.get(ep.endpointId);
    if (since === undefined) goneSince.set(ep.endpointId, now);
    if (since === undefined || now - since < graceMs) continue;
    const net = entry(state.networks, ep.dockerNetworkId);
    await deleteEndpoint(state, backend, { NetworkID: ep.dockerNetworkId, EndpointID: ep.endpointId });
    const pool = net?.poolId !== undefined ? entry(state.pools, net.poolId) : undefined;
    const address = bareAddress(ep.address, 'address');
    if (pool?.addresses[address] === 'endpoint') await releaseAddress(state, backend, { PoolID: pool.poolId, Address: address });
    goneSince.delete(ep.endpointId);
    released.push(ep.endpointId);
  }
  return released;
}
