/**
 * Pure pieces of the policy benchmark (bench/policy.ts): host states with policies of a given
 * size, as netmaster sends them (the wire shape `parseHostState` checks), the local facts an
 * agent would add (an OpenFlow port per local endpoint), and counts of the flows the real
 * pipeline computes for them. No I/O.
 *
 * The unit of size is the "rule between two groups over P ports": a Contiv rule names one
 * port, so such a rule is P Contiv rules that share direction, priority and peer group (the
 * compiler shares their endpoint and peer clause flows). Pair k is group a<k> (the policy's
 * group, `localA` of its endpoints on the measured host, the rest on other hosts) and group b<k>
 * (the peer, all remote); its policy p<k> is attached to a<k>.
 */
import { NetloomError } from '../../lib/errors';
import { computePipeline } from '../../netplugin/pipeline/compute';
import type { PipelineInput } from '../../netplugin/pipeline/input';
import { table } from '../../netplugin/pipeline/tables';
import type { DesiredFlow } from '../../netplugin/reconcile/flow-key';
import { parseHostState } from '../../netplugin/state/host-state';
import { localFactsFor } from '../../tools/agent-sim/compiler';

export const TENANT = 'bp';
export const NETWORK = 'net';
export const SUBNET = '10.64.0.0/16';
export const LOCAL_HOST = 'local';
/** the remote endpoints are spread over this many other hosts */
export const REMOTE_HOSTS = 20;
/** first tcp port of the rules (rule j, port m: FIRST_PORT + j * ports + m) */
export const FIRST_PORT = 1000;

export interface PolicyStateSpec {
  /** group pairs (distinct groups); every pair has its own policy */
  pairs: number;
  /** endpoints of each a<k> and b<k> */
  groupA: number;
  groupB: number;
  /** endpoints of each a<k> on the measured host */
  localA: number;
  /** rules per pair, each over `ports` tcp ports (one Contiv rule per port) */
  rulesPerPair: number;
  ports: number;
  /** in: a<k> accepts from b<k>; out: a<k> sends to b<k>; mixed: in for even k, out for odd */
  direction: 'in' | 'out' | 'mixed';
  /** every rule at priority 1 (the compiler can share clause flows across rules); else rule j at 1 + j % 100 */
  samePriority: boolean;
  /** leave the policies' rules out (the reference state) */
  noRules?: boolean;
}

function bad(field: string, msg: string): never {
  throw new NetloomError('INVALID_ARGUMENT', `policy state: ${field} ${msg}`, { field });
}

