/**
 * A small interpreter of the routed policy model (netplugin/routed/policy-model.ts) with the
 * meaning policy-nft.ts gives it in nftables: the forward hook's fast path and `routed` chain, the verdict maps,
 * each chain's guard and lines in order, `return` for allow and `goto deny` for deny. Tests hold
 * it to lib/policy/evaluate.ts; the real-kernel test holds the text to the same cases. A model
 * whose rules cannot deny is the stateless table: its rules in order, connection state ignored.
 */
import { normalProtocol } from '../../../lib/policy/evaluate';
import type { Protocol } from '../../../lib/policy/model';
import { setPrefixes } from '../../../lib/policy/ranges';
import { SCTP, type PolicyChain, type RoutedPolicyModel } from '../../../netplugin/routed/policy-model';
import { FOREIGN_MARK_BITS, GENERATION_MASK, GENERATION_SHIFT, MARK_DENIED, type Generation } from '../../../netplugin/routed/policy-nft';

export interface RoutedPacket {
  /** input and output interfaces of the forwarded packet (a routed endpoint's host side, or another) */
  iif: string;
  oif: string;
  src: string;
  dst: string;
  protocol: Protocol;
  port?: number;
  /** a TCP segment without SYN (for a connection conntrack does not know: picked up mid-stream) */
  midStream?: boolean;
}

/** What conntrack knows of the packet's connection. */
export interface CtView {
  state: 'new' | 'established' | 'related' | 'invalid';
  reply: boolean;
  mark: number;
}

export const NEW: CtView = { state: 'new', reply: false, mark: 0 };

const num = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

function inPrefixes(ip: string, prefixes: readonly string[]): boolean {
  const n = num(ip);
  return setPrefixes({ include: [...prefixes], exclude: [] }).some(
    (p) => Math.floor(n / 2 ** (32 - p.len)) === Math.floor(p.base / 2 ** (32 - p.len)),
  );
}

function chainVerdict(m: RoutedPolicyModel, c: PolicyChain, pkt: RoutedPacket): 'allow' | 'deny' {
  const peer = c.direction === 'egress' ? pkt.dst : pkt.src;
  const routed = m.tenants.flatMap((t) => t.prefixes);
  const own = m.tenants.find((t) => t.name === c.tenantSet)!;
  if (inPrefixes(peer, routed) && !inPrefixes(peer, own.prefixes)) return 'deny';
  const proto = normalProtocol(pkt.protocol);
  for (const l of c.lines) {
    if (l.peers && !inPrefixes(peer, m.peerSets.find((s) => s.name === l.peers)!.prefixes)) continue;
    if (l.service) {
      const s = l.service;
      const portful =
        s.protocol === 'tcp+udp' || ((s.protocol === 'tcp' || s.protocol === 'udp' || s.protocol === SCTP) && s.ports.length > 0);
      if (s.protocol === 'tcp+udp' ? proto !== 'tcp' && proto !== 'udp' : proto !== s.protocol) continue;
      if (portful && (pkt.port === undefined || !s.ports.some((r) => pkt.port! >= r.from && pkt.port! <= r.to))) continue;
    }
    return l.action;
  }
  return c.isolated ? 'deny' : 'allow';
}

/** The stateless table's verdict, rule by rule (forward, then a tenant's from_ and to_ chains). */
function statelessVerdict(m: RoutedPolicyModel, pkt: RoutedPacket): 'accept' | 'drop' {
  const src = m.endpoints.find((e) => e.hostIf === pkt.iif);
  const dst = m.endpoints.find((e) => e.hostIf === pkt.oif);
  const own = (e: { tenant: string }) => m.tenants.find((t) => t.tenant === e.tenant)!.prefixes;
  const routed = m.tenants.flatMap((t) => t.prefixes);
  const single = m.tenants.length <= 1;
  // to_<tenant of dst>
  const toEndpoint = (d: { tenant: string }) => (inPrefixes(pkt.src, routed) && !inPrefixes(pkt.src, own(d)) ? 'drop' : 'accept');
  if (src && src.ip === pkt.src) {
    if (single) return 'accept';
    // from_<tenant of src>
    if (inPrefixes(pkt.dst, own(src)) && !dst) return 'accept';
    if (inPrefixes(pkt.dst, routed) && !inPrefixes(pkt.dst, own(src))) return 'drop';
    return dst ? toEndpoint(dst) : 'accept';
  }
  if (src) return 'drop';
  if (dst && !single) return toEndpoint(dst);
  return 'accept';
}

/** The forward hook's verdict on one packet and the connection's ct mark after it. */
export function interpret(
  m: RoutedPolicyModel,
  g: Generation,
  pkt: RoutedPacket,
  ct: CtView,
): { verdict: 'accept' | 'drop'; mark: number } {
  if (!m.stateful) return { verdict: statelessVerdict(m, pkt), mark: ct.mark };
  const accept = (mark = ct.mark) => ({ verdict: 'accept' as const, mark });
  const drop = (mark = ct.mark) => ({ verdict: 'drop' as const, mark });
  const src = m.endpoints.find((e) => e.hostIf === pkt.iif);
  const dst = m.endpoints.find((e) => e.hostIf === pkt.oif);
  const gen = g.generation << GENERATION_SHIFT;
  // forward: the fast path (admitted under the current generation), from an endpoint with its own address or from elsewhere
  const admitted = (ct.state === 'established' || ct.state === 'related') && (ct.mark & GENERATION_MASK) >>> 0 === gen >>> 0;
  if (admitted && (src ? src.ip === pkt.src : true)) return accept();
  if (!src && !dst) return accept();
  // routed
  if (src && src.ip !== pkt.src) return drop();
  if (ct.state === 'invalid') return drop();
  // a connection no table admitted (no generation in its mark): mid-stream TCP to or from an endpoint that can deny is reset
  const denyCapable = (e: { hostIf: string } | undefined) => e !== undefined && m.denyCapable.includes(e.hostIf);
  const unadmitted = (ct.mark & GENERATION_MASK) === 0 && pkt.midStream === true && normalProtocol(pkt.protocol) === 'tcp';
  if (unadmitted && (denyCapable(src) || denyCapable(dst))) return drop();
  if (ct.reply && (ct.mark & MARK_DENIED) !== 0) return drop();
  if (ct.state === 'established' && ct.reply) return accept();
  if (ct.state === 'related') return accept();
  const chains = [
    ...(src ? [m.egress.find(([i]) => i === src.hostIf)![1]] : []),
    ...(dst ? [m.ingress.find(([i]) => i === dst.hostIf)![1]] : []),
  ];
  for (const name of chains)
    if (chainVerdict(m, m.chains.find((c) => c.name === name)!, pkt) === 'deny')
      return drop(ct.state === 'established' ? (ct.mark | MARK_DENIED) >>> 0 : ct.mark);
  return accept(((ct.mark & FOREIGN_MARK_BITS) | gen) >>> 0);
}
