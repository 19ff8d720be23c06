/**
 * Pure pieces of the policy benchmark (bench/policy.ts): its options, checked, and the JSON
 * result assembled from what the phases measured. No I/O.
 */
import { NetloomError } from '../../lib/errors';
import type { LatencySummary } from './scale-report';

export const POLICY_PHASES = ['flows', 'memory', 'lab', 'agents'] as const;
export type PolicyPhase = (typeof POLICY_PHASES)[number];

export interface PolicyBenchConfig {
  phases: PolicyPhase[];
  /** lab name for the 3-host phase (1-6 letters/digits; pick one no other lab uses) */
  lab: string;
  /** rule changes in the lab */
  labChanges: number;
  agents: number;
  /** rule changes with the simulated agents */
  agentChanges: number;
  /** endpoints of the group whose policy attachment is timed */
  members: number;
  /** attach/detach rounds of that policy */
  membershipRounds: number;
  /** simulator worker processes */
  workers: number;
  /** etcd client/peer ports of the agents phase: base .. base + 5 */
  etcdPort: number;
  /** per wait */
  timeoutSeconds: number;
  /** runs of the 10,000-endpoint compile (and of its reference), medians reported */
  childRuns: number;
  dir: string;
}

export const DEFAULT_POLICY_CONFIG: PolicyBenchConfig = {
  phases: [...POLICY_PHASES],
  lab: 'bpol',
  labChanges: 30,
  agents: 200,
  agentChanges: 15,
  members: 1000,
  membershipRounds: 2,
  workers: 2,
  etcdPort: 28420,
  timeoutSeconds: 300,
  childRuns: 3,
  dir: '/tmp/nl-policy-bench',
};

export const POLICY_USAGE = `usage: npm run bench -- policy [--phases flows,memory,lab,agents] [--lab NAME] [--lab-changes 30]
  [--agents 200] [--agent-changes 15] [--members 1000] [--membership-rounds 2] [--workers 2] [--etcd-port 28420]
  [--timeout-s 300] [--child-runs 3] [--quick]
  --quick: 3 lab changes, 20 agents, 5 agent changes, 100 members, 1 round, 1 child run (a smoke run)`;

function intOpt(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new NetloomError('INVALID_ARGUMENT', `--${name} must be an integer from ${min} to ${max}, got ${v ?? 'nothing'}`, {
      field: name,
    });
  return n;
}

export function parsePolicyArgs(args: readonly string[]): PolicyBenchConfig {
  const cfg: PolicyBenchConfig = { ...DEFAULT_POLICY_CONFIG, phases: [...DEFAULT_POLICY_CONFIG.phases] };
  if (args.includes('--quick'))
    Object.assign(cfg, { labChanges: 3, agents: 20, agentChanges: 5, members: 100, membershipRounds: 1, childRuns: 1 });
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    switch (a) {
      case '--quick':
        continue;
      case '--phases': {
        const list = (v ?? '').split(',').filter((s) => s !== '');
        const bad = list.filter((p) => !(POLICY_PHASES as readonly string[]).includes(p));
        if (list.length === 0 || bad.length > 0)
          throw new NetloomError(
            'INVALID_ARGUMENT',
            `--phases must be a comma list of ${POLICY_PHASES.join(', ')}; bad: ${bad.join(',') || '(empty)'}`,
            {
              field: 'phases',
            },
          );
        cfg.phases = POLICY_PHASES.filter((p) => list.includes(p));
        break;
      }
      case '--lab':
        if (!v || !/^[a-z][a-z0-9]{0,5}$/.test(v))
          throw new NetloomError(
            'INVALID_ARGUMENT',
            `--lab must be 1-6 lowercase letters or digits, starting with a letter, got ${v ?? 'nothing'}`,
            {
              field: 'lab',
            },
          );
        cfg.lab = v;
        break;
      case '--lab-changes':
        cfg.labChanges = intOpt('lab-changes', v, 1, 1000);
        break;
      case '--agents':
        cfg.agents = intOpt('agents', v, 1, 5000);
        break;
      case '--agent-changes':
        cfg.agentChanges = intOpt('agent-changes', v, 1, 1000);
        break;
      case '--members':
        cfg.members = intOpt('members', v, 1, 50_000);
        break;
      case '--membership-rounds':
        cfg.membershipRounds = intOpt('membership-rounds', v, 1, 20);
        break;
      case '--workers':
        cfg.workers = intOpt('workers', v, 0, 8);
        break;
      case '--etcd-port':
        cfg.etcdPort = intOpt('etcd-port', v, 1024, 65000);
        break;
      case '--timeout-s':
        cfg.timeoutSeconds = intOpt('timeout-s', v, 5, 3600);
        break;
      case '--child-runs':
        cfg.childRuns = intOpt('child-runs', v, 1, 20);
        break;
      default:
        throw new NetloomError('INVALID_ARGUMENT', `unknown option ${a ?? ''} (see --help)`, { field: 'args' });
    }
    i++;
  }
  return cfg;
}

