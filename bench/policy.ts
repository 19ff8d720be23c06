/**
 * Policy on the wire (issue 12): what the OVS backend costs and how fast a change is enforced.
 * Phases (--phases, all by default):
 *  - flows: the flows one rule between groups A (50 endpoints, all on the measured host) and B
 *    (50, remote) over 10 tcp ports adds to a host's pipeline, computed with the real
 *    computePipeline (bench/support/policy-state.ts; a Contiv rule names one port, so that rule is
 *    10 Contiv rules at one priority); the same for 100 such rules; CPU time of that compile
 *    against the same state without rules.
 *  - memory: a child process per run (support/policy-compile-child.ts) receives the state of a
 *    host with 10,000 endpoints (100 pairs of groups of 50) and 1,000 Contiv rules (100 rules of
 *    10 ports, in for even pairs, out for odd ones; 100 local endpoints, one per policy group,
 *    so every rule applies here) as text, parses it and computes the pipeline: peak RSS and
 *    compile time, against the same state without rules.
 *  - lab: `netloom-lab --lab NAME up --hosts 3` (etcd, netmaster, a real netplugin per host), a
 *    container of group a (policy p) and one of group b on every host; then per change a rule
 *    `in allow tcp/PORT from b` is POSTed to netmaster's REST API and every host's br-int table
 *    ingressPolicy is dumped (ovs-ofctl in the host's netns) until it shows tp_dst=PORT: REST
 *    call to the last host. The lab is taken down afterwards.
 *  - agents: one netmaster on a 3-member etcd, N simulated agents (tools/agent-sim, real gRPC
 *    clients) that compile every state with the real computePipeline (coalesced, as the agent's
 *    reconcile loop) and keep the flows in memory. Rule changes to the policy of group web (one
 *    endpoint per agent): REST call to the last agent whose compiled flows hold the rule. Then a
 *    group of --members endpoints (spread evenly over the agents) gets a policy attached (REST
 *    update of the group): to the last agent with that policy's flows; and detached. A change to
 *    a policy used on 10 agents only shows what the others receive and compile (nothing).
 * Progress goes to stderr, a summary and the JSON line (last) to stdout. Root for lab and agents.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../lib/clock';
import { errorMessage } from '../lib/errors';
import { run as exec } from '../lib/exec';
import { computePipeline } from '../netplugin/pipeline/compute';
import { table } from '../netplugin/pipeline/tables';
import { ControlPlane, RestClient } from '../tools/agent-sim/cluster';
import { labRestCredentials } from '../deploy/lab/pki';
import { planLab } from '../deploy/lab/plan';
import { crossProcessNow, type Condition } from '../tools/agent-sim/conditions';
import { AgentSimulator, simHostName, simVtepIp, type AgentWatch } from '../tools/agent-sim/simulator';
import { createEndpoint, createNetwork, inFlight } from '../tools/agent-sim/topology';
import type { ChildResult } from './support/policy-compile-child';
import {
  assemblePolicyResult,
  parsePolicyArgs,
  POLICY_USAGE,
  type PolicyBenchConfig,
  type PolicyMeasurements,
} from './support/policy-report';
import { policyInput, ruleFlowFigures, type PolicyStateSpec } from './support/policy-state';
import { median } from './support/dataplane-report';
import { summarize } from './support/scale-report';
import { runIfMain } from './support/standalone';

export const description =
  'policy: flows per rule, 10,000-endpoint compile RSS, rule change to flows on 3 lab hosts and on 200 simulated agents';

function progress(msg: string): void {
  process.stderr.write(`[policy ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const fmt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : String(Math.round(x)));

/** The issue's rule: A 50 local, B 50 remote, 10 tcp ports, one priority. */
export const ONE_RULE: PolicyStateSpec = {
  pairs: 1,
  groupA: 50,
  groupB: 50,
  localA: 50,
  rulesPerPair: 1,
  ports: 10,
  direction: 'in',
  samePriority: true,
};

/** 10,000 endpoints, 1,000 Contiv rules, one local endpoint in each of the 100 policy groups. */
export const STATE_10K: PolicyStateSpec = {
  pairs: 100,
  groupA: 50,
  groupB: 50,
  localA: 1,
  rulesPerPair: 1,
  ports: 10,
  direction: 'mixed',
  samePriority: true,
};

