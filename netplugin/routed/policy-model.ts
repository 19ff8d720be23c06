/**
 * The policy of a host's routed endpoints as nftables will hold it (pure, plain data; policy-nft.ts
 * writes it as text): the compiled policy (lib/policy, the same form the OVS backend renders) of
 * each endpoint whose veth's host side is `hostIf`, and every tenant's routed subnets.
 *
 * - Endpoints with the same policy in one direction and one tenant share one chain (compilePolicy
 *   shares a rule object among the endpoints it applies to), so a group of |A| endpoints costs |A|
 *   verdict-map elements, not |A| copies of its rules.
 * - A chain's lines come in precedence order (priority high to low, deny before allow at equal
 *   priority), so the first line that matches decides exactly as lib/policy/evaluate.ts does.
 *   Consecutive rules with the same action decide alike whichever of them matches first, so such
 *   a run (across priorities) is merged: its rules of one peer set become one line per protocol,
 *   their ports in one set, and its rules for every service with different peers one line whose
 *   set is the union of their peers; a run with a rule that matches everything is that one line,
 *   and the lines after it are dropped (never reached). Contiv's one-port rules between groups of
 *   |A| and |B| endpoints over P ports cost |A| + |B| + P elements and one line, not |A| x |B| x P
 *   rules, and a new connection meets a few lines, not one per rule.
 * - A rule's peers are a named interval set (shared by every rule naming the same addresses).
 * - Tenants apart: traffic between an endpoint and an address of another tenant's routed subnets is
 *   denied before any rule (a chain's guard), whatever the rules say.
 * Bad input throws INVALID_ARGUMENT naming the field.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import { normalProtocol, rulePrecedence } from '../../lib/policy/evaluate';
import type { EndpointPolicy, PolicyRule, PortRange, Protocol } from '../../lib/policy/model';
import { formatPrefix, isEverything, setPrefixes, type Prefix } from '../../lib/policy/ranges';
import { byKey, compareStrings } from '../../lib/compare';

export interface RoutedEndpoint {
  /** the host side of the endpoint's veth (in the host's namespace) */
  hostIf: string;
  /** its compiled policy (ip and tenant included) */
  policy: EndpointPolicy;
}

export interface RoutedPolicyInput {
  /** this host's routed endpoints */
  endpoints: readonly RoutedEndpoint[];
  /** every tenant's routed subnets, cluster-wide (they may not overlap between tenants) */
  tenantSubnets: ReadonlyArray<{ tenant: string; subnet: string }>;
}

export type Direction = 'egress' | 'ingress';

/** SCTP's IP protocol number: its rules name ports as tcp's and udp's do (Kubernetes). */
export const SCTP = 132;

/** What a line matches besides its peers: a protocol and, for tcp/udp, destination ports (empty: any). */
export interface LineService {
  /** tcp, udp, icmp or another protocol number; 'tcp+udp' for ports with no protocol named */
  protocol: Exclude<Protocol, 6 | 17 | 1> | 'tcp+udp';
  ports: PortRange[];
}

export interface ChainLine {
  /** the peer set's name (absent: any peer) */
  peers?: string;
  /** absent: every service */
  service?: LineService;
  action: 'allow' | 'deny';
  /** the rules merged into the line (for reading the text) */
  rules: string[];
}

export interface PolicyChain {
  name: string;
  direction: Direction;
  /** the tenant's set name (its guard) */
  tenantSet: string;
  lines: ChainLine[];
  /** traffic no line matches is denied */
  isolated: boolean;
}

export interface NamedSet {
  name: string;
  /** disjoint prefixes, sorted */
  prefixes: string[];
}

export interface RoutedPolicyModel {
  /** sorted by hostIf */
  endpoints: Array<{ hostIf: string; ip: string; tenant: string; endpoint: string }>;
  /** one per tenant (sorted by name): its routed subnets and its endpoints' addresses */
  tenants: Array<NamedSet & { tenant: string }>;
  peerSets: NamedSet[];
  chains: PolicyChain[];
  /** hostIf -> chain, per direction (every endpoint has one) */
  egress: Array<[string, string]>;
  ingress: Array<[string, string]>;
  /** the endpoints (hostIf, sorted) whose policy can deny in a direction: a deny line, or isolation */
  denyCapable: string[];
  /**
   * The table keeps connection state: some endpoint's policy can deny, or the host's table was
   * stateful before (it stays so while it exists: conntrack entries of a stateful past would be
   * stale after packets it did not see). Otherwise every verdict is "allow unless spoofed or
   * across tenants", which needs no connection state: the table then holds no ct expression, so
   * the namespace's conntrack stays off and a packet pays two set lookups (policy-nft.ts).
   */
  stateful: boolean;
}

