/**
 * Control plane at scale (issue 11): simulated agents (tools/agent-sim: real NetmasterClients,
 * one gRPC channel each, in worker processes) against netmaster processes on a real etcd, all on
 * this machine. Per run (N agents on R replicas; a fresh etcd, 1 member, 3 for R > 1, on
 * 127.0.0.1:28400-28405, data and logs under /tmp/nl-scale/):
 *  - topology: tenant `scale`, VXLAN network net-a, group web with policy p (2 rules); one endpoint
 *    per agent in net-a/web homed on its host (REST, 8 in flight, before the agents start),
 *    recorded with its host's VTEP as the agent's CreateEndpoint records it (without it every
 *    registration would change every other host's view: a storm real agents never cause);
 *  - connect: the agents start (200/s); time until all applied their first snapshot, and until
 *    all hold the N endpoints of net-a;
 *  - idle: netmaster CPU over --idle-s with every agent connected;
 *  - rule change (x --rule-changes): POST a rule to p; REST send → the last agent that holds it;
 *    netmaster CPU per change (utime+stime over the phase / changes);
 *  - endpoint add (x --endpoint-adds): one endpoint in net-a on sim-00000 → the last agent;
 *  - burst: --burst rules, 8 in flight; first send → every agent holds all; slowest GET /version;
 *  - held: --held endpoints in network net-b homed on --held-hosts host names that are NOT
 *    simulated (held-00 ...); by default the agents stop while they are created and reconnect
 *    after (a fresh snapshot, timed), --held-live keeps them connected; then the rule changes again;
 *  - netmaster RSS and peak RSS (max over replicas), heartbeat failures of the agents.
 * Every wait has a deadline (--timeout-s): what did not arrive is reported in `failures` and the
 * run's later phases are skipped. netmaster runs with --dead-host-grace 3600 so that agents that
 * are stopped for the held phase, or that miss heartbeats, keep their endpoints. netmaster logs
 * go to files under the run's directory; progress lines to stderr; the JSON line is the last line
 * of stdout.
 * Usage: npm run bench -- scale [--quick] [--agents 200,1000] [--replica-agents 3000] [--no-replicas] ... (--help)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import { AgentSimulator, simHostName, simVtepIp, type AgentWatch } from '../tools/agent-sim/simulator';
import { ControlPlane, processCpuMs, processMemory, RestClient } from '../tools/agent-sim/cluster';
import { crossProcessNow, type Condition } from '../tools/agent-sim/conditions';
import {
  createEndpoint,
  createNetwork,
  createTopology,
  DEFAULT_TOPOLOGY as T,
  inFlight,
  ruleBody,
  rulePath,
  networkOf,
} from '../tools/agent-sim/topology';
import {
  assembleScaleResult,
  parseScaleArgs,
  runSuffix,
  SCALE_USAGE,
  summarize,
  type RunResult,
  type ScaleConfig,
} from './support/scale-report';
import { runIfMain } from './support/standalone';

export const description =
  'simulated agents (200, 1,000; 3,000 on 3 replicas): rule change and endpoint add to the last host, burst, CPU, RSS';

/** A phase that cannot go on (a deadline passed, netmaster died): the run stops there. */
class PhaseFailed extends Error {}