function cpuMsOf(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

function flowsPhase(): NonNullable<PolicyMeasurements['flows']> {
  const one = ruleFlowFigures(ONE_RULE);
  const out = ruleFlowFigures({ ...ONE_RULE, direction: 'out' });
  const hundred: PolicyStateSpec = { ...ONE_RULE, rulesPerPair: 100, samePriority: false };
  const h = ruleFlowFigures(hundred);
  const hSame = ruleFlowFigures({ ...hundred, samePriority: true });
  // compile CPU: median of 3, each on a fresh input (the pipeline is memoised per input object)
  const cpu = (s: PolicyStateSpec) =>
    median(
      [0, 1, 2].map(() => {
        const input = policyInput(s);
        return cpuMsOf(() => computePipeline(input));
      }),
    );
  const r = {
    perRuleIn: one.added,
    perRuleOut: out.added,
    perRuleConjunctive: one.conjunctive,
    perRuleCrossProduct: one.crossProduct,
    for100Rules: h.added,
    for100RulesSamePriority: hSame.added,
    compileCpuMs100Rules: cpu(hundred),
    compileCpuMs100RulesRef: cpu({ ...hundred, noRules: true }),
  };
  progress(
    `flows: one rule ${r.perRuleIn} (out: ${r.perRuleOut}; conjunction ideal ${r.perRuleConjunctive}, cross product ${r.perRuleCrossProduct}); ` +
      `100 rules ${r.for100Rules} (same priority: ${r.for100RulesSamePriority}); compile ${fmt(r.compileCpuMs100Rules)} ms CPU vs ${fmt(r.compileCpuMs100RulesRef)} without rules`,
  );
  return r;
}

function runChild(spec: PolicyStateSpec): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'support', 'policy-compile-child.js'), [JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: [],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`compile child exited ${code}: ${out.slice(-500)}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

async function memoryPhase(cfg: PolicyBenchConfig): Promise<NonNullable<PolicyMeasurements['memory']>> {
  const runs: ChildResult[] = [];
  const refs: ChildResult[] = [];
  for (let i = 0; i < cfg.childRuns; i++) {
    // alternate, so that load changes hit both alike
    runs.push(await runChild(STATE_10K));
    refs.push(await runChild({ ...STATE_10K, noRules: true }));
  }
  const med = (xs: ChildResult[], k: keyof ChildResult) => median(xs.map((x) => x[k]));
  const r = {
    endpoints: runs[0]!.endpoints,
    contivRules: runs[0]!.contivRules,
    localEndpoints: STATE_10K.pairs * STATE_10K.localA,
    flows: runs[0]!.flows,
    policyFlows: runs[0]!.policyFlows,
    compileMs: med(runs, 'compileMs'),
    compileCpuMs: med(runs, 'compileCpuMs'),
    hwmMb: med(runs, 'hwmMb'),
    ref: { flows: refs[0]!.flows, compileMs: med(refs, 'compileMs'), compileCpuMs: med(refs, 'compileCpuMs'), hwmMb: med(refs, 'hwmMb') },
  };
  progress(
    `10k: ${r.endpoints} endpoints, ${r.contivRules} Contiv rules: ${r.flows} flows (${r.policyFlows} policy), compile ${fmt(r.compileMs)} ms (${fmt(r.compileCpuMs)} CPU), ` +
      `peak RSS ${fmt(r.hwmMb)} MiB; without rules ${r.ref.flows} flows, ${fmt(r.ref.compileMs)} ms (${fmt(r.ref.compileCpuMs)} CPU), ${fmt(r.ref.hwmMb)} MiB`,
  );
  return r;
}

// ---------- lab ----------

const LAB_BIN = join(__dirname, '..', '..', 'bin', 'netloom-lab');
const LAB_TENANT = 'bpl';

interface LabHost {
  name: string;
  netns: string;
  ovsRunDir: string;
}

async function lab(name: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return (await exec(LAB_BIN, ['--lab', name, ...args], { timeoutMs })).stdout;
}

/** The time (crossProcessNow) host `h` first shows a flow matching tcp port `port` in ingressPolicy. */
async function flowSeen(h: LabHost, port: number, deadline: number): Promise<number> {
  const re = new RegExp(`tp_dst=${port}\\b`);
  const t = table('ingressPolicy');
  for (;;) {
    const r = await exec('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${h.ovsRunDir}/br-int.mgmt`, `table=${t}`], {
      netns: h.netns,
      timeoutMs: 10_000,
      allowFailure: true,
    });
    const at = crossProcessNow();
    if (r.code === 0 && re.test(r.stdout)) return at;
    if (at > deadline) throw new Error(`${h.name}: no flow for tcp/${port} in table ${t} in time`);
  }
}

