/**
 * Which networks of a host's desired state are routed (BGP mode, issue 16), and the part of the
 * state the OVS pipeline is computed from (everything else). Routed networks are served by the
 * kernel (veth + host route + proxy ARP, nftables policy, tc QoS: netplugin/routed/); they get no
 * OVS flow, meter, group or gateway port, so the pipeline never sees them, their groups, their
 * endpoints or their services. Pure.
 *
 * A network is routed when its encap is `bgp`, or in Contiv's form (lib/bgp/settings.ts
 * isRoutedNetwork): a VLAN network while fwdMode is `routing` and BGP is configured. The agent
 * knows only its own effective BGP settings (HostState.bgp), so "configured" means "this host has
 * BGP settings"; netmaster sends them to every host once a default exists (docs/bgp.md).
 */
import { isRoutedNetwork } from '../../lib/bgp/settings';
import type { HostState, Network } from '../state/host-state';

/** Whether `net` of `state` is routed. */
export function isRouted(state: Pick<HostState, 'global' | 'bgp'>, net: Pick<Network, 'encap'>): boolean {
  return isRoutedNetwork(net.encap, state.global.fwdMode, state.bgp !== undefined);
}

/** The keys (tenant:network) of the routed networks of `state`. */
export function routedNetworkKeys(state: HostState): ReadonlySet<string> {
  return new Set(state.networks.filter((n) => isRouted(state, n)).map((n) => n.key));
}

const ovsParts = new WeakMap<HostState, HostState>();

/** A group names its network bare or as tenant:network. */
const groupNetKey = (g: { tenant: string; network: string }): string => (g.network.includes(':') ? g.network : `${g.tenant}:${g.network}`);

/**
 * `state` without its routed networks and what lives in them (groups, endpoints, services): what
 * the OVS pipeline is computed from. The same object when nothing is routed; memoised per state
 * (the pipeline's view is memoised per input object, so the same state must give the same part).
 */
export function ovsState(state: HostState): HostState {
  const known = ovsParts.get(state);
  if (known) return known;
  const routed = routedNetworkKeys(state);
  let out = state;
  if (routed.size > 0) {
    const groups = state.groups.filter((g) => !routed.has(groupNetKey(g)));
    const routedGroups = new Set(state.groups.filter((g) => routed.has(groupNetKey(g))).map((g) => g.key));
    const networks = state.networks.filter((n) => !routed.has(n.key));
    // a tenant whose networks here are all routed (or another tenant's routed subnet, carried for
    // the tenant guard) has nothing in OVS
    const tenants = new Set(networks.map((n) => n.tenant));
    out = {
      ...state,
      tenants: state.tenants.filter((t) => tenants.has(t.name)),
      networks,
      groups,
      endpoints: state.endpoints.filter((e) => !routed.has(e.network) && !routedGroups.has(e.group)),
      services: state.services.filter((s) => !routed.has(s.network.includes(':') ? s.network : `${s.tenant}:${s.network}`)),
    };
    if (state.blocks) out.blocks = state.blocks.filter((b) => !routed.has(b.network));
  }
  ovsParts.set(state, out);
  return out;
}