/** Linux interface names: 1-15 characters; netloom's own names use these. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function parseV4(text: string, field: string, cidr: boolean): Prefix {
  const [addr = '', len, extra] = text.split('/');
  const ok =
    ipaddr.IPv4.isValidFourPartDecimal(addr) &&
    extra === undefined &&
    (len === undefined || (cidr && /^(?:[0-9]|[12][0-9]|3[0-2])$/.test(len)));
  if (!ok)
    throw new NetloomError('INVALID_ARGUMENT', `routed policy: ${field} "${text}" is not an IPv4 ${cidr ? 'CIDR' : 'address'}`, { field });
  return setPrefixes({ include: [text], exclude: [] })[0]!;
}

function overlaps(a: Prefix, b: Prefix): boolean {
  const len = Math.min(a.len, b.len);
  const unit = 2 ** (32 - len);
  return Math.floor(a.base / unit) === Math.floor(b.base / unit);
}

function checkEndpoints(eps: readonly RoutedEndpoint[]): void {
  const seen = new Set<string>();
  for (const e of eps) {
    if (!IFNAME.test(e.hostIf))
      throw new NetloomError('INVALID_ARGUMENT', `routed policy: hostIf "${e.hostIf}" is not an interface name`, { field: 'hostIf' });
    if (seen.has(e.hostIf))
      throw new NetloomError('INVALID_ARGUMENT', `routed policy: hostIf "${e.hostIf}" is given to two endpoints`, { field: 'hostIf' });
    seen.add(e.hostIf);
    parseV4(e.policy.ip, 'ip', false);
    if (e.policy.tenant === '')
      throw new NetloomError('INVALID_ARGUMENT', `routed policy: endpoint ${e.policy.endpoint} has no tenant`, { field: 'tenant' });
    for (const d of [e.policy.ingress, e.policy.egress])
      for (const r of d.rules)
        if (!Number.isInteger(r.priority) || r.priority < 0)
          throw new NetloomError('INVALID_ARGUMENT', `routed policy: rule ${r.id} has priority ${r.priority}`, { field: 'priority' });
  }
}

/** Each tenant's addresses as disjoint prefixes; two tenants' may not overlap. */
function tenantSets(input: RoutedPolicyInput): Array<NamedSet & { tenant: string }> {
  const include = new Map<string, string[]>();
  const add = (t: string, cidr: string) => {
    const list = include.get(t);
    if (list) list.push(cidr);
    else include.set(t, [cidr]);
  };
  for (const s of input.tenantSubnets) {
    parseV4(s.subnet, 'subnet', true);
    add(s.tenant, s.subnet);
  }
  for (const e of input.endpoints) add(e.policy.tenant, `${e.policy.ip}/32`);
  const tenants = [...include.keys()].sort();
  const sets = tenants.map((t) => setPrefixes({ include: include.get(t)!, exclude: [] }));
  for (let i = 0; i < sets.length; i++)
    for (let j = i + 1; j < sets.length; j++)
      for (const a of sets[i]!)
        for (const b of sets[j]!)
          if (overlaps(a, b))
            throw new NetloomError(
              'INVALID_ARGUMENT',
              `routed policy: tenants ${tenants[i]} and ${tenants[j]} overlap (${formatPrefix(a)}, ${formatPrefix(b)})`,
              { field: 'subnet' },
            );
  return tenants.map((tenant, i) => ({ tenant, name: `tenant_${i}`, prefixes: sets[i]!.map(formatPrefix) }));
}