function progress(msg: string): void {
  process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What is running now, stopped on failure and on SIGINT/SIGTERM. */
const active = new Set<() => Promise<void>>();

async function stopActive(): Promise<void> {
  for (const stop of [...active].reverse()) {
    try {
      await stop();
    } catch (e) {
      progress(`cleanup failed: ${errorMessage(e)}`);
    }
  }
  active.clear();
}

class Run {
  readonly result: RunResult;
  private cp: ControlPlane | undefined;
  private rest: RestClient | undefined;
  private sim: AgentSimulator | undefined;
  private readonly timeoutMs: number;
  private readonly stop = (): Promise<void> => this.teardown();

  constructor(
    private readonly cfg: ScaleConfig,
    private readonly n: number,
    private readonly replicas: number,
  ) {
    this.timeoutMs = cfg.timeoutSeconds * 1000;
    this.result = {
      agents: n,
      replicas,
      etcdMembers: replicas > 1 ? 3 : 1,
      workers: cfg.workers ?? (n <= 300 ? 1 : 2),
      heartbeatFailures: 0,
      leaseLosses: 0,
      failures: [],
    };
  }

  private get tag(): string {
    return runSuffix(this.n, this.replicas);
  }

  private get dir(): string {
    return join(this.cfg.dir, `run-${this.n}-${this.replicas}`);
  }

  /** Every agent holds every endpoint of its network (several networks: the smallest one's count). */
  private allEndpoints(): Condition {
    const K = this.cfg.networks;
    return K === 1
      ? { kind: 'endpointCount', network: T.networkKey, atLeast: this.n }
      : { kind: 'endpointCount', network: '', atLeast: Math.floor(this.n / K) };
  }

  private netmasterCpuMs(): number {
    let sum = 0;
    for (const nm of this.cp?.netmasters ?? []) {
      const c = processCpuMs(nm.pid);
      if (c === undefined) throw new PhaseFailed(`netmaster ${nm.pid} (${nm.rest}) is gone (log: ${nm.log})`);
      sum += c;
    }
    return sum;
  }

  private newSimulator(): AgentSimulator {
    return new AgentSimulator({
      addresses: this.cp!.grpcAddresses,
      agents: this.n,
      workers: this.result.workers,
      ratePerSec: this.cfg.rate,
      logFile: join(this.dir, 'logs', 'agents.log'),
      workerExecArgv: ['--max-old-space-size=4096'],
    });
  }

  /** Wait for `w`; a miss fails the phase with what did not arrive. */
  private async must(w: AgentWatch, what: string, timeoutMs = this.timeoutMs): Promise<number> {
    const r = await w.wait(timeoutMs);
    if (!r.ok)
      throw new PhaseFailed(
        `${what}: ${r.missingCount} of ${r.agents} agents did not get ${r.what} within ${Math.round(timeoutMs / 1000)} s (e.g. ${r.missing.slice(0, 5).join(', ')})`,
      );
    return r.lastAt;
  }

  async run(): Promise<RunResult> {
    const started = performance.now();
    active.add(this.stop);
    try {
      await this.phases();
    } catch (e) {
      const msg = e instanceof PhaseFailed ? e.message : `error: ${errorMessage(e)}`;
      this.result.failures.push(msg);
      progress(`${this.tag}: FAILED: ${msg}`);
    } finally {
      await this.collect().catch((e: unknown) => this.result.failures.push(`collecting figures: ${errorMessage(e)}`));
      await this.teardown();
      active.delete(this.stop);
      this.result.durationS = Math.round((performance.now() - started) / 100) / 10;
    }
    return this.result;
  }

  private async phases(): Promise<void> {
    const { cfg, n } = this;
    progress(`${this.tag}: etcd (${this.result.etcdMembers}) + ${this.replicas} netmaster(s)`);
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    this.cp = await ControlPlane.start({
      name: `nl-scale-${n}-${this.replicas}`,
      etcdBasePort: cfg.basePort,
      etcdMembers: this.replicas > 1 ? 3 : 1,
      replicas: this.replicas,
      dataDir: this.dir,
      agentLeaseTtl: cfg.leaseTtl,
      netmasterArgs: ['--dead-host-grace', '3600'],
    });
    this.rest = new RestClient(this.cp.netmasters[0]!.rest);
    const rest = this.rest;
    progress(`${this.tag}: netmaster logs in ${join(this.dir, 'logs')}`);
    const K = cfg.networks;
    await createTopology(rest, T, 2, K);
    await inFlight(
      n,
      8,
      (i) => {
        const net = networkOf(T, i % K, K);
        return createEndpoint(rest, T.tenant, net.network, net.group, simHostName(i), `sim-${i}`, this.timeoutMs, simVtepIp(i));
      },
      (d) => progress(`${this.tag}: ${d}/${n} agent endpoints`),
    );

    // connect
    this.sim = this.newSimulator();
    const snap = await this.sim.watchAll({ kind: 'snapshot' });
    // every agent holds every endpoint of its network (with several networks, at least the smallest's count)
    const all = await this.sim.watchAll(this.allEndpoints());
    progress(`${this.tag}: starting ${n} agents (${cfg.rate}/s, ${this.result.workers} worker process(es))`);
    const t0 = crossProcessNow();
    await this.sim.start();
    const rampMs = (n / cfg.rate) * 1000;
    this.result.snapshotMs = (await this.must(snap, 'connect', this.timeoutMs + rampMs)) - t0;
    this.result.allEndpointsMs = (await this.must(all, 'connect', this.timeoutMs + rampMs)) - t0;
    progress(
      `${this.tag}: all snapshots in ${Math.round(this.result.snapshotMs)} ms, all ${n} endpoints in ${Math.round(this.result.allEndpointsMs)} ms`,
    );

    // idle
    await sleep(2000);
    const idleCpu0 = this.netmasterCpuMs();
    const idle0 = performance.now();
    await sleep(cfg.idleSeconds * 1000);
    const idleRate = (this.netmasterCpuMs() - idleCpu0) / (performance.now() - idle0);
    this.result.idleCpuPct = idleRate * 100;
    progress(`${this.tag}: idle netmaster CPU ${this.result.idleCpuPct.toFixed(1)} % of a core`);

    // rule changes
    const rc = await this.ruleChanges('r', idleRate);
    this.result.ruleChange = rc.summary;
    this.result.cpuMsPerChange = rc.cpuMsPerChange;
    this.result.cpuMsPerChangeNetOfIdle = rc.netOfIdle;

    // endpoint adds
    const adds: number[] = [];
    const addStart = performance.now();
    for (let k = 0; k < cfg.endpointAdds && !this.overBudget(addStart, adds.length); k++) {
      // one endpoint in each network (on the first agent of each): every agent waits for its own
      const ids = Array.from({ length: K }, (_, j) => `add-${k}-${j}`);
      const w = await this.sim.watchAll(K === 1 ? { kind: 'endpoint', containerId: ids[0]! } : { kind: 'endpoint', containerIds: ids });
      const sent = crossProcessNow();
      for (let j = 0; j < K; j++) {
        const net = networkOf(T, j, K);
        await createEndpoint(rest, T.tenant, net.network, net.group, simHostName(j), ids[j]!, this.timeoutMs, simVtepIp(j));
      }
      adds.push((await this.must(w, `endpoint add ${k + 1}`)) - sent);
    }
    this.result.endpointAdd = summarize(adds);
    progress(
      `${this.tag}: endpoint add p50 ${fmt(this.result.endpointAdd.p50)} p99 ${fmt(this.result.endpointAdd.p99)} ms (${adds.length})`,
    );

    // burst
    await this.burst();

    // held endpoints elsewhere
    if (cfg.held > 0) await this.heldPhase(idleRate);
  }

  private overBudget(since: number, samples: number): boolean {
    return samples >= 3 && performance.now() - since > this.cfg.phaseBudgetSeconds * 1000;
  }

  /** --rule-changes rule changes, one at a time, each to the last agent. */
  private async ruleChanges(
    prefix: string,
    idleRate: number,
  ): Promise<{ summary: ReturnType<typeof summarize>; cpuMsPerChange: number; netOfIdle: number }> {
    const lat: number[] = [];
    const cpu0 = this.netmasterCpuMs();
    const start = performance.now();
    for (let k = 0; k < this.cfg.ruleChanges && !this.overBudget(start, lat.length); k++) {
      const id = `${prefix}${k}`;
      const w = await this.sim!.watchAll({ kind: 'rules', policy: T.policyKey, ruleIds: [id] });
      const sent = crossProcessNow();
      const r = await this.rest!.post(rulePath(T, id), ruleBody(T, id, 1000 + k), this.timeoutMs);
      if (r.status !== 200) throw new PhaseFailed(`rule change ${id}: REST ${r.status} ${r.text.slice(0, 200)}`);
      lat.push((await this.must(w, `rule change ${id} (REST answered in ${Math.round(r.ms)} ms)`)) - sent);
    }
    const elapsed = performance.now() - start;
    const cpu = this.netmasterCpuMs() - cpu0;
    const summary = summarize(lat);
    const cpuMsPerChange = cpu / Math.max(1, lat.length);
    const netOfIdle = Math.max(0, cpu - idleRate * elapsed) / Math.max(1, lat.length);
    progress(
      `${this.tag}: rule change (${prefix}) p50 ${fmt(summary.p50)} p99 ${fmt(summary.p99)} ms (${lat.length}); netmaster CPU ${fmt(cpuMsPerChange)} ms/change (${fmt(netOfIdle)} net of idle)`,
    );
    return { summary, cpuMsPerChange, netOfIdle };
  }

  private async burst(): Promise<void> {
    const { cfg } = this;
    const ids = Array.from({ length: cfg.burst }, (_, i) => `b${i}`);
    const w = await this.sim!.watchAll({ kind: 'rules', policy: T.policyKey, ruleIds: ids } satisfies Condition);
    const probe = new RestClient(this.cp!.netmasters[0]!.rest);
    let versionMax = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        try {
          await probe.get('/version', this.timeoutMs);
        } catch {
          // counted by its time below
        }
        versionMax = Math.max(versionMax, performance.now() - t);
        await sleep(100);
      }
    })();
    try {
      const t0 = crossProcessNow();
      const p0 = performance.now();
      await inFlight(cfg.burst, cfg.burstWidth, async (i) => {
        const r = await this.rest!.post(rulePath(T, ids[i]!), ruleBody(T, ids[i]!, 2000 + i), this.timeoutMs);
        if (r.status !== 200) throw new PhaseFailed(`burst rule ${ids[i]}: REST ${r.status} ${r.text.slice(0, 200)}`);
      });
      this.result.burstRestMs = performance.now() - p0;
      this.result.burstConvergeMs =
        (await this.must(w, `burst of ${cfg.burst} (REST done in ${Math.round(this.result.burstRestMs)} ms)`)) - t0;
    } finally {
      polling = false;
      await poller;
      probe.close();
      this.result.versionMaxMs = versionMax;
    }
    progress(
      `${this.tag}: burst of ${cfg.burst}: REST done in ${fmt(this.result.burstRestMs)} ms, every agent has all in ${fmt(this.result.burstConvergeMs)} ms; GET /version max ${fmt(versionMax)} ms`,
    );
  }

  private async heldPhase(idleRate: number): Promise<void> {
    const { cfg } = this;
    const rest = this.rest!;
    this.result.held = cfg.held;
    if (!cfg.heldLive) {
      progress(`${this.tag}: stopping the agents while ${cfg.held} endpoints are created in net-b`);
      await this.stopSimulator();
    }
    await createNetwork(rest, T.tenant, 'net-b', '10.65.0.0/16', 6500);
    const c0 = performance.now();
    await inFlight(
      cfg.held,
      8,
      (i) =>
        createEndpoint(
          rest,
          T.tenant,
          'net-b',
          '',
          `held-${String(i % cfg.heldHosts).padStart(2, '0')}`,
          `held-${i}`,
          this.timeoutMs,
          `172.21.0.${(i % cfg.heldHosts) + 1}`,
        ),
      (d) => progress(`${this.tag}: ${d}/${cfg.held} held endpoints`),
    );
    this.result.heldCreateMs = performance.now() - c0;
    if (!cfg.heldLive) {
      this.sim = this.newSimulator();
      const snap = await this.sim.watchAll(this.allEndpoints());
      const t0 = crossProcessNow();
      await this.sim.start();
      this.result.heldSnapshotMs = (await this.must(snap, 'reconnect', this.timeoutMs + (this.n / cfg.rate) * 1000)) - t0;
      progress(`${this.tag}: agents back, snapshots in ${fmt(this.result.heldSnapshotMs)} ms`);
      await sleep(2000);
    }
    const rc = await this.ruleChanges('h', idleRate);
    this.result.heldRuleChange = rc.summary;
    this.result.heldCpuMsPerChange = rc.cpuMsPerChange;
  }

  private async stopSimulator(): Promise<void> {
    const sim = this.sim;
    if (!sim) return;
    this.sim = undefined;
    const s = await sim.stats().catch(() => undefined);
    if (s) this.addSimStats(s);
    await sim.stop();
  }

  private addSimStats(s: Awaited<ReturnType<AgentSimulator['stats']>>): void {
    this.result.heartbeatFailures += s.heartbeatFailures;
    this.result.heartbeatFailuresFrom = s.heartbeatFailuresFrom;
    this.result.leaseLosses += s.leaseLosses;
    this.result.reconnects = (this.result.reconnects ?? 0) + s.reconnects;
    this.result.simCpuMs = (this.result.simCpuMs ?? 0) + s.cpuMs;
    for (const e of s.workerErrors) this.result.failures.push(e);
  }

  /** netmaster memory and the agents' counters (before anything is stopped). */
  private async collect(): Promise<void> {
    let rss = 0;
    let hwm = 0;
    for (const nm of this.cp?.netmasters ?? []) {
      const m = processMemory(nm.pid);
      if (!m) continue;
      rss = Math.max(rss, m.rssMb);
      hwm = Math.max(hwm, m.hwmMb);
    }
    if (rss > 0) {
      this.result.rssMb = rss;
      this.result.hwmMb = hwm;
    }
    if (this.sim) {
      const s = await this.sim.stats();
      this.addSimStats(s);
    }
    progress(
      `${this.tag}: netmaster RSS ${fmt(this.result.rssMb)} MiB (peak ${fmt(this.result.hwmMb)}), heartbeat failures ${this.result.heartbeatFailures}, lease losses ${this.result.leaseLosses}`,
    );
  }

  private async teardown(): Promise<void> {
    const sim = this.sim;
    this.sim = undefined;
    await sim?.stop();
    this.rest?.close();
    this.rest = undefined;
    await this.cp?.stop();
  }
}

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : String(Math.round(x));
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${SCALE_USAGE}\n`);
    return;
  }
  const cfg = parseScaleArgs(args);
  mkdirSync(cfg.dir, { recursive: true });
  const plan: Array<[number, number]> = cfg.agents.map((n) => [n, 1]);
  if (cfg.replicaAgents > 0) plan.push([cfg.replicaAgents, cfg.replicas]);
  const runs: RunResult[] = [];
  const started = performance.now();
  let interrupted = '';
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = sig;
    progress(`${sig}: stopping agents, netmaster and etcd`);
    void stopActive().finally(() => {
      const result = assembleScaleResult(cfg, runs, { interrupted: sig });
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const [n, r] of plan) {
      if (interrupted) break;
      runs.push(await new Run(cfg, n, r).run());
    }
  } finally {
    await stopActive();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) return new Promise(() => undefined); // the signal handler prints and exits
  const result = assembleScaleResult(cfg, runs, { durationS: Math.round((performance.now() - started) / 1000) });
  writeFileSync(join(cfg.dir, 'last-result.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const r of runs) {
    process.stdout.write(
      `${runSuffix(r.agents, r.replicas).padEnd(22)} snapshot ${fmt(r.snapshotMs)} ms, rule change p50/p99 ${fmt(r.ruleChange?.p50)}/${fmt(r.ruleChange?.p99)} ms, ` +
        `endpoint add p50/p99 ${fmt(r.endpointAdd?.p50)}/${fmt(r.endpointAdd?.p99)} ms, burst ${fmt(r.burstConvergeMs)} ms, ` +
        `held rule change p99 ${fmt(r.heldRuleChange?.p99)} ms, CPU/change ${fmt(r.cpuMsPerChange)} ms, idle ${r.idleCpuPct?.toFixed(1) ?? '-'} %, ` +
        `RSS ${fmt(r.rssMb)} MiB, heartbeat failures ${r.heartbeatFailures}${r.failures.length ? `, FAILED: ${r.failures.join('; ')}` : ''}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runIfMain(module, run);
