/**
 * The routed endpoints' policy model (policy-model.ts) as the nftables table `inet netloom_policy`
 * (pure: the same model and generation always give the same text). The applier loads it whole in
 * one transaction. The forward hook's first two rules are the fast path: a packet of an established
 * (or related) connection admitted under the current generation passes at once, if it comes from
 * a routed endpoint with that endpoint's own address (one lookup in `@sources`) or from anywhere
 * else; so an established packet meets one or two rules, never the chains below (this kernel has
 * no flowtable to skip even those: built without nf_flow_table). Everything else from or to a
 * routed endpoint's host interface goes to `routed`, the same stateful frame as the OVS backend
 * (features/conntrack.ts):
 * - IPv6 is dropped (policy covers IPv4; it would bypass it), and so is what an endpoint sends from
 *   an address that is not its own (spoofing another endpoint or tenant: the fast path checks it too);
 * - invalid packets are dropped (established ones of the current generation passed above);
 * - replies of a connection marked DENIED are dropped, other replies pass (a reply cannot be judged
 *   by rules written for the other direction), related packets pass;
 * - everything else (new connections, and the original direction of connections admitted under an
 *   older generation) goes through the source endpoint's egress chain, then the destination's
 *   ingress chain; allowed, the connection is committed with the current generation (so not one
 *   packet of a connection that stays allowed is lost); denied, an established connection is
 *   marked DENIED (its replies are dropped from then on: it stops in both directions) and the
 *   packet dropped.
 * ct mark layout: bits 0-17 belong to the host-network table (hostnet/numbering.ts: tenant and
 * DNAT bits, vrfId) and are kept; bits 18-30 hold the generation (1..8191), bit 31 DENIED. The
 * generation is a counter, bumped whenever the model's digest changes (both are in the table's
 * comment, so a restarted agent continues from the kernel's); an unchanged model keeps it, so
 * established connections are not re-evaluated.
 */
import { SCTP, type ChainLine, type LineService, type NamedSet, type PolicyChain, type RoutedPolicyModel } from './policy-model';

export const NFT_POLICY_FAMILY = 'inet';
export const NFT_POLICY_TABLE = 'netloom_policy';
export const GENERATION_SHIFT = 18;
export const MAX_GENERATION = 0x1fff;
export const GENERATION_MASK = MAX_GENERATION << GENERATION_SHIFT;
/** the ct mark bits other tables own (hostnet), kept when a connection is committed */
export const FOREIGN_MARK_BITS = (1 << GENERATION_SHIFT) - 1;
/** ct mark bit of a connection policy denied after it was established */
export const MARK_DENIED = 0x8000_0000;

export interface Generation {
  generation: number;
  /** digest of the model (8 hex digits) */
  digest: string;
}

