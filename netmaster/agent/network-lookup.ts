/**
 * One network of the cluster as the agent API's `Network` message, for `LookupNetwork`: the CNM
 * front end asks for a network its host does not carry yet (`docker network create` on a host
 * with no endpoint in it). Found by tenant and name, or by tenant and subnet. Pure: the same
 * message the desired state carries (host-view.ts builds its networks with `networkMessage`).
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import type { Network as StoredNetwork } from '../model/schemas';
import type { Network__Output as Network } from '../../proto/gen/netloom/v1/Network';
import type { ClusterState, StoredIntent } from './cluster';
import { effectiveBlockPrefix } from '../service/block-prefix';
import { tagInUse } from '../model/network-tag';

export const VLAN_NETWORK_ID_BASE = 0x1000000;
/** Routed (`bgp`) networks' ids: 0x2000000|netmaster's id, apart from VNIs and VLANs. */
export const BGP_NETWORK_ID_BASE = 0x2000000;

/** A network's id in the pipeline: the VNI for VXLAN, 0x1000000|tag for VLAN, 0x2000000|id for bgp. */
export function networkIdOf(encap: string, pktTag: number): number {
  if (encap === 'bgp') return (BGP_NETWORK_ID_BASE | pktTag) >>> 0;
  return encap === 'vlan' ? (VLAN_NETWORK_ID_BASE | pktTag) >>> 0 : pktTag;
}

/**
 * The proto message of a stored network (key `tenant:network`) with its stored oper, which holds
 * the tag in use when it was allocated (model/network-tag.ts); `blockPrefix`: its effective one
 * (block-prefix.ts).
 */
export function networkMessage(key: string, stored: { config: StoredNetwork; oper?: Record<string, unknown> }, blockPrefix = 0): Network {
  const n = stored.config;
  const tag = tagInUse(n, stored.oper);
  return {
    key,
    tenant: n.tenantName,
    name: n.networkName,
    encap: n.encap,
    pktTag: tag,
    subnet: n.subnet,
    gateway: n.gateway ?? '',
    ipv6Subnet: n.ipv6Subnet ?? '',
    ipv6Gateway: n.ipv6Gateway ?? '',
    nwType: n.nwType ?? 'data',
    networkId: networkIdOf(n.encap, tag),
    gatewayMac: '',
    mtu: 0,
    nat: n.nat ?? true,
    blockPrefix,
  };
}

export interface NetworkQuery {
  /** '' means "default" (as CreateEndpoint) */
  tenant: string;
  /** the network's name; '' selects by subnet */
  network: string;
  /** IPv4 CIDR; with a name it must be the network's subnet */
  subnet: string;
}

/** A CIDR in one spelling (network address/prefix), or undefined when it is not an IPv4 CIDR. */
export function normalCidr(text: string): string | undefined {
  try {
    const [addr, len] = ipaddr.parseCIDR(text.trim());
    if (addr.kind() !== 'ipv4') return undefined;
    return `${ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`).toString()}/${len}`;
  } catch {
    return undefined;
  }
}

/** The stored global settings (their block prefix is the networks' default). */
export function globalOf(cluster: ClusterState): { blockPrefix?: number | undefined } | undefined {
  return cluster.objects.get('global')?.get('global')?.config as { blockPrefix?: number } | undefined;
}

function storedNetworks(cluster: ClusterState): Map<string, StoredIntent> {
  return cluster.objects.get('network') ?? new Map<string, StoredIntent>();
}

/**
 * The network `q` names, or a NetloomError: INVALID_ARGUMENT (neither name nor subnet, or a bad
 * subnet), NOT_FOUND (naming tenant and network or subnet), CONFLICT (the named network has
 * another subnet, or two networks of the tenant share the subnet).
 */
export function lookupNetwork(cluster: ClusterState, q: NetworkQuery): Network {
  const tenant = q.tenant || 'default';
  const wanted = q.subnet === '' ? undefined : normalCidr(q.subnet);
  if (q.subnet !== '' && wanted === undefined)
    throw new NetloomError('INVALID_ARGUMENT', `subnet '${q.subnet}' is not an IPv4 CIDR`, { field: 'subnet' });
  if (q.network === '' && wanted === undefined)
    throw new NetloomError('INVALID_ARGUMENT', 'give the network name or its subnet', { field: 'network' });
  const nets = storedNetworks(cluster);
  if (q.network !== '') {
    const key = `${tenant}:${q.network}`;
    const s = nets.get(key);
    const n = s?.config as StoredNetwork | undefined;
    if (!s || !n) throw new NetloomError('NOT_FOUND', `network '${q.network}' of tenant '${tenant}' does not exist`, { field: 'network' });
    if (wanted !== undefined && normalCidr(n.subnet) !== wanted) {
      throw new NetloomError('CONFLICT', `network '${q.network}' of tenant '${tenant}' has subnet ${n.subnet}, not ${q.subnet}`, {
        field: 'subnet',
      });
    }
    return networkMessage(key, { config: n, oper: s.oper }, effectiveBlockPrefix(n, globalOf(cluster)));
  }
  const matches: Array<[string, StoredIntent]> = [];
  for (const [key, s] of nets) {
    const n = s.config as StoredNetwork;
    if (n.tenantName === tenant && normalCidr(n.subnet) === wanted) matches.push([key, s]);
  }
  if (matches.length === 0)
    throw new NetloomError('NOT_FOUND', `tenant '${tenant}' has no network with subnet ${q.subnet}`, { field: 'subnet' });
  if (matches.length > 1) {
    const names = matches.map(([, s]) => (s.config as StoredNetwork).networkName).sort();
    throw new NetloomError('CONFLICT', `tenant '${tenant}' has several networks with subnet ${q.subnet} (${names.join(', ')}): name one`, {
      field: 'subnet',
    });
  }
  const [key, s] = matches[0]!;
  const n = s.config as StoredNetwork;
  return networkMessage(key, { config: n, oper: s.oper }, effectiveBlockPrefix(n, globalOf(cluster)));
}

/** Every network of the cluster as `Network` messages, sorted by key (ListNetworks). */
export function listNetworks(cluster: ClusterState): Network[] {
  return [...storedNetworks(cluster)]
    .map(([key, s]) => {
      const n = s.config as StoredNetwork;
      return networkMessage(key, { config: n, oper: s.oper }, effectiveBlockPrefix(n, globalOf(cluster)));
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
