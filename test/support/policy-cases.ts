/**
 * Contiv policy cases as plain data, shared by the unit test that holds them to the reference
 * semantics (lib/policy/evaluate.ts) and the lab test that sends real traffic
 * (test/integration/lab/policy-wire.test.ts). One topology: a tenant with a VLAN and a VXLAN
 * network (routed between each other), groups spread over three hosts, endpoints without a group.
 * Per case: the rules (Contiv's REST fields) and the expected matrix, written by hand (it is the
 * spec): every (from, to, probe) passes unless a row says otherwise; rows apply in order, so a
 * later row overrides an earlier one.
 */

export type Probe = 'ping' | `tcp/${number}` | `udp/${number}`;
export type Verdict = 'pass' | 'deny';

export interface NetworkSpec {
  name: string;
  encap: 'vlan' | 'vxlan';
  tag: number;
  subnet: string;
  gateway: string;
}

export interface GroupSpec {
  name: string;
  network: string;
  /** the policies attached to the group (for the whole run) */
  policies: string[];
}

export interface EndpointSpec {
  name: string;
  host: string;
  network: string;
  /** absent: no group (no policy applies to it) */
  group?: string;
  ip: string;
}

export interface Topology {
  tenant: string;
  hosts: string[];
  networks: NetworkSpec[];
  policies: string[];
  groups: GroupSpec[];
  endpoints: EndpointSpec[];
  /** what is sent between every ordered pair of endpoints */
  probes: Probe[];
}

/** A rule as Contiv's REST API names its fields (absent: '' or 0, priority 1). */
export interface RuleSpec {
  policy: string;
  ruleId: string;
  direction: 'in' | 'out';
  priority?: number;
  action: 'allow' | 'deny';
  /** tcp, udp, icmp or an IP protocol number; absent: any */
  protocol?: string;
  port?: number;
  fromEndpointGroup?: string;
  toEndpointGroup?: string;
  fromNetwork?: string;
  toNetwork?: string;
  /** an address or a CIDR */
  fromIpAddress?: string;
  toIpAddress?: string;
}

/** [from, to, probes, verdict]: endpoint names separated by spaces or '*'; probes likewise or '*'. */
export type ExpectRow = [from: string, to: string, probes: string, verdict: Verdict];

export interface PolicyCase {
  name: string;
  rules: RuleSpec[];
  expect: ExpectRow[];
}

export const TOPOLOGY: Topology = {
  tenant: 'tp',
  hosts: ['host1', 'host2', 'host3'],
  networks: [
    { name: 'vl', encap: 'vlan', tag: 380, subnet: '10.80.1.0/24', gateway: '10.80.1.254' },
    { name: 'vx', encap: 'vxlan', tag: 8002, subnet: '10.80.2.0/24', gateway: '10.80.2.254' },
  ],
  policies: ['pweb', 'pdb', 'papp', 'pshared'],
  groups: [
    { name: 'web', network: 'vl', policies: ['pweb', 'pshared'] },
    { name: 'db', network: 'vl', policies: ['pdb'] },
    { name: 'app', network: 'vx', policies: ['papp', 'pshared'] },
  ],
  endpoints: [
    { name: 'w1', host: 'host1', network: 'vl', group: 'web', ip: '10.80.1.11' },
    { name: 'w2', host: 'host2', network: 'vl', group: 'web', ip: '10.80.1.12' },
    { name: 'd2', host: 'host2', network: 'vl', group: 'db', ip: '10.80.1.22' },
    { name: 'd3', host: 'host3', network: 'vl', group: 'db', ip: '10.80.1.23' },
    { name: 'a1', host: 'host1', network: 'vx', group: 'app', ip: '10.80.2.31' },
    { name: 'a3', host: 'host3', network: 'vx', group: 'app', ip: '10.80.2.33' },
    { name: 'n1', host: 'host1', network: 'vl', ip: '10.80.1.41' },
    { name: 'n3', host: 'host3', network: 'vx', ip: '10.80.2.43' },
  ],
  probes: ['ping', 'tcp/80', 'tcp/5432', 'udp/53', 'udp/5432'],
};