const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** A digest of the model: when it changes, connections must be judged again. */
export function modelDigest(m: RoutedPolicyModel): string {
  const s = JSON.stringify(m);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The generation the model is loaded with: the previous one when the model is the same, else the next (1..MAX). */
export function nextGeneration(m: RoutedPolicyModel, previous: Generation | undefined): Generation {
  const digest = modelDigest(m);
  if (previous && previous.digest === digest) return previous;
  return { generation: ((previous?.generation ?? 0) % MAX_GENERATION) + 1, digest };
}

/**
 * The table's comment, and reading it back from `nft -t list table` (undefined: none of ours). A
 * stateless table says so; a comment without the word is stateful (every table was, before).
 */
export function generationComment(g: Generation, stateful = true): string {
  return `netloom routed policy: generation ${g.generation} digest ${g.digest}${stateful ? '' : ' stateless'}`;
}

export function parseGenerationComment(listing: string): (Generation & { stateful: boolean }) | undefined {
  const m = /comment "netloom routed policy: generation (\d+) digest ([0-9a-f]{8})( stateless)?"/.exec(listing);
  if (!m) return undefined;
  const generation = Number(m[1]);
  return generation >= 1 && generation <= MAX_GENERATION ? { generation, digest: m[2]!, stateful: m[3] === undefined } : undefined;
}

function elements(list: readonly string[]): string {
  return `{ ${list.join(', ')} }`;
}

function set(name: string, type: string, list: readonly string[], interval: boolean): string[] {
  return [`\tset ${name} {`, `\t\ttype ${type}`, ...(interval ? ['\t\tflags interval'] : []), `\t\telements = ${elements(list)}`, '\t}'];
}

function ports(list: LineService['ports']): string {
  const items = list.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`));
  return items.length === 1 ? items[0]! : elements(items);
}

function serviceText(s: LineService): string {
  if (s.protocol === 'tcp+udp') return `meta l4proto { tcp, udp } th dport ${ports(s.ports)}`;
  if ((s.protocol === 'tcp' || s.protocol === 'udp') && s.ports.length > 0) return `${s.protocol} dport ${ports(s.ports)}`;
  // SCTP (Kubernetes) by number: `th dport` reads its destination port without the sctp module's syntax
  if (s.protocol === SCTP && s.ports.length > 0) return `meta l4proto ${SCTP} th dport ${ports(s.ports)}`;
  return `meta l4proto ${s.protocol}`;
}

const VERDICT = { allow: 'return', deny: 'goto deny' } as const;

function comment(ids: readonly string[]): string {
  const text = ids.join(' ').replace(/["\\]/g, '');
  return ` comment "${text.length > 120 ? `${text.slice(0, 117)}...` : text}"`;
}

function lineText(c: PolicyChain, l: ChainLine): string {
  const addr = c.direction === 'egress' ? 'ip daddr' : 'ip saddr';
  const parts = [...(l.peers ? [`${addr} @${l.peers}`] : []), ...(l.service ? [serviceText(l.service)] : []), VERDICT[l.action]];
  return `\t\t${parts.join(' ')}${comment(l.rules)}`;
}

function chainText(c: PolicyChain): string[] {
  const addr = c.direction === 'egress' ? 'ip daddr' : 'ip saddr';
  return [
    `\tchain ${c.name} {`,
    `\t\t${addr} @routed ${addr} != @${c.tenantSet} goto deny comment "another tenant"`,
    ...c.lines.map((l) => lineText(c, l)),
    ...(c.isolated ? ['\t\tgoto deny comment "isolated"'] : []),
    '\t}',
  ];
}

/** A map from interface names (`type` ifname) or another key type to jumps; keys other than ifnames come rendered. */
function verdictMap(name: string, entries: ReadonlyArray<[string, string]>, type = 'ifname'): string[] {
  const key = (k: string) => (type === 'ifname' ? `"${k}"` : k);
  return [
    `\tmap ${name} {`,
    `\t\ttype ${type} : verdict`,
    `\t\telements = ${elements(entries.map(([k, c]) => `${key(k)} : jump ${c}`))}`,
    '\t}',
  ];
}

/** The table's text, or '' when the host has no routed endpoint (the applier then removes the table). */
export function renderRoutedPolicy(m: RoutedPolicyModel, g: Generation): string {
  if (m.endpoints.length === 0) return '';
  const routed = m.tenants.flatMap((t) => t.prefixes).sort((a, b) => cmpPrefix(a, b));
  const lines = [
    `table ${NFT_POLICY_FAMILY} ${NFT_POLICY_TABLE} {`,
    `\tcomment "${generationComment(g, m.stateful)}"`,
    ...set(
      'endpoints',
      'ifname',
      m.endpoints.map((e) => `"${e.hostIf}"`),
      false,
    ),
    ...set(
      'sources',
      'ifname . ipv4_addr',
      m.endpoints.map((e) => `"${e.hostIf}" . ${e.ip}`),
      false,
    ),
    ...set('routed', 'ipv4_addr', routed, true),
    ...(m.stateful ? statefulPart(m, g) : statelessPart(m)),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * A TCP segment (not a SYN) of a connection no table of this host admitted: opened while the
 * table kept no state (or before it existed), so conntrack picked it up in the middle, possibly in
 * the window between turning conntrack on and the new table taking over, and which end opened it
 * is unknown: neither direction can be judged as policy says, and a reply could not be told from
 * a request. To or from an endpoint whose policy can deny, it is refused with a reset (the
 * application reconnects, and its SYN is judged); elsewhere every verdict is allow anyway.
 */
const unadmitted = () => `ct mark and ${hex32(GENERATION_MASK)} == 0x00000000 tcp flags & (syn | ack) != syn`;
const UNADMITTED_COMMENT = 'a connection no table of this host admitted';

/** Rules that can deny: the stateful frame (the module's comment), conntrack on. */
function statefulPart(m: RoutedPolicyModel, g: Generation): string[] {
  const gen = hex32(g.generation << GENERATION_SHIFT);
  // a mark of the current generation exists only on IPv4 connections `routed` admitted (it drops IPv6 first)
  const fast = `ct state established,related ct mark and ${hex32(GENERATION_MASK)} == ${gen}`;
  return [
    ...m.tenants.flatMap((t: NamedSet & { tenant: string }) => [
      `\t# tenant ${t.tenant.replace(/\n/g, ' ')}`,
      ...set(t.name, 'ipv4_addr', t.prefixes, true),
    ]),
    ...m.peerSets.flatMap((p) => set(p.name, 'ipv4_addr', p.prefixes, true)),
    ...(m.denyCapable.length > 0
      ? set(
          'deny_capable',
          'ifname',
          m.denyCapable.map((i) => `"${i}"`),
          false,
        )
      : []),
    ...verdictMap('egress', m.egress),
    ...verdictMap('ingress', m.ingress),
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    `\t\t${fast} iifname . ip saddr @sources accept comment "admitted, from an endpoint with its own address"`,
    `\t\t${fast} iifname != @endpoints accept comment "admitted, to an endpoint"`,
    '\t\tiifname @endpoints goto routed',
    '\t\toifname @endpoints goto routed',
    '\t}',
    '\tchain routed {',
    '\t\tmeta nfproto ipv6 drop',
    '\t\tiifname @endpoints iifname . ip saddr != @sources drop',
    '\t\tct state invalid drop',
    ...(m.denyCapable.length > 0
      ? [
          `\t\t${unadmitted()} iifname @deny_capable reject with tcp reset comment "${UNADMITTED_COMMENT}"`,
          `\t\t${unadmitted()} oifname @deny_capable reject with tcp reset comment "${UNADMITTED_COMMENT}"`,
        ]
      : []),
    `\t\tct direction reply ct mark and ${hex32(MARK_DENIED)} == ${hex32(MARK_DENIED)} drop`,
    '\t\tct state established ct direction reply accept',
    '\t\tct state related accept',
    '\t\tiifname vmap @egress',
    '\t\toifname vmap @ingress',
    `\t\tct mark set ct mark and ${hex32(FOREIGN_MARK_BITS)} or ${gen} accept`,
    '\t}',
    '\tchain deny {',
    `\t\tct state established ct mark set ct mark or ${hex32(MARK_DENIED)} drop`,
    '\t\tdrop',
    '\t}',
    ...m.chains.flatMap(chainText),
  ];
}

/**
 * No rule can deny: only spoofing, crossing tenants and IPv6 are dropped, each packet judged alone,
 * without a ct expression (any would turn the namespace's conntrack on for every forwarded packet).
 * Every lookup is a hash of exact keys or a one-field interval set: a concatenation with intervals
 * (nftables' pipapo) costs more per packet than conntrack on this machine's CPUs. With one tenant
 * owning every routed subnet there is nothing to keep apart: an endpoint's own address passes on
 * one lookup. With several, an endpoint's packet jumps to its tenant's chain by `iifname . ip
 * saddr` (what is not found there is spoofed, or IPv6), a packet to an endpoint by `oifname`.
 */
function statelessPart(m: RoutedPolicyModel): string[] {
  if (m.tenants.length <= 1)
    return [
      '\tchain forward {',
      '\t\ttype filter hook forward priority filter; policy accept;',
      '\t\tiifname . ip saddr @sources accept comment "from an endpoint with its own address (one tenant)"',
      '\t\tiifname @endpoints drop comment "from an endpoint: not its own address, or IPv6"',
      '\t\toifname @endpoints meta nfproto ipv6 drop',
      '\t}',
    ];
  const chainOf = new Map(m.tenants.map((t) => [t.tenant, t.name]));
  return [
    ...m.tenants.flatMap((t: NamedSet & { tenant: string }) => [
      `\t# tenant ${t.tenant.replace(/\n/g, ' ')}`,
      ...set(t.name, 'ipv4_addr', t.prefixes, true),
    ]),
    ...verdictMap(
      'from_endpoint',
      m.endpoints.map((e) => [`"${e.hostIf}" . ${e.ip}`, `from_${chainOf.get(e.tenant)!}`]),
      'ifname . ipv4_addr',
    ),
    ...verdictMap(
      'to_endpoint',
      m.endpoints.map((e) => [e.hostIf, `to_${chainOf.get(e.tenant)!}`]),
    ),
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    '\t\tiifname . ip saddr vmap @from_endpoint',
    '\t\tiifname @endpoints drop comment "from an endpoint: not its own address, or IPv6"',
    '\t\toifname vmap @to_endpoint',
    '\t}',
    ...m.tenants.flatMap((t) => [
      `\tchain from_${t.name} {`,
      `\t\tip daddr @${t.name} oifname != @endpoints accept comment "to its tenant on another host"`,
      `\t\tip daddr @routed ip daddr != @${t.name} drop comment "another tenant"`,
      '\t\toifname vmap @to_endpoint',
      '\t\taccept',
      '\t}',
      `\tchain to_${t.name} {`,
      '\t\tmeta nfproto ipv6 drop',
      `\t\tip saddr @routed ip saddr != @${t.name} drop comment "another tenant"`,
      '\t\taccept',
      '\t}',
    ]),
  ];
}

function cmpPrefix(a: string, b: string): number {
  const n = (p: string) => p.split(/[./]/).map(Number);
  const x = n(a);
  const y = n(b);
  for (let i = 0; i < 5; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
