/**
 * Endpoint MTU: what the plumbing sets on a container's interface so that its packets fit the
 * underlay once encapsulated. VXLAN over IPv4 adds 50 bytes (outer Ethernet 14, IPv4 20, UDP 8,
 * VXLAN 8), so 1450 on a 1500 underlay; a VLAN tag is carried by the uplink itself (1500). A
 * network's configured MTU (non-zero) can only lower it.
 */
import { NetloomError } from '../../lib/errors';
import type { Network } from '../state/host-state';

export const VXLAN_OVERHEAD = 50;
export const DEFAULT_UNDERLAY_MTU = 1500;
/** the IPv4 minimum */
export const MIN_MTU = 576;

export function endpointMtu(net: Pick<Network, 'encap' | 'mtu' | 'key'>, underlayMtu = DEFAULT_UNDERLAY_MTU): number {
  const max = net.encap === 'vxlan' ? underlayMtu - VXLAN_OVERHEAD : underlayMtu;
  const mtu = net.mtu > 0 ? Math.min(net.mtu, max) : max;
  if (mtu < MIN_MTU)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `network ${net.key}: endpoint MTU ${mtu} is below ${MIN_MTU} (underlay MTU ${underlayMtu})`,
      { field: 'mtu' },
    );
  return mtu;
}