export const CASES: PolicyCase[] = [
  {
    name: 'no rules: every pair passes every probe (same host, across hosts, VLAN, VXLAN, routed)',
    rules: [],
    expect: [],
  },
  {
    name: "'in' deny by group: db refuses tcp/5432 from web, nothing else",
    rules: [{ policy: 'pdb', ruleId: 'r1', direction: 'in', action: 'deny', protocol: 'tcp', port: 5432, fromEndpointGroup: 'web' }],
    expect: [['w1 w2', 'd2 d3', 'tcp/5432', 'deny']],
  },
  {
    name: 'priority: an allow at 10 beats a deny of everything at 1',
    rules: [
      { policy: 'pdb', ruleId: 'all', direction: 'in', action: 'deny', priority: 1 },
      {
        policy: 'pdb',
        ruleId: 'web',
        direction: 'in',
        action: 'allow',
        priority: 10,
        protocol: 'tcp',
        port: 5432,
        fromEndpointGroup: 'web',
      },
    ],
    expect: [
      ['*', 'd2 d3', '*', 'deny'],
      ['w1 w2', 'd2 d3', 'tcp/5432', 'pass'],
    ],
  },
  {
    name: "priority: a deny at 10 beats an allow at 5, which beats a deny at 1 ('in' from a network, routed VLAN to VXLAN)",
    rules: [
      { policy: 'papp', ruleId: 'lo', direction: 'in', action: 'deny', priority: 1, protocol: 'tcp' },
      { policy: 'papp', ruleId: 'vl', direction: 'in', action: 'allow', priority: 5, protocol: 'tcp', fromNetwork: 'vl' },
      { policy: 'papp', ruleId: 'web', direction: 'in', action: 'deny', priority: 10, protocol: 'tcp', port: 80, fromEndpointGroup: 'web' },
    ],
    expect: [
      ['*', 'a1 a3', 'tcp/80 tcp/5432', 'deny'],
      ['w1 w2 d2 d3 n1', 'a1 a3', 'tcp/80 tcp/5432', 'pass'],
      ['w1 w2', 'a1 a3', 'tcp/80', 'deny'],
    ],
  },
  {
    name: 'equal priority: deny wins over allow',
    rules: [
      { policy: 'pdb', ruleId: 'a', direction: 'in', action: 'allow', priority: 7, protocol: 'udp', port: 53, fromEndpointGroup: 'web' },
      { policy: 'pdb', ruleId: 'd', direction: 'in', action: 'deny', priority: 7, protocol: 'udp' },
    ],
    expect: [['*', 'd2 d3', 'udp/53 udp/5432', 'deny']],
  },
  {
    name: "'out' to a group: enforced at the source",
    rules: [{ policy: 'pweb', ruleId: 'r1', direction: 'out', action: 'deny', protocol: 'tcp', port: 80, toEndpointGroup: 'db' }],
    expect: [['w1 w2', 'd2 d3', 'tcp/80', 'deny']],
  },
  {
    name: "'out' to a network (VLAN to the routed VXLAN network, group and no group)",
    rules: [{ policy: 'pweb', ruleId: 'r1', direction: 'out', action: 'deny', protocol: 'icmp', toNetwork: 'vx' }],
    expect: [['w1 w2', 'a1 a3 n3', 'ping', 'deny']],
  },
  {
    name: "'out' to an IP and to a CIDR",
    rules: [
      { policy: 'papp', ruleId: 'ip', direction: 'out', action: 'deny', protocol: 'udp', toIpAddress: '10.80.1.22' },
      { policy: 'papp', ruleId: 'cidr', direction: 'out', action: 'deny', protocol: 'tcp', port: 5432, toIpAddress: '10.80.1.0/28' },
    ],
    expect: [
      ['a1 a3', 'd2', 'udp/53 udp/5432', 'deny'],
      ['a1 a3', 'w1 w2', 'tcp/5432', 'deny'],
    ],
  },
  {
    name: "'in' from a CIDR (10.80.2.32/27 holds a3 and n3, not a1), every protocol",
    rules: [{ policy: 'pdb', ruleId: 'r1', direction: 'in', action: 'deny', fromIpAddress: '10.80.2.32/27' }],
    expect: [['a3 n3', 'd2 d3', '*', 'deny']],
  },
  {
    name: 'port-specific (tcp/80) vs protocol-only (udp, every port)',
    rules: [
      { policy: 'pdb', ruleId: 'tcp80', direction: 'in', action: 'deny', protocol: 'tcp', port: 80 },
      { policy: 'papp', ruleId: 'udp', direction: 'in', action: 'deny', protocol: 'udp' },
    ],
    expect: [
      ['*', 'd2 d3', 'tcp/80', 'deny'],
      ['*', 'a1 a3', 'udp/53 udp/5432', 'deny'],
    ],
  },
  {
    name: 'protocols by number: 6 (tcp/5432), 17 (udp/53), 1 (icmp from group app)',
    rules: [
      { policy: 'pdb', ruleId: 'p6', direction: 'in', action: 'deny', protocol: '6', port: 5432 },
      { policy: 'pdb', ruleId: 'p17', direction: 'in', action: 'deny', protocol: '17', port: 53 },
      { policy: 'pdb', ruleId: 'p1', direction: 'in', action: 'deny', protocol: '1', fromEndpointGroup: 'app' },
    ],
    expect: [
      ['*', 'd2 d3', 'tcp/5432 udp/53', 'deny'],
      ['a1 a3', 'd2 d3', 'ping', 'deny'],
    ],
  },
  {
    name: 'both ends: an egress deny at the source overrides an ingress allow at the destination',
    rules: [
      { policy: 'pweb', ruleId: 'no', direction: 'out', action: 'deny', priority: 1, protocol: 'tcp', port: 5432, toEndpointGroup: 'db' },
      {
        policy: 'pdb',
        ruleId: 'yes',
        direction: 'in',
        action: 'allow',
        priority: 100,
        protocol: 'tcp',
        port: 5432,
        fromEndpointGroup: 'web',
      },
    ],
    expect: [['w1 w2', 'd2 d3', 'tcp/5432', 'deny']],
  },
  {
    name: "'out' priorities: deny everything at 1, allow to group db at 50",
    rules: [
      { policy: 'pweb', ruleId: 'all', direction: 'out', action: 'deny', priority: 1 },
      { policy: 'pweb', ruleId: 'db', direction: 'out', action: 'allow', priority: 50, toEndpointGroup: 'db' },
    ],
    expect: [
      ['w1 w2', '*', '*', 'deny'],
      ['w1 w2', 'd2 d3', '*', 'pass'],
    ],
  },
  {
    name: "a policy attached to two groups (web and app), 'in' from one IP",
    rules: [{ policy: 'pshared', ruleId: 'r1', direction: 'in', action: 'deny', protocol: 'icmp', fromIpAddress: '10.80.1.41' }],
    expect: [['n1', 'w1 w2 a1 a3', 'ping', 'deny']],
  },
];