/** What the phases measured (absent: the phase did not run or failed). */
export interface PolicyMeasurements {
  flows?: {
    /** one rule of 10 ports, in: the flows it adds on A's host */
    perRuleIn: number;
    /** the same rule as out (egress) */
    perRuleOut: number;
    perRuleConjunctive: number;
    perRuleCrossProduct: number;
    for100Rules: number;
    for100RulesSamePriority: number;
    /** computePipeline CPU ms of the 100-rule state and of the same state without rules */
    compileCpuMs100Rules: number;
    compileCpuMs100RulesRef: number;
  };
  memory?: {
    endpoints: number;
    contivRules: number;
    localEndpoints: number;
    flows: number;
    policyFlows: number;
    compileMs: number;
    compileCpuMs: number;
    hwmMb: number;
    ref: { flows: number; compileMs: number; compileCpuMs: number; hwmMb: number };
  };
  lab?: { hosts: number; realize: LatencySummary; restMsP50: number };
  agents?: {
    agents: number;
    workers: number;
    /** measured: the simulator's agents share its cores, so their compiles queue */
    realize: LatencySummary;
    /** as if each agent had a core of its own: arrival of the state + that agent's compile CPU */
    realizeOwn: LatencySummary;
    membership: LatencySummary;
    membershipOwn: LatencySummary;
    membershipDetach: LatencySummary;
    members: number;
    /** the agents' compiles of one state: median and longest (ms, wall, in the simulator) */
    compileMsMean: number;
    compileMaxMs: number;
    compileErrors: number;
    /** a rule change to a policy used on `concerned` agents only: updates and compiles all agents did */
    unconcerned: { concerned: number; updates: number; compiles: number };
    heartbeatFailures: number;
  };
}

export const FLOWS_PER_RULE_GOAL = 2 * (50 + 50 + 10);

const r1 = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);
const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);

/** The benchmark's last line. */
export function assemblePolicyResult(
  cfg: PolicyBenchConfig,
  m: PolicyMeasurements,
  extra: { loadAvg: { start: number[]; end: number[] }; failures: string[]; durationS: number },
): Record<string, unknown> {
  const f = m.flows;
  const mem = m.memory;
  const a = m.agents;
  return {
    benchmark: 'policy',
    flowsPerRule: f?.perRuleIn ?? null,
    flowsPerRuleEgress: f?.perRuleOut ?? null,
    flowsPerRuleGoal: FLOWS_PER_RULE_GOAL,
    flowsPerRuleConjunctive: f?.perRuleConjunctive ?? null,
    flowsPerRuleCrossProduct: f?.perRuleCrossProduct ?? null,
    flowsPerRuleShape: 'groups A (50, all local) and B (50, remote), tcp to 10 ports, in: 10 Contiv rules at one priority',
    flowsFor100Rules: f?.for100Rules ?? null,
    flowsFor100RulesShape: 'shared groups A and B, each rule its own priority (1-100) and its own 10 ports (1,000 Contiv rules)',
    flowsFor100RulesSamePriority: f?.for100RulesSamePriority ?? null,
    compileCpuMs100Rules: r1(f?.compileCpuMs100Rules),
    compileCpuMs100RulesRatio: f ? r2(f.compileCpuMs100Rules / f.compileCpuMs100RulesRef) : null,
    compileMs10k: r1(mem?.compileMs),
    compileCpuMs10k: r1(mem?.compileCpuMs),
    agentRssMb10k: r1(mem?.hwmMb),
    agentRssMb10kGoal: 150,
    flows10k: mem?.flows ?? null,
    policyFlows10k: mem?.policyFlows ?? null,
    state10k: mem ? { endpoints: mem.endpoints, contivRules: mem.contivRules, localEndpoints: mem.localEndpoints } : null,
    ref10kNoRules: mem
      ? {
          flows: mem.ref.flows,
          compileMs: r1(mem.ref.compileMs),
          compileCpuMs: r1(mem.ref.compileCpuMs),
          rssMb: r1(mem.ref.hwmMb),
          compileCpuRatio: r2(mem.compileCpuMs / mem.ref.compileCpuMs),
          rssRatio: r2(mem.hwmMb / mem.ref.hwmMb),
        }
      : null,
    realizeP50Ms: r1(m.lab?.realize.p50),
    realizeP99Ms: r1(m.lab?.realize.p99),
    realizeSamples: m.lab?.realize.samples ?? 0,
    realizeRestMsP50: r1(m.lab?.restMsP50),
    realizeP50MsAgents200: a && a.agents === 200 ? r1(a.realize.p50) : null,
    realizeP99MsAgents200: a && a.agents === 200 ? r1(a.realize.p99) : null,
    realizeP99MsAgents200OwnCore: a && a.agents === 200 ? r1(a.realizeOwn.p99) : null,
    groupMembership1000Ms: a && a.members === 1000 ? r1(a.membership.p50) : null,
    groupMembership1000MsOwnCore: a && a.members === 1000 ? r1(a.membershipOwn.p50) : null,
    agents: a
      ? {
          agents: a.agents,
          workers: a.workers,
          realizeP50Ms: r1(a.realize.p50),
          realizeP99Ms: r1(a.realize.p99),
          realizeSamples: a.realize.samples,
          realizeOwnCoreP50Ms: r1(a.realizeOwn.p50),
          realizeOwnCoreP99Ms: r1(a.realizeOwn.p99),
          members: a.members,
          membershipAttachP50Ms: r1(a.membership.p50),
          membershipAttachMaxMs: r1(a.membership.max),
          membershipAttachOwnCoreP50Ms: r1(a.membershipOwn.p50),
          membershipDetachP50Ms: r1(a.membershipDetach.p50),
          membershipRounds: a.membership.samples,
          simCompileMsMean: r1(a.compileMsMean),
          simCompileMaxMs: r1(a.compileMaxMs),
          compileErrors: a.compileErrors,
          unconcerned: a.unconcerned,
          heartbeatFailures: a.heartbeatFailures,
        }
      : null,
    loadAvg: extra.loadAvg,
    failures: extra.failures,
    durationS: extra.durationS,
    config: { phases: cfg.phases, lab: cfg.lab, labChanges: cfg.labChanges, agents: cfg.agents, members: cfg.members },
  };
}
