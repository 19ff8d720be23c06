/**
 * Contiv's policy semantics as cases: a cluster (groups on three hosts, their policies), rules,
 * and the expected verdict of packets between endpoints. The same cases run against the compiled
 * policy's reference semantics (netplugin/policy-contiv.test.ts) and through the flows of every
 * host (pipeline/policy-trace.test.ts), so the semantics and the OVS rendering cannot drift apart.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { compileContiv } from '../../../lib/policy/contiv';
import { passes, type Packet } from '../../../lib/policy/evaluate';
import type { EndpointPolicy, Protocol } from '../../../lib/policy/model';
import { ClusterBuilder } from '../agent-api/fixtures';

/** web (group web, on h1), db (group db, on h2), app (group app, on h3, network app), nog (no group, on h1). */
export function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .network('t1', 'net', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'app', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .agent('h1', '192.168.0.1')
    .agent('h2', '192.168.0.2')
    .agent('h3', '192.168.0.3')
    .group('t1', 'web', 'net', ['pw'])
    .group('t1', 'db', 'net', ['pd'])
    .group('t1', 'app', 'app', ['pa'])
    .policy('t1', 'pw')
    .policy('t1', 'pd')
    .policy('t1', 'pa')
    .endpoint('web', 't1', 'net', 'h1', '10.1.0.10', 'web')
    .endpoint('db', 't1', 'net', 'h2', '10.1.0.20', 'db')
    .endpoint('app', 't1', 'app', 'h3', '10.2.0.30', 'app')
    .endpoint('nog', 't1', 'net', 'h1', '10.1.0.40');
}

export const IP: Record<string, string> = { web: '10.1.0.10', db: '10.1.0.20', app: '10.2.0.30', nog: '10.1.0.40' };
export const HOST: Record<string, string> = { web: 'h1', db: 'h2', app: 'h3', nog: 'h1' };

/** The compiled policy of endpoint `name`, as its own host computes it. */
export function policyOf(b: ClusterBuilder, name: string): EndpointPolicy | undefined {
  const host = HOST[name];
  if (!host) return undefined;
  const view = computeHostView(b.state, host);
  const state = parseHostState(JSON.parse(JSON.stringify(view)));
  const atAgent = compileContiv(state, host).find((p) => p.endpoint === name);
  // netmaster compiles the view it sends (an endpoint's inspect): the same policy as the agent's
  assert.deepEqual(
    compileContiv(view, host).find((p) => p.endpoint === name),
    atAgent,
  );
  return atAgent;
}

/** The reference verdict (lib/policy/evaluate.ts) of a packet, with the rule that decided. */
export function reference(b: ClusterBuilder, from: string, to: string, protocol: Protocol, port?: number): ReturnType<typeof passes> {
  const pkt: Packet = { src: IP[from]!, dst: IP[to]!, protocol, ...(port !== undefined ? { port } : {}) };
  return passes(pkt, policyOf(b, from)?.egress, policyOf(b, to)?.ingress);
}

export type Rule = Record<string, unknown> & { policy: string; id: string };
export interface Case {
  name: string;
  rules: Rule[];
  /** [from, to, protocol, port, expected] */
  expect: Array<[string, string, Protocol, number | undefined, 'allow' | 'deny']>;
}