/** One cell of a case's matrix. */
export interface Cell {
  from: EndpointSpec;
  to: EndpointSpec;
  probe: Probe;
  verdict: Verdict;
}

function select<T extends string>(spec: string, all: readonly T[], what: string): T[] {
  if (spec.trim() === '*') return [...all];
  const names = spec.split(/\s+/).filter((s) => s !== '');
  for (const n of names) if (!all.includes(n as T)) throw new Error(`policy case: unknown ${what} "${n}"`);
  return names as T[];
}

/** The whole matrix of a case: every ordered pair of distinct endpoints, every probe (pure). */
export function expectedMatrix(topo: Topology, c: PolicyCase): Cell[] {
  const names = topo.endpoints.map((e) => e.name);
  const verdicts = new Map<string, Verdict>();
  const key = (from: string, to: string, probe: string) => `${from} ${to} ${probe}`;
  for (const [from, to, probes, verdict] of c.expect)
    for (const f of select(from, names, 'endpoint'))
      for (const t of select(to, names, 'endpoint'))
        for (const p of select(probes, topo.probes, 'probe')) verdicts.set(key(f, t, p), verdict);
  const cells: Cell[] = [];
  for (const from of topo.endpoints)
    for (const to of topo.endpoints) {
      if (from === to) continue;
      for (const probe of topo.probes) cells.push({ from, to, probe, verdict: verdicts.get(key(from.name, to.name, probe)) ?? 'pass' });
    }
  return cells;
}

/** `from -> to probe` as failures name a cell. */
export function cellName(c: Pick<Cell, 'from' | 'to' | 'probe'>): string {
  return `${c.from.name} -> ${c.to.name} ${c.probe}`;
}