/** Ranges sorted, overlapping and adjacent ones joined. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** The services of rules merged into one line each, with the rules behind each: no service is every service. */
function mergeServices(rules: readonly PolicyRule[]): Array<{ service?: LineService; rules: string[] }> {
  const byProto = new Map<LineService['protocol'], { ports: PortRange[] | 'all'; rules: Set<string> }>();
  for (const r of rules) {
    if (r.services.length === 0) return [{ rules: rules.map((x) => x.id) }];
    for (const s of r.services) {
      const ports = s.ports ?? [];
      // ports mean something for tcp, udp and sctp only (as in the OVS backend); ports with no protocol: tcp or udp
      const proto: LineService['protocol'] | 'any' =
        s.protocol === undefined ? (ports.length > 0 ? 'tcp+udp' : 'any') : (normalProtocol(s.protocol) as LineService['protocol']);
      if (proto === 'any') return [{ rules: rules.map((x) => x.id) }];
      const portful = proto === 'tcp' || proto === 'udp' || proto === 'tcp+udp' || proto === SCTP;
      const had = byProto.get(proto) ?? { ports: [], rules: new Set<string>() };
      had.rules.add(r.id);
      if (!portful || ports.length === 0 || had.ports === 'all') had.ports = 'all';
      else had.ports = [...had.ports, ...ports];
      byProto.set(proto, had);
    }
  }
  const order = (p: LineService['protocol']) => (typeof p === 'number' ? `~${String(p).padStart(3, '0')}` : p);
  return [...byProto]
    .sort(([a], [b]) => compareStrings(order(a), order(b)))
    .map(([protocol, m]) => ({ service: { protocol, ports: m.ports === 'all' ? [] : mergeRanges(m.ports) }, rules: [...m.rules] }));
}

class Builder {
  readonly peerSets: NamedSet[] = [];
  private readonly peerByKey = new Map<string, string>();
  private readonly peerOfSet = new WeakMap<object, { name: string | null | undefined }>();
  readonly chains: PolicyChain[] = [];
  private readonly chainByKey = new Map<string, string>();
  private readonly ruleIds = new WeakMap<PolicyRule, number>();
  private nextRule = 0;

  /** The set of these disjoint prefixes (null: none; undefined: every address), named once. */
  private named(prefixes: readonly Prefix[]): string | null | undefined {
    if (prefixes.length === 0) return null;
    if (isEverything([...prefixes])) return undefined;
    const texts = prefixes.map(formatPrefix);
    const key = texts.join(',');
    let name = this.peerByKey.get(key);
    if (!name) {
      name = `peers_${this.peerByKey.size}`;
      this.peerByKey.set(key, name);
      this.peerSets.push({ name, prefixes: texts });
    }
    return name;
  }

  /** The peer set's name; null: no address; undefined: every address (no match). */
  peersOf(r: PolicyRule): string | null | undefined {
    const memo = this.peerOfSet.get(r.peers);
    if (memo) return memo.name;
    const name = this.named(setPrefixes(r.peers));
    this.peerOfSet.set(r.peers, { name });
    return name;
  }

  /** The union of named sets (undefined: every address). */
  private union(names: readonly string[]): string | undefined {
    const byName = new Map(this.peerSets.map((p) => [p.name, p.prefixes]));
    return this.named(setPrefixes({ include: names.flatMap((n) => byName.get(n) ?? []), exclude: [] })) ?? undefined;
  }

  /** Only the sets some line names (a run's union leaves its parts unused). */
  usedPeerSets(): NamedSet[] {
    const used = new Set(this.chains.flatMap((c) => c.lines.flatMap((l) => (l.peers ? [l.peers] : []))));
    return this.peerSets.filter((p) => used.has(p.name));
  }

  private ruleKey(r: PolicyRule): number {
    let k = this.ruleIds.get(r);
    if (k === undefined) {
      k = this.nextRule++;
      this.ruleIds.set(r, k);
    }
    return k;
  }

  /** The chain of a direction's policy in a tenant (made once per distinct rule list). */
  chainFor(dir: Direction, tenantSet: string, p: EndpointPolicy[Direction]): string {
    const key = `${dir} ${tenantSet} ${p.isolated ? 'i' : 'o'} ${p.rules.map((r) => this.ruleKey(r)).join(',')}`;
    let name = this.chainByKey.get(key);
    if (name) return name;
    name = `${dir}_${this.chains.filter((c) => c.direction === dir).length}`;
    this.chainByKey.set(key, name);
    this.chains.push({ name, direction: dir, tenantSet, lines: this.lines(p.rules), isolated: p.isolated });
    return name;
  }