async function labPhase(cfg: PolicyBenchConfig): Promise<NonNullable<PolicyMeasurements['lab']>> {
  const name = cfg.lab;
  const existing = await exec(LAB_BIN, ['--lab', name, 'status', '-o', 'json'], { allowFailure: true, timeoutMs: 30_000 });
  if (existing.code === 0)
    throw new Error(`lab ${name} is already up: take it down first (bin/netloom-lab --lab ${name} down) or pick another --lab`);
  progress(`lab ${name}: up --hosts 3`);
  try {
    await lab(name, ['up', '--hosts', '3'], 300_000);
    const status = JSON.parse(await lab(name, ['status', '-o', 'json'])) as {
      hosts: LabHost[];
      netmasters: Array<{ url: string }>;
    };
    const hosts = status.hosts.map((h) => ({ name: h.name, netns: h.netns, ovsRunDir: h.ovsRunDir }));
    // the lab's REST API wants its admin certificate (deploy/lab/pki.ts)
    const rest = new RestClient(status.netmasters[0]!.url, labRestCredentials(planLab({ name, hosts: 3, etcdMembers: 1 })));
    try {
      await rest.mustPost(`/api/v1/tenants/${LAB_TENANT}/`, { tenantName: LAB_TENANT });
      await rest.mustPost(`/api/v1/networks/${LAB_TENANT}:net/`, {
        tenantName: LAB_TENANT,
        networkName: 'net',
        encap: 'vxlan',
        pktTag: 7100,
        subnet: '10.71.0.0/24',
        gateway: '10.71.0.1',
      });
      await rest.mustPost(`/api/v1/policys/${LAB_TENANT}:p/`, { tenantName: LAB_TENANT, policyName: 'p' });
      for (const [g, policies] of [
        ['a', ['p']],
        ['b', []],
      ] as const)
        await rest.mustPost(`/api/v1/endpointGroups/${LAB_TENANT}:${g}/`, {
          tenantName: LAB_TENANT,
          groupName: g,
          networkName: 'net',
          policies,
        });
      for (const [i, h] of hosts.entries())
        for (const g of ['a', 'b'])
          await lab(name, ['run', h.name, `${g}${i + 1}`, '--tenant', LAB_TENANT, '--network', 'net', '--group', g]);
      progress(`lab ${name}: 3 hosts, a container of group a (policy p) and of group b on each; ${cfg.labChanges} rule changes`);
      const lat: number[] = [];
      const restMs: number[] = [];
      for (let k = 0; k < cfg.labChanges; k++) {
        const port = 3000 + k;
        const sent = crossProcessNow();
        const deadline = sent + cfg.timeoutSeconds * 1000;
        const seen = Promise.all(hosts.map((h) => flowSeen(h, port, deadline)));
        const r = await rest.mustPost(`/api/v1/rules/${LAB_TENANT}:p:r${k}/`, {
          tenantName: LAB_TENANT,
          policyName: 'p',
          ruleId: `r${k}`,
          direction: 'in',
          priority: 1 + (k % 100),
          fromEndpointGroup: 'b',
          protocol: 'tcp',
          port,
          action: 'allow',
        });
        restMs.push(r.__ms);
        lat.push(Math.max(...(await seen)) - sent);
      }
      const realize = summarize(lat);
      progress(
        `lab: rule change to flows on all 3 hosts p50 ${fmt(realize.p50)} p99 ${fmt(realize.p99)} ms (${lat.length}), REST p50 ${fmt(median(restMs))} ms`,
      );
      return { hosts: hosts.length, realize, restMsP50: median(restMs) };
    } finally {
      rest.close();
    }
  } finally {
    progress(`lab ${name}: down`);
    await lab(name, ['down'], 300_000).catch((e: unknown) => progress(`lab down failed: ${errorMessage(e)}`));
  }
}