export const CASES: Case[] = [
  {
    name: 'no rule: everything passes (Contiv default)',
    rules: [],
    expect: [
      ['web', 'db', 'tcp', 5432, 'allow'],
      ['db', 'web', 'icmp', undefined, 'allow'],
    ],
  },
  {
    name: "'in' deny tcp/5432 from group web: only that port, only from web",
    rules: [{ policy: 'pd', id: 'r1', direction: 'in', action: 'deny', fromEndpointGroup: 'web', protocol: 'tcp', port: 5432 }],
    expect: [
      ['web', 'db', 'tcp', 5432, 'deny'],
      ['web', 'db', 'tcp', 80, 'allow'],
      ['web', 'db', 'udp', 5432, 'allow'],
      ['nog', 'db', 'tcp', 5432, 'allow'],
      ['app', 'db', 'tcp', 5432, 'allow'],
    ],
  },
  {
    name: 'deny everything at priority 1, allow web at priority 2: the higher priority decides',
    rules: [
      { policy: 'pd', id: 'all', direction: 'in', action: 'deny', priority: 1, protocol: '', port: 0 },
      { policy: 'pd', id: 'web', direction: 'in', action: 'allow', priority: 2, fromEndpointGroup: 'web', protocol: 'tcp', port: 5432 },
    ],
    expect: [
      ['web', 'db', 'tcp', 5432, 'allow'],
      ['web', 'db', 'tcp', 22, 'deny'],
      ['nog', 'db', 'tcp', 5432, 'deny'],
      ['app', 'db', 'icmp', undefined, 'deny'],
    ],
  },
  {
    name: 'allow and deny at the same priority: deny wins',
    rules: [
      { policy: 'pd', id: 'a', direction: 'in', action: 'allow', priority: 5, fromEndpointGroup: 'web', protocol: 'tcp', port: 5432 },
      { policy: 'pd', id: 'd', direction: 'in', action: 'deny', priority: 5, protocol: 'tcp', port: 5432 },
    ],
    expect: [
      ['web', 'db', 'tcp', 5432, 'deny'],
      ['web', 'db', 'tcp', 80, 'allow'],
    ],
  },
  {
    name: "'out' deny to network app (from web): enforced at the source",
    rules: [{ policy: 'pw', id: 'o', direction: 'out', action: 'deny', toNetwork: 'app', protocol: '', port: 0 }],
    expect: [
      ['web', 'app', 'tcp', 80, 'deny'],
      ['web', 'app', 'icmp', undefined, 'deny'],
      ['web', 'db', 'tcp', 80, 'allow'],
      ['nog', 'app', 'tcp', 80, 'allow'],
    ],
  },
  {
    name: "'in' allow from a CIDR above a deny of everything; ICMP and UDP by protocol",
    rules: [
      { policy: 'pa', id: 'all', direction: 'in', action: 'deny', priority: 1, protocol: '', port: 0 },
      { policy: 'pa', id: 'cidr', direction: 'in', action: 'allow', priority: 10, fromIpAddress: '10.1.0.0/28', protocol: 'udp', port: 53 },
      { policy: 'pa', id: 'ping', direction: 'in', action: 'allow', priority: 10, fromIpAddress: '10.1.0.20', protocol: 'icmp', port: 0 },
    ],
    expect: [
      ['web', 'app', 'udp', 53, 'allow'],
      ['web', 'app', 'udp', 54, 'deny'],
      ['db', 'app', 'udp', 53, 'deny'],
      ['db', 'app', 'icmp', undefined, 'allow'],
      ['web', 'app', 'icmp', undefined, 'deny'],
    ],
  },
  {
    name: "'in' deny from group web with an address (Contiv's form): the group's members inside it, not others there",
    rules: [
      {
        policy: 'pd',
        id: 'in',
        direction: 'in',
        action: 'deny',
        fromEndpointGroup: 'web',
        fromIpAddress: '10.1.0.0/26',
        protocol: 'tcp',
        port: 80,
      },
      {
        policy: 'pa',
        id: 'out',
        direction: 'in',
        action: 'deny',
        fromEndpointGroup: 'web',
        fromIpAddress: '10.1.0.16/28',
        protocol: '',
        port: 0,
      },
    ],
    expect: [
      ['web', 'db', 'tcp', 80, 'deny'],
      ['nog', 'db', 'tcp', 80, 'allow'],
      ['web', 'app', 'tcp', 80, 'allow'],
    ],
  },
  {
    name: 'both ends: an egress deny at the source stops what the destination allows',
    rules: [
      { policy: 'pw', id: 'no-db', direction: 'out', action: 'deny', toEndpointGroup: 'db', protocol: 'tcp', port: 5432 },
      { policy: 'pd', id: 'yes', direction: 'in', action: 'allow', priority: 50, fromEndpointGroup: 'web', protocol: 'tcp', port: 5432 },
    ],
    expect: [
      ['web', 'db', 'tcp', 5432, 'deny'],
      ['nog', 'db', 'tcp', 5432, 'allow'],
    ],
  },
  {
    name: 'protocol given as a number (6 is tcp)',
    rules: [{ policy: 'pd', id: 'n', direction: 'in', action: 'deny', protocol: '6', port: 22 }],
    expect: [
      ['web', 'db', 'tcp', 22, 'deny'],
      ['web', 'db', 'udp', 22, 'allow'],
    ],
  },
];

/** Add a case's rules to the cluster. */
export function withRules(b: ClusterBuilder, rules: readonly Rule[]): ClusterBuilder {
  for (const r of rules) {
    const { policy, id, ...fields } = r;
    b.rule('t1', policy, id, { toEndpointGroup: '', fromEndpointGroup: '', ...fields });
  }
  return b;
}
