/**
 * What this host's BGP speaker should run, from the desired state (pure): the global settings and
 * peers of HostState.bgp, and the paths it announces. One path per address block of a routed
 * network that lives on this host (HostState.blocks), plus a /32 for a local endpoint of a routed
 * network whose address is outside this host's blocks of that network (a static --ip, an address
 * netmaster gave when no block could). The next hop is the address of the host's routed uplink
 * (the kernel interface routed traffic arrives on, netplugin --routed-uplink) when it has one, else
 * the router IP of its Bgp object, else its VTEP (data network) address; the router id is the Bgp
 * object's router IP, else the same address. No BGP settings: undefined (no speaker runs).
 */
import ipaddr from 'ipaddr.js';
import { DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE_TIME, isRoutedNetwork } from '../../lib/bgp/settings';
import { NetloomError } from '../../lib/errors';
import type { BgpConfig, HostState } from '../state/host-state';
import type { AnnouncedPath, SpeakerConfigInput } from './speaker-config';

export interface SpeakerFacts {
  hostName: string;
  /** this host's VTEP (data network) address, the next hop when neither a routed uplink nor the Bgp object names one */
  vtepIp: string;
  /** the address of the routed uplink (netplugin --routed-uplink): the next hop of every path */
  routedIp?: string;
  /** BGP's TCP port (default 179; -1: no listener, outbound sessions only) */
  listenPort?: number;
}

/** The address this host uses as router id: the Bgp object's router IP, else the routed uplink's, else the VTEP address. */
export function speakerAddress(bgp: BgpConfig, vtepIp: string, routedIp = ''): string {
  const ip = bgp.routerIp !== '' ? (bgp.routerIp.split('/')[0] ?? '') : routedIp || vtepIp;
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip))
    throw new NetloomError(
      'INVALID_ARGUMENT',
      'BGP needs an IPv4 router IP (Bgp object routerip), a routed uplink address (--routed-uplink) or a VTEP address (--vtep-ip)',
      { field: bgp.routerIp !== '' ? 'routerIp' : 'vtep-ip' },
    );
  return ip;
}

/** The networks (tenant:network keys) of the state that are routed. */
export function routedNetworks(state: HostState): Set<string> {
  const configured = state.bgp !== undefined;
  return new Set(state.networks.filter((n) => isRoutedNetwork(n.encap, state.global.fwdMode, configured)).map((n) => n.key));
}

function inAny(ip: string, cidrs: readonly string[]): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return false;
  const a = ipaddr.IPv4.parse(ip);
  return cidrs.some((c) => a.match(ipaddr.IPv4.parseCIDR(c)));
}

/** The prefixes this host announces (sorted by prefix; one entry per prefix). */
export function desiredPaths(state: HostState, hostName: string, nextHop: string): AnnouncedPath[] {
  const routed = routedNetworks(state);
  const own = new Map<string, string[]>();
  for (const b of state.blocks ?? []) {
    if (b.host !== hostName || !routed.has(b.network)) continue;
    own.set(b.network, [...(own.get(b.network) ?? []), b.cidr]);
  }
  const prefixes = new Set<string>([...own.values()].flat());
  for (const e of state.endpoints) {
    if (e.host !== hostName || e.external || !routed.has(e.network) || e.ip === '') continue;
    const ip = e.ip.split('/')[0] ?? '';
    if (!inAny(ip, own.get(e.network) ?? [])) prefixes.add(`${ip}/32`);
  }
  return [...prefixes].sort().map((prefix) => ({ prefix, nextHop }));
}

/** The whole speaker configuration for this host, or undefined when it has no BGP settings. */
export function desiredSpeaker(state: HostState, facts: SpeakerFacts): SpeakerConfigInput | undefined {
  const bgp = state.bgp;
  if (!bgp || bgp.as === 0) return undefined;
  const address = speakerAddress(bgp, facts.vtepIp, facts.routedIp);
  // routed traffic arrives on the routed uplink whatever the router id says (docs/bgp.md)
  const nextHop = facts.routedIp || address;
  const hold = bgp.holdTime || DEFAULT_HOLD_TIME;
  const keepalive = bgp.keepaliveTime || (bgp.holdTime ? Math.floor(hold / 3) : DEFAULT_KEEPALIVE_TIME);
  const neighbors =
    bgp.neighbors && bgp.neighbors.length > 0 ? bgp.neighbors : bgp.neighbor !== '' ? [{ address: bgp.neighbor, as: bgp.neighborAs }] : [];
  const seen = new Set<string>();
  const peers = neighbors
    .filter((n) => !seen.has(n.address) && seen.add(n.address))
    .map((n) => ({ address: n.address, peerAsn: n.as, holdTimeS: hold, keepaliveS: keepalive, connectRetryS: 1 }));
  return {
    global: { asn: bgp.as, routerId: address, listenPort: facts.listenPort ?? 179 },
    peers,
    paths: desiredPaths(state, facts.hostName, nextHop),
  };
}