// ---------- simulated agents ----------

const SIM_TENANT = 'pol';
const NET = 'net-a';

function ruleBody(policy: string, ruleId: string, port: number, priority: number): Record<string, unknown> {
  return {
    tenantName: SIM_TENANT,
    policyName: policy,
    ruleId,
    direction: 'in',
    priority,
    fromEndpointGroup: 'clients',
    protocol: 'tcp',
    port,
    action: 'allow',
  };
}

class AgentsPhase {
  private cp: ControlPlane | undefined;
  private rest: RestClient | undefined;
  private sim: AgentSimulator | undefined;
  private readonly timeoutMs: number;
  private readonly dir: string;

  constructor(private readonly cfg: PolicyBenchConfig) {
    this.timeoutMs = cfg.timeoutSeconds * 1000;
    this.dir = join(cfg.dir, 'agents');
  }

  /** When the last agent held `w`: as measured, and as if every agent had a core of its own. */
  private async must(w: AgentWatch, what: string): Promise<{ at: number; ownAt: number }> {
    const r = await w.wait(this.timeoutMs);
    if (!r.ok)
      throw new Error(
        `${what}: ${r.missingCount} of ${r.agents} agents did not get ${r.what} in time (e.g. ${r.missing.slice(0, 3).join(', ')})`,
      );
    return { at: r.lastAt, ownAt: r.lastOwnAt };
  }

  private group(name: string, policies: string[]): Promise<unknown> {
    return this.rest!.mustPost(`/api/v1/endpointGroups/${SIM_TENANT}:${name}/`, {
      tenantName: SIM_TENANT,
      groupName: name,
      networkName: NET,
      policies,
    });
  }

  private async startAgents(endpoints: number): Promise<void> {
    const n = this.cfg.agents;
    this.sim = new AgentSimulator({
      addresses: this.cp!.grpcAddresses,
      agents: n,
      workers: this.cfg.workers,
      // slower than scale's 200/s: every agent compiles its first snapshot while the others connect
      ratePerSec: 50,
      compile: true,
      logFile: join(this.dir, 'logs', 'agents.log'),
      workerExecArgv: ['--max-old-space-size=4096'],
    });
    const all = await this.sim.watchAll({ kind: 'endpointCount', network: `${SIM_TENANT}:${NET}`, atLeast: endpoints });
    const t0 = crossProcessNow();
    await this.sim.start();
    const { at } = await this.must(all, 'agents start');
    progress(`agents: ${n} started (50/s), every one compiled its ${endpoints} endpoints in ${fmt(at - t0)} ms`);
  }

  private async stopAgents(): Promise<void> {
    const sim = this.sim;
    this.sim = undefined;
    await sim?.stop();
  }

