/**
 * Contiv's policy semantics compiled from a host's desired state (pure): for each local endpoint
 * in a group, the rules of the group's policies. An `in` rule covers traffic to the group from
 * its peer (fromEndpointGroup, fromNetwork or fromIpAddress; a group with an address is its members
 * inside the address; none is anyone), an
 * `out` rule traffic from the group to its peer; protocol tcp/udp/icmp or a number, a port for
 * tcp/udp; priority 1-100, the highest matching priority decides, deny wins at equal priority;
 * traffic no rule matches is allowed. A group's members are the endpoints the state carries in
 * it (their addresses), a network its subnet. docs/policy.md has the semantics with examples.
 *
 * One compiler for both ends: the agent compiles what it enforces (its checked HostState), and
 * netmaster what an endpoint's inspect shows (the view it sends that host); both shapes fit the
 * structural types below (the fields of proto/netloom/agent.proto's HostState the rules read).
 */
import { ANY_ADDRESS, OPEN, type AddressSet, type EndpointPolicy, type PolicyRule, type Protocol, type Service } from './model';
import { memoPerStateAndHost } from './memo';
import { inPrefix } from './ranges';

/** A Contiv rule as the desired state carries it (peers as `tenant:name` keys, '' when absent). */
export interface ContivRule {
  ruleId: string;
  direction: string;
  priority: number;
  action: string;
  protocol: string;
  port: number;
  fromGroup: string;
  toGroup: string;
  fromNetwork: string;
  toNetwork: string;
  fromIp: string;
  toIp: string;
}

interface Endpoint {
  id: string;
  /** tenant:network */
  network: string;
  /** tenant:group, '' when none */
  group: string;
  host: string;
  ip: string;
}

/** What the compiler reads of a host's desired state. */
export interface PolicyState {
  networks: ReadonlyArray<{ key: string; subnet: string }>;
  groups: ReadonlyArray<{ key: string; tenant: string; policies: readonly string[] }>;
  policies: ReadonlyArray<{ key: string; rules: readonly ContivRule[] }>;
  endpoints: readonly Endpoint[];
}

/** The id a compiled rule carries (counters and explanations use it): `tenant:policy/ruleId`. */
export const contivRuleId = (policyKey: string, ruleId: string): string => `${policyKey}/${ruleId}`;

const NOTHING: AddressSet = { include: [], exclude: [] };

/** The protocol of a rule ('' : any). */
function protocolOf(p: string): Protocol | undefined {
  if (p === '') return undefined;
  if (p === 'tcp' || p === 'udp' || p === 'icmp') return p;
  return Number(p);
}

function servicesOf(r: ContivRule): Service[] {
  const protocol = protocolOf(r.protocol);
  if (protocol === undefined) return [];
  return [{ protocol, ...(r.port > 0 ? { ports: [{ from: r.port, to: r.port }] } : {}) }];
}

/**
 * The addresses a rule's peer stands for, from the state. A group's set is made once and shared
 * by every rule naming it (`groupSets`), so a backend can work it out once per group.
 */
function peersOf(r: ContivRule, state: PolicyState, members: Map<string, Endpoint[]>, groupSets: Map<string, AddressSet>): AddressSet {
  const inbound = r.direction === 'in';
  const group = inbound ? r.fromGroup : r.toGroup;
  const network = inbound ? r.fromNetwork : r.toNetwork;
  const ip = inbound ? r.fromIp : r.toIp;
  if (group) {
    // a group and an address together (Contiv accepted both): the group's members inside it
    const memo = ip ? `${group} ${ip}` : group;
    let set = groupSets.get(memo);
    if (!set) {
      const inside = (e: Endpoint) => e.ip !== '' && (!ip || inPrefix(ip, e.ip));
      set = { include: (members.get(group) ?? []).filter(inside).map((e) => `${e.ip}/32`), exclude: [] };
      groupSets.set(memo, set);
    }
    return set;
  }
  if (network) {
    const subnet = state.networks.find((n) => n.key === network)?.subnet;
    // a network the state does not carry matches nothing (netmaster sends every network a rule names)
    return subnet ? { include: [subnet], exclude: [] } : NOTHING;
  }
  if (ip) return { include: [ip.includes('/') ? ip : `${ip}/32`], exclude: [] };
  return ANY_ADDRESS;
}

/**
 * The policy of every local endpoint of `host` (endpoints without a group: open in both
 * directions). Each rule is compiled once and shared by every endpoint it applies to (the same
 * PolicyRule object), so a backend can group endpoints by rule; results are memoised per state
 * object (states are immutable: a change brings a new one).
 */
export const compileContiv: (state: PolicyState, host: string) => EndpointPolicy[] = memoPerStateAndHost(compile);

function compile(state: PolicyState, host: string): EndpointPolicy[] {
  const members = new Map<string, Endpoint[]>();
  for (const e of state.endpoints) {
    if (!e.group) continue;
    const list = members.get(e.group);
    if (list) list.push(e);
    else members.set(e.group, [e]);
  }
  const groups = new Map(state.groups.map((g) => [g.key, g]));
  const policies = new Map(state.policies.map((p) => [p.key, p]));
  const groupSets = new Map<string, AddressSet>();
  // per policy key: its rules compiled, split by direction (a policy attached to several groups is compiled once)
  const byPolicy = new Map<string, { ingress: PolicyRule[]; egress: PolicyRule[] }>();
  const rulesOf = (key: string): { ingress: PolicyRule[]; egress: PolicyRule[] } => {
    let c = byPolicy.get(key);
    if (!c) {
      c = { ingress: [], egress: [] };
      const p = policies.get(key);
      for (const r of p?.rules ?? []) {
        const rule: PolicyRule = {
          id: contivRuleId(p!.key, r.ruleId),
          peers: peersOf(r, state, members, groupSets),
          services: servicesOf(r),
          action: r.action === 'deny' ? 'deny' : 'allow',
          priority: r.priority,
        };
        (r.direction === 'in' ? c.ingress : c.egress).push(rule);
      }
      byPolicy.set(key, c);
    }
    return c;
  };
  const out: EndpointPolicy[] = [];
  for (const e of state.endpoints) {
    if (e.host !== host) continue;
    const g = e.group ? groups.get(e.group) : undefined;
    const ingress: PolicyRule[] = [];
    const egress: PolicyRule[] = [];
    for (const name of g?.policies ?? []) {
      const c = rulesOf(`${g!.tenant}:${name}`);
      ingress.push(...c.ingress);
      egress.push(...c.egress);
    }
    const tenant = e.network.slice(0, e.network.indexOf(':'));
    out.push({
      endpoint: e.id,
      ip: e.ip,
      tenant,
      ingress: ingress.length > 0 ? { isolated: false, rules: ingress } : OPEN,
      egress: egress.length > 0 ? { isolated: false, rules: egress } : OPEN,
    });
  }
  return out;
}
