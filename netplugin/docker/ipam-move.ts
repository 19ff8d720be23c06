/**
 * The short form `docker network create -d netloom -o tenant=T -o network=N NAME`: Docker (20.10,
 * Linux) gives every network created without --ipam-driver its built-in IPAM (libnetwork's
 * `defaultIpamForNetworkType` is always "default" there, and no driver capability changes it), so
 * the addresses would be Docker's, not netloom's. The agent therefore remakes such a network, as
 * soon as dockerd has stored it, under the same name with netloom's IPAM following the driver's
 * binding: same driver options, labels, internal/attachable flags; the netloom network's subnet
 * and gateway. Until then the network refuses endpoints with a message saying to run again.
 */
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import type { NetworkBinding } from '../cnm/options';
import type { Network } from '../state/host-state';
import type { DockerEngineClient, DockerNetwork, DockerNetworkCreate } from './engine-client';
import { DRIVER } from './docker-networks';

/** Set on the remade network: the id of the one it replaced. */
export const MOVED_FROM_LABEL = 'io.netloom.moved-from';

export type IpamMoveApi = Pick<DockerEngineClient, 'inspectNetwork' | 'removeNetwork' | 'createNetwork'>;

/** The create request that remakes `old` with netloom's IPAM for `binding` in `net` (pure). */
export function remadeNetwork(old: DockerNetwork, binding: NetworkBinding, net: Pick<Network, 'subnet' | 'gateway'>): DockerNetworkCreate {
  const ipamOptions = { tenant: binding.tenant, network: binding.network };
  return {
    Name: old.Name,
    Driver: DRIVER,
    CheckDuplicate: true,
    Options: { ...(old.Options ?? {}) },
    IPAM: { Driver: DRIVER, Options: ipamOptions, Config: [{ Subnet: net.subnet, ...(net.gateway ? { Gateway: net.gateway } : {}) }] },
    Labels: { ...(old.Labels ?? {}), [MOVED_FROM_LABEL]: old.Id },
    ...(old.Internal ? { Internal: true } : {}),
    ...(old.Attachable ? { Attachable: true } : {}),
  };
}

/**
 * Remake Docker network `dockerNetworkId` with netloom's IPAM; returns the new id. Waits (up to
 * `timeoutMs`) for dockerd to store the network it is still creating, since this starts while
 * dockerd waits for the plugin's CreateNetwork reply.
 */
export async function moveToNetloomIpam(
  docker: IpamMoveApi,
  dockerNetworkId: string,
  binding: NetworkBinding,
  net: Pick<Network, 'subnet' | 'gateway'>,
  timeoutMs = 10_000,
): Promise<string> {
  if (net.subnet === '')
    throw new NetloomError('INVALID_ARGUMENT', `network ${binding.tenant}:${binding.network} has no IPv4 subnet`, { field: 'subnet' });
  const old = await waitFor(
    `dockerd to store network ${dockerNetworkId.slice(0, 12)}`,
    async () => {
      try {
        return await docker.inspectNetwork(dockerNetworkId);
      } catch (e) {
        if (e instanceof NetloomError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
    },
    { timeoutMs, intervalMs: 50 },
  );
  const spec = remadeNetwork(old, binding, net);
  await docker.removeNetwork(old.Id);
  return docker.createNetwork(spec);
}