function checkSpec(s: PolicyStateSpec): void {
  for (const k of ['pairs', 'groupA', 'groupB', 'rulesPerPair', 'ports', 'localA'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 0) bad(k, `must be a non-negative integer, got ${s[k]}`);
  if (s.localA > s.groupA) bad('localA', `(${s.localA}) must be at most groupA (${s.groupA})`);
  if (s.pairs * (s.groupA + s.groupB) > 60_000) bad('pairs', 'x (groupA + groupB) must fit the /16 (at most 60,000 endpoints)');
  if (FIRST_PORT + s.rulesPerPair * s.ports > 65_535) bad('ports', 'x rulesPerPair must keep ports under 65,536');
}

/** The n-th address of the subnet past the gateway (10.64.0.1). */
function ipOf(n: number): string {
  const v = n + 2;
  return `10.64.${(v >> 8) & 255}.${v & 255}`;
}

function macOf(n: number): string {
  const hex = (x: number) => (x & 255).toString(16).padStart(2, '0');
  return `02:00:${hex(n >> 24)}:${hex(n >> 16)}:${hex(n >> 8)}:${hex(n)}`;
}

export function remoteHost(i: number): string {
  return `remote-${String(i % REMOTE_HOSTS).padStart(2, '0')}`;
}

function vtepOf(host: string): string {
  return host === LOCAL_HOST ? '172.20.1.254' : `172.20.1.${Number(host.slice('remote-'.length)) + 1}`;
}

/** The rule's direction for pair k. */
export function pairDirection(s: Pick<PolicyStateSpec, 'direction'>, k: number): 'in' | 'out' {
  return s.direction === 'mixed' ? (k % 2 === 0 ? 'in' : 'out') : s.direction;
}

/** The state netmaster would send LOCAL_HOST (wire shape, before parseHostState). */
export function policyWireState(s: PolicyStateSpec): Record<string, unknown> {
  checkSpec(s);
  const groups: unknown[] = [];
  const policies: unknown[] = [];
  const endpoints: unknown[] = [];
  let n = 0;
  let remote = 0;
  const ep = (group: string, host: string) => {
    const i = n++;
    endpoints.push({
      id: `ep-${i}`,
      network: `${TENANT}:${NETWORK}`,
      group: `${TENANT}:${group}`,
      host,
      ip: ipOf(i),
      mac: macOf(i),
      vtepIp: vtepOf(host),
      containerId: `c-${i}`,
      revision: '1',
    });
  };
  for (let k = 0; k < s.pairs; k++) {
    const a = `a${k}`;
    const b = `b${k}`;
    const dir = pairDirection(s, k);
    const rules: unknown[] = [];
    if (!s.noRules)
      for (let j = 0; j < s.rulesPerPair; j++)
        for (let m = 0; m < s.ports; m++)
          rules.push({
            ruleId: `r${j}p${m}`,
            direction: dir,
            priority: s.samePriority ? 1 : 1 + (j % 100),
            action: 'allow',
            protocol: 'tcp',
            port: FIRST_PORT + j * s.ports + m,
            ...(dir === 'in' ? { fromGroup: `${TENANT}:${b}` } : { toGroup: `${TENANT}:${b}` }),
          });
    policies.push({ key: `${TENANT}:p${k}`, tenant: TENANT, name: `p${k}`, rules });
    groups.push({ key: `${TENANT}:${a}`, tenant: TENANT, name: a, network: NETWORK, groupId: 2 * k + 1, policies: [`p${k}`] });
    groups.push({ key: `${TENANT}:${b}`, tenant: TENANT, name: b, network: NETWORK, groupId: 2 * k + 2, policies: [] });
    for (let i = 0; i < s.groupA; i++) ep(a, i < s.localA ? LOCAL_HOST : remoteHost(remote++));
    for (let i = 0; i < s.groupB; i++) ep(b, remoteHost(remote++));
  }
  const hosts = [...new Set(endpoints.map((e) => (e as { host: string }).host))].filter((h) => h !== LOCAL_HOST).sort();
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: TENANT, ctZone: 1, vrfId: 1 }],
    networks: [
      {
        key: `${TENANT}:${NETWORK}`,
        tenant: TENANT,
        name: NETWORK,
        encap: 'vxlan',
        pktTag: 6400,
        subnet: SUBNET,
        gateway: '10.64.0.1',
        networkId: 1,
      },
    ],
    groups,
    policies,
    endpoints,
    vteps: hosts.map((h) => ({ host: h, vtepIp: vtepOf(h) })),
  };
}

/** The measured host's pipeline input for a spec (parsed as the agent parses what it receives). */
export function policyInput(s: PolicyStateSpec): PipelineInput {
  const state = parseHostState(policyWireState(s));
  return { state, local: localFactsFor(state, LOCAL_HOST, vtepOf(LOCAL_HOST)) };
}

const POLICY_TABLES = new Set([table('egressPolicy'), table('ingressPolicy')]);

/** Flows in the policy tables (egressPolicy, ingressPolicy). */
export function policyTableFlows(flows: readonly DesiredFlow[]): number {
  let n = 0;
  for (const f of flows) if (POLICY_TABLES.has(f.table)) n++;
  return n;
}

export interface RuleFlowFigures {
  /** flows the rules add to the host's pipeline (whole pipeline with the rules minus without) */
  added: number;
  /** of which in the policy tables */
  policyTables: number;
  /** the pipeline's size with the rules */
  total: number;
  /** the conjunction's ideal per rule, |A_local| + |B| + P + 1, times the rules */
  conjunctive: number;
  /** what one flow per (endpoint, peer, port) would take: |A_local| x |B| x P, times the rules */
  crossProduct: number;
}

/** The flows a spec's rules cost on the measured host, computed with the real computePipeline. */
export function ruleFlowFigures(s: PolicyStateSpec): RuleFlowFigures {
  const withRules = computePipeline(policyInput(s));
  const without = computePipeline(policyInput({ ...s, noRules: true }));
  const rules = s.pairs * s.rulesPerPair;
  return {
    added: withRules.length - without.length,
    policyTables: policyTableFlows(withRules) - policyTableFlows(without),
    total: withRules.length,
    conjunctive: rules * (s.localA + s.groupB + s.ports + 1),
    crossProduct: rules * s.localA * s.groupB * s.ports,
  };
}
