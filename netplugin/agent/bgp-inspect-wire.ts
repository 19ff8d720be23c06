/**
 * The speaker's status as it travels to netmaster (proto BgpInspectResult, netctl bgp inspect):
 * uptime as seconds up at the time of the answer (the agent's clock, not netctl's, decides).
 */
import type { BgpInspectResult } from '../../proto/gen/netloom/v1/BgpInspectResult';
import type { SpeakerStatus } from './bgp-speaker';

export function bgpStatusToProto(host: string, s: SpeakerStatus, nowMs: number): BgpInspectResult {
  return {
    host,
    running: s.running,
    error: s.error,
    pid: s.pid ?? 0,
    as: s.asn,
    routerId: s.routerId,
    neighbors: s.neighbors.map((n) => ({
      address: n.address,
      peerAs: n.peerAsn,
      localAs: n.localAsn,
      state: n.state,
      adminDown: n.adminDown,
      uptimeSeconds: n.state === 'ESTABLISHED' && n.uptimeSince !== undefined ? Math.max(0, Math.floor((nowMs - n.uptimeSince) / 1000)) : 0,
      holdTime: n.holdTimeS,
      negotiatedHoldTime: n.negotiatedHoldTimeS,
      received: n.received,
      accepted: n.accepted,
      advertised: n.advertised,
    })),
    announced: s.announced.map((p) => ({ prefix: p.prefix, nextHops: [p.nextHop] })),
    installed: s.installed.map((r) => ({ prefix: r.prefix, nextHops: r.nextHops })),
  };
}
