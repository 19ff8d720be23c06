/**
 * What to ask gobgpd so that it runs the desired speaker configuration (pure): restart BGP when
 * the global settings differ, delete and re-add peers whose settings differ, add missing peers
 * and paths, withdraw paths no longer announced. A prefix whose next hop changes is only added:
 * GoBGP replaces our own path for the same prefix in place (an implicit withdraw), while a
 * DeletePath would match the prefix and withdraw the new path too.
 */
import type { PeerStatus } from './gobgp-client';
import type { RibDestination } from './gobgp-client';
import type { AnnouncedPath, BgpGlobal, BgpPeer, SpeakerConfig } from './speaker-config';

export interface SpeakerActual {
  /** undefined: BGP not started */
  global: BgpGlobal | undefined;
  peers: readonly PeerStatus[];
  /** our own (locally added) paths */
  paths: readonly AnnouncedPath[];
}

export interface SpeakerPlan {
  /** StopBgp first (the running global settings differ) */
  stop: boolean;
  /** StartBgp with the desired global settings */
  start: boolean;
  deletePeers: string[];
  addPeers: BgpPeer[];
  deletePaths: AnnouncedPath[];
  addPaths: AnnouncedPath[];
}

/** Our own paths in a ListPath reply. */
export function localPaths(rib: readonly RibDestination[]): AnnouncedPath[] {
  return rib.flatMap((d) => d.paths.filter((p) => p.local && !p.withdrawn).map((p) => ({ prefix: p.prefix, nextHop: p.nextHop })));
}

function sameGlobal(want: BgpGlobal, have: BgpGlobal): boolean {
  // GoBGP lists 0.0.0.0 and :: when no listen address was given
  const addrs = want.listenAddresses.length === 0 || [...want.listenAddresses].sort().join() === [...have.listenAddresses].sort().join();
  return want.asn === have.asn && want.routerId === have.routerId && want.listenPort === have.listenPort && addrs;
}

/** The settings of a peer that ListPeer shows back; a difference in any of them means delete and add. */
function samePeer(want: BgpPeer, have: PeerStatus): boolean {
  return want.peerAsn === have.peerAsn && want.holdTimeS === have.holdTimeS && want.addPathsReceive === have.addPathsReceive;
}

export function planSpeaker(desired: SpeakerConfig, actual: SpeakerActual): SpeakerPlan {
  const restart = actual.global !== undefined && !sameGlobal(desired.global, actual.global);
  // after a (re)start gobgpd holds no peers and no paths
  const fresh = actual.global === undefined || restart;
  const havePeers = fresh ? [] : actual.peers;
  const havePaths = fresh ? [] : actual.paths;

  const wantPeers = new Map(desired.peers.map((p) => [p.address, p]));
  const deletePeers: string[] = [];
  const keep = new Set<string>();
  for (const h of havePeers) {
    const w = wantPeers.get(h.address);
    if (w && samePeer(w, h)) keep.add(h.address);
    else deletePeers.push(h.address);
  }
  const addPeers = desired.peers.filter((p) => !keep.has(p.address));

  const key = (p: AnnouncedPath): string => `${p.prefix} ${p.nextHop}`;
  const wantPrefixes = new Set(desired.paths.map((p) => p.prefix));
  const have = new Set(havePaths.map(key));
  return {
    stop: restart,
    start: fresh,
    deletePeers,
    addPeers,
    deletePaths: havePaths.filter((p) => !wantPrefixes.has(p.prefix)),
    addPaths: desired.paths.filter((p) => !have.has(key(p))),
  };
}

export function planIsEmpty(p: SpeakerPlan): boolean {
  return !p.stop && !p.start && p.deletePeers.length + p.addPeers.length + p.deletePaths.length + p.addPaths.length === 0;
}