  private lines(rules: readonly PolicyRule[]): ChainLine[] {
    const sorted = [...rules].sort(rulePrecedence);
    const out: ChainLine[] = [];
    let i = 0;
    while (i < sorted.length) {
      // a run of one action: its rules decide alike, so they may be merged and reordered freely
      let j = i;
      while (j < sorted.length && sorted[j]!.action === sorted[i]!.action) j++;
      const run = this.runLines(sorted.slice(i, j), sorted[i]!.action);
      out.push(...run);
      // a line that matches everything: nothing after it is ever reached
      if (run.some((l) => l.peers === undefined && l.service === undefined)) break;
      i = j;
    }
    return out;
  }

  private runLines(rules: readonly PolicyRule[], action: ChainLine['action']): ChainLine[] {
    const byPeers = new Map<string, { peers: string | undefined; rules: PolicyRule[] }>();
    for (const r of rules) {
      const peers = this.peersOf(r);
      if (peers === null) continue; // a peer set with no address matches nothing
      const k = peers ?? '';
      const g = byPeers.get(k);
      if (g) g.rules.push(r);
      else byPeers.set(k, { peers, rules: [r] });
    }
    const lines: ChainLine[] = [];
    for (const g of byPeers.values())
      for (const m of mergeServices(g.rules))
        lines.push({
          ...(g.peers !== undefined ? { peers: g.peers } : {}),
          ...(m.service ? { service: m.service } : {}),
          action,
          rules: [...new Set(m.rules)],
        });
    const catchAll = lines.find((l) => l.peers === undefined && l.service === undefined);
    if (catchAll) return [{ ...catchAll, rules: [...new Set(rules.map((r) => r.id))] }];
    // lines for every service with different peers: one line, the union of their peers
    const everyService = lines.filter((l) => l.peers !== undefined && l.service === undefined);
    if (everyService.length < 2) return lines;
    const union = this.union(everyService.map((l) => l.peers!));
    const merged: ChainLine = {
      ...(union !== undefined ? { peers: union } : {}),
      action,
      rules: [...new Set(everyService.flatMap((l) => l.rules))],
    };
    if (union === undefined) return [{ ...merged, rules: [...new Set(rules.map((r) => r.id))] }];
    const first = lines.indexOf(everyService[0]!);
    return [
      ...lines.slice(0, first).filter((l) => !everyService.includes(l)),
      merged,
      ...lines.slice(first).filter((l) => !everyService.includes(l)),
    ];
  }
}

const canDeny = (c: PolicyChain) => c.isolated || c.lines.some((l) => l.action === 'deny');

/**
 * The model of the host's routed endpoints' policy; empty endpoints: nothing to hold. `stateful`:
 * the table the host holds keeps connection state (the model then does too).
 */
export function routedPolicyModel(input: RoutedPolicyInput, held: { stateful?: boolean } = {}): RoutedPolicyModel {
  checkEndpoints(input.endpoints);
  const tenants = tenantSets(input);
  const setOf = new Map(tenants.map((t) => [t.tenant, t.name]));
  const eps = [...input.endpoints].sort(byKey((e) => e.hostIf));
  const b = new Builder();
  const egress: Array<[string, string]> = [];
  const ingress: Array<[string, string]> = [];
  const denyCapable: string[] = [];
  for (const e of eps) {
    const t = setOf.get(e.policy.tenant)!;
    const out = b.chainFor('egress', t, e.policy.egress);
    const into = b.chainFor('ingress', t, e.policy.ingress);
    egress.push([e.hostIf, out]);
    ingress.push([e.hostIf, into]);
    if ([out, into].some((name) => canDeny(b.chains.find((c) => c.name === name)!))) denyCapable.push(e.hostIf);
  }
  return {
    endpoints: eps.map((e) => ({ hostIf: e.hostIf, ip: e.policy.ip, tenant: e.policy.tenant, endpoint: e.policy.endpoint })),
    tenants,
    peerSets: b.usedPeerSets(),
    chains: b.chains,
    egress,
    ingress,
    denyCapable,
    stateful: held.stateful === true || denyCapable.length > 0,
  };
}