  async run(): Promise<NonNullable<PolicyMeasurements['agents']>> {
    const { cfg } = this;
    const n = cfg.agents;
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    try {
      progress(`agents: 3-member etcd (127.0.0.1:${cfg.etcdPort}-${cfg.etcdPort + 5}) + netmaster; logs in ${join(this.dir, 'logs')}`);
      this.cp = await ControlPlane.start({
        name: 'nl-policy',
        etcdBasePort: cfg.etcdPort,
        etcdMembers: 3,
        replicas: 1,
        dataDir: this.dir,
        netmasterArgs: ['--dead-host-grace', '3600'],
        // heartbeats every 20 s: a worker busy with a queue of compiles must not lose its agents' leases
        agentLeaseTtl: 60,
      });
      this.rest = new RestClient(this.cp.netmasters[0]!.rest);
      const rest = this.rest;
      await rest.mustPost(`/api/v1/tenants/${SIM_TENANT}/`, { tenantName: SIM_TENANT });
      await createNetwork(rest, SIM_TENANT, NET, '10.64.0.0/16', 6400);
      for (const p of ['p', 'q', 'pm'])
        await rest.mustPost(`/api/v1/policys/${SIM_TENANT}:${p}/`, { tenantName: SIM_TENANT, policyName: p });
      await this.group('clients', []);
      await rest.mustPost(`/api/v1/rules/${SIM_TENANT}:p:base/`, ruleBody('p', 'base', 80, 1));
      await rest.mustPost(`/api/v1/rules/${SIM_TENANT}:q:base/`, ruleBody('q', 'base', 81, 1));
      await rest.mustPost(`/api/v1/rules/${SIM_TENANT}:pm:m0/`, ruleBody('pm', 'm0', 5432, 1));
      await this.group('web', ['p']);
      await this.group('other', ['q']);
      await this.group('members', []);
      const concerned = Math.min(10, n);
      const clients = 50;
      // web: one per agent; clients: 50 on 5 hosts that are not simulated; other: one on each of the first 10 agents
      const eps: Array<[string, string, string]> = [];
      for (let i = 0; i < n; i++) eps.push(['web', simHostName(i), simVtepIp(i)]);
      for (let i = 0; i < clients; i++) eps.push(['clients', `peer-${i % 5}`, `172.21.0.${(i % 5) + 1}`]);
      for (let i = 0; i < concerned; i++) eps.push(['other', simHostName(i), simVtepIp(i)]);
      const create = (list: Array<[string, string, string]>, from: number) =>
        inFlight(list.length, 8, (i) =>
          createEndpoint(rest, SIM_TENANT, NET, list[i]![0], list[i]![1], `ep-${from + i}`, this.timeoutMs, list[i]![2]),
        );
      await create(eps, 0);
      progress(`agents: ${eps.length} endpoints (web ${n}, clients ${clients}, other ${concerned})`);
      await this.startAgents(eps.length);

      // rule changes to p (every agent has a web endpoint)
      const lat: number[] = [];
      const own: number[] = [];
      for (let k = 0; k < cfg.agentChanges; k++) {
        const w = await this.sim!.watchAll({ kind: 'ruleFlows', ruleIds: [`${SIM_TENANT}:p/r${k}`] });
        const sent = crossProcessNow();
        await rest.mustPost(`/api/v1/rules/${SIM_TENANT}:p:r${k}/`, ruleBody('p', `r${k}`, 2000 + k, 1 + (k % 100)));
        const done = await this.must(w, `rule change r${k}`);
        lat.push(done.at - sent);
        own.push(done.ownAt - sent);
      }
      const realize = summarize(lat);
      const realizeOwn = summarize(own);
      progress(
        `agents: rule change to compiled flows on the last of ${n} agents p50 ${fmt(realize.p50)} p99 ${fmt(realize.p99)} ms ` +
          `(each agent on a core of its own: p50 ${fmt(realizeOwn.p50)} p99 ${fmt(realizeOwn.p99)} ms)`,
      );

      // a change that concerns `concerned` agents only: what do the others get?
      const s0 = await this.sim!.stats();
      const wq = await this.sim!.watchAll({ kind: 'ruleFlows', ruleIds: [`${SIM_TENANT}:q/q1`] });
      await rest.mustPost(`/api/v1/rules/${SIM_TENANT}:q:q1/`, ruleBody('q', 'q1', 2999, 2));
      await waitFor('the concerned agents compile q1', () => wq.held >= concerned, { timeoutMs: this.timeoutMs, intervalMs: 20 });
      // give stray updates to the others a moment to show (there should be none)
      await new Promise((r) => setTimeout(r, 1000));
      await wq.wait(0);
      const s1 = await this.sim!.stats();
      const unconcerned = { concerned, updates: s1.updates - s0.updates, compiles: s1.compiles - s0.compiles };
      progress(
        `agents: a change of a policy used on ${concerned} agents: ${unconcerned.updates} updates, ${unconcerned.compiles} compiles over all ${n}`,
      );

      // the members group: its endpoints spread evenly over the agents, made while the agents are
      // stopped (each endpoint add would otherwise be 200 recompiles), then the agents come back
      await this.stopAgents();
      const members: Array<[string, string, string]> = [];
      for (let i = 0; i < cfg.members; i++) members.push(['members', simHostName(i % n), simVtepIp(i % n)]);
      await create(members, eps.length);
      progress(`agents: ${cfg.members} endpoints in group members (no policy yet); agents back`);
      await this.startAgents(eps.length + members.length);

      // attach pm to the members group (and detach it), rounds
      const attach: number[] = [];
      const attachOwn: number[] = [];
      const detach: number[] = [];
      const pm = [`${SIM_TENANT}:pm/m0`];
      for (let k = 0; k < cfg.membershipRounds; k++) {
        const w = await this.sim!.watchAll({ kind: 'ruleFlows', ruleIds: pm });
        const t0 = crossProcessNow();
        await this.group('members', ['pm']);
        const done = await this.must(w, 'policy attached to the members group');
        attach.push(done.at - t0);
        attachOwn.push(done.ownAt - t0);
        const wd = await this.sim!.watchAll({ kind: 'ruleFlows', ruleIds: pm, absent: true } satisfies Condition);
        const t1 = crossProcessNow();
        await this.group('members', []);
        detach.push((await this.must(wd, 'policy detached from the members group')).at - t1);
      }
      const membership = summarize(attach);
      const membershipOwn = summarize(attachOwn);
      const membershipDetach = summarize(detach);
      progress(
        `agents: policy attached to a group of ${cfg.members} endpoints, flows on every agent: ${attach.map(fmt).join(', ')} ms ` +
          `(own core: ${attachOwn.map(fmt).join(', ')} ms); detached: ${detach.map(fmt).join(', ')} ms`,
      );
      const st = await this.sim!.stats();
      return {
        agents: n,
        workers: cfg.workers,
        realize,
        realizeOwn,
        membership,
        membershipOwn,
        membershipDetach,
        members: cfg.members,
        compileMsMean: st.compiles > 0 ? st.compileMs / st.compiles : Number.NaN,
        compileMaxMs: st.compileMaxMs,
        compileErrors: st.compileErrors,
        unconcerned,
        heartbeatFailures: st.heartbeatFailures,
      };
    } finally {
      await this.stopAgents();
      this.rest?.close();
      await this.cp?.stop();
    }
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${POLICY_USAGE}\n`);
    return;
  }
  const cfg = parsePolicyArgs(args);
  mkdirSync(cfg.dir, { recursive: true });
  const started = performance.now();
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const m: PolicyMeasurements = {};
  const failures: string[] = [];
  const phase = async <T>(name: string, f: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      failures.push(`${name}: ${errorMessage(e)}`);
      progress(`${name}: FAILED: ${errorMessage(e)}`);
      return undefined;
    }
  };
  if (cfg.phases.includes('flows')) m.flows = await phase('flows', flowsPhase);
  if (cfg.phases.includes('memory')) m.memory = await phase('memory', () => memoryPhase(cfg));
  if (cfg.phases.includes('lab')) m.lab = await phase('lab', () => labPhase(cfg));
  if (cfg.phases.includes('agents')) m.agents = await phase('agents', () => new AgentsPhase(cfg).run());
  const loadEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const result = assemblePolicyResult(cfg, m, {
    loadAvg: { start: loadStart, end: loadEnd },
    failures,
    durationS: Math.round((performance.now() - started) / 1000),
  });
  process.stdout.write(
    `flows per rule ${m.flows?.perRuleIn ?? '-'} (goal <= 220, cross product 25,000); 100 rules ${m.flows?.for100Rules ?? '-'}; ` +
      `10k: peak RSS ${fmt(m.memory?.hwmMb)} MiB (goal <= 150), compile ${fmt(m.memory?.compileMs)} ms; ` +
      `lab realize p50/p99 ${fmt(m.lab?.realize.p50)}/${fmt(m.lab?.realize.p99)} ms; ` +
      `${cfg.agents} agents realize p99 ${fmt(m.agents?.realize.p99)} ms, ${cfg.members}-member attach ${fmt(m.agents?.membership.p50)} ms; ` +
      `load ${loadStart[0]} -> ${loadEnd[0]}${failures.length ? `; FAILED: ${failures.join('; ')}` : ''}\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runIfMain(module, run);
