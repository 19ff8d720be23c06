/**
 * The pure parts of the scale benchmark (bench/scale.ts): its arguments, percentiles, and the
 * flat JSON line assembled from the runs (one family of keys per run: `...Agents1000`,
 * `...Agents3000Replicas3`, and `...Agents1000Held10000` for the phase with endpoints held in
 * another network).
 */

export interface ScaleConfig {
  /** agent counts of the single-netmaster runs */
  agents: number[];
  /** agents of the replica run (0: none) */
  replicaAgents: number;
  replicas: number;
  quick: boolean;
  /** worker processes for the agents (undefined: 1 up to 300 agents, else 2) */
  workers: number | undefined;
  /** agents started per second */
  rate: number;
  /** networks the agents are spread over (each with a group using the policy; 1: all in net-a) */
  networks: number;
  ruleChanges: number;
  endpointAdds: number;
  burst: number;
  /** burst requests in flight */
  burstWidth: number;
  /** endpoints held in net-b (0: skip that phase) */
  held: number;
  heldHosts: number;
  /** create the held endpoints while the agents stay connected (default: agents stop meanwhile and reconnect) */
  heldLive: boolean;
  idleSeconds: number;
  /** every wait's deadline */
  timeoutSeconds: number;
  /** a repeated phase stops repeating after this long (once it has 3 samples) */
  phaseBudgetSeconds: number;
  leaseTtl: number;
  /** etcd client/peer ports: basePort .. basePort + 5 */
  basePort: number;
  dir: string;
}

export const DEFAULT_SCALE_CONFIG: ScaleConfig = {
  agents: [200, 1000],
  replicaAgents: 3000,
  replicas: 3,
  quick: false,
  workers: undefined,
  rate: 200,
  networks: 1,
  ruleChanges: 15,
  endpointAdds: 10,
  burst: 100,
  burstWidth: 8,
  held: 10_000,
  heldHosts: 20,
  heldLive: false,
  idleSeconds: 10,
  timeoutSeconds: 120,
  phaseBudgetSeconds: 180,
  leaseTtl: 10,
  basePort: 28400,
  dir: '/tmp/nl-scale',
};

/** What --quick changes: a small run for the smoke test. */
export const QUICK: Partial<ScaleConfig> = {
  agents: [20, 50],
  replicaAgents: 60,
  ruleChanges: 6,
  endpointAdds: 4,
  held: 500,
  heldHosts: 5,
  idleSeconds: 2,
  timeoutSeconds: 60,
  phaseBudgetSeconds: 60,
};

const NUMBER_FLAGS: Record<string, keyof ScaleConfig> = {
  '--replica-agents': 'replicaAgents',
  '--replicas': 'replicas',
  '--workers': 'workers',
  '--rate': 'rate',
  '--networks': 'networks',
  '--rule-changes': 'ruleChanges',
  '--endpoint-adds': 'endpointAdds',
  '--burst': 'burst',
  '--burst-width': 'burstWidth',
  '--held': 'held',
  '--held-hosts': 'heldHosts',
  '--idle-s': 'idleSeconds',
  '--timeout-s': 'timeoutSeconds',
  '--phase-budget-s': 'phaseBudgetSeconds',
  '--agent-lease-ttl': 'leaseTtl',
  '--base-port': 'basePort',
};

export const SCALE_USAGE = `usage: npm run bench -- scale [--quick] [--agents 200,1000] [--replica-agents 3000] [--replicas 3] [--no-replicas]
  [--workers W] [--rate 200] [--networks 1] [--rule-changes 15] [--endpoint-adds 10] [--burst 100] [--burst-width 8]
  [--held 10000] [--held-hosts 20] [--held-live] [--idle-s 10] [--timeout-s 120] [--phase-budget-s 180]
  [--agent-lease-ttl 10] [--base-port 28400] [--dir /tmp/nl-scale]`;

/** The configuration from the command line (--quick first, then the explicit flags over it). */
export function parseScaleArgs(args: readonly string[]): ScaleConfig {
  const cfg: ScaleConfig = { ...DEFAULT_SCALE_CONFIG, agents: [...DEFAULT_SCALE_CONFIG.agents] };
  if (args.includes('--quick')) Object.assign(cfg, QUICK, { quick: true });
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${SCALE_USAGE}`);
      return v;
    };
    if (a === '--quick') continue;
    if (a === '--no-replicas') cfg.replicaAgents = 0;
    else if (a === '--held-live') cfg.heldLive = true;
    else if (a === '--agents') {
      cfg.agents = value()
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => positiveInt(a, s));
    } else if (a === '--dir') cfg.dir = value();
    else if (NUMBER_FLAGS[a]) (cfg as unknown as Record<string, number>)[NUMBER_FLAGS[a]] = nonNegativeInt(a, value());
    else throw new Error(`unknown argument ${a}\n${SCALE_USAGE}`);
  }
  if (cfg.replicas < 1) throw new Error('--replicas must be at least 1');
  if (cfg.rate < 1) throw new Error('--rate must be at least 1');
  if (cfg.networks < 1 || cfg.networks > 100) throw new Error('--networks must be 1..100');
  if (cfg.burstWidth < 1) throw new Error('--burst-width must be at least 1');
  if (cfg.held > 60_000) throw new Error('--held: at most 60,000 (one /16)');
  if (Math.max(...cfg.agents, cfg.replicaAgents) > 60_000) throw new Error('at most 60,000 agents (one /16 for their endpoints)');
  return cfg;
}

function nonNegativeInt(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: not a whole number: ${s}`);
  return n;
}

function positiveInt(flag: string, s: string): number {
  const n = nonNegativeInt(flag, s.trim());
  if (n === 0) throw new Error(`${flag}: must be positive`);
  return n;
}

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

/** The key suffix of a run: Agents1000, Agents3000Replicas3. */
export function runSuffix(agents: number, replicas: number): string {
  return `Agents${agents}${replicas > 1 ? `Replicas${replicas}` : ''}`;
}

/** Latencies (ms) of a repeated phase. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latencies: readonly number[]): LatencySummary {
  return {
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
  };
}

export interface RunResult {
  agents: number;
  replicas: number;
  etcdMembers: number;
  workers: number;
  /** ms from starting the agents until every one applied its first snapshot */
  snapshotMs?: number;
  /** ... until every one held all the endpoints of net-a */
  allEndpointsMs?: number;
  ruleChange?: LatencySummary;
  endpointAdd?: LatencySummary;
  /** from the first send until every agent holds every rule of the burst */
  burstConvergeMs?: number;
  /** ms until the last REST answer of the burst */
  burstRestMs?: number;
  /** slowest GET /version during the burst */
  versionMaxMs?: number;
  cpuMsPerChange?: number;
  /** cpuMsPerChange minus the idle CPU rate over the same time */
  cpuMsPerChangeNetOfIdle?: number;
  idleCpuPct?: number;
  /** held-endpoints phase */
  held?: number;
  heldCreateMs?: number;
  heldSnapshotMs?: number;
  heldRuleChange?: LatencySummary;
  heldCpuMsPerChange?: number;
  /** netmaster memory at the end (max over replicas), MiB */
  rssMb?: number;
  hwmMb?: number;
  heartbeatFailures: number;
  heartbeatFailuresFrom?: string;
  leaseLosses: number;
  reconnects?: number;
  /** CPU of the simulator's processes over the run, ms */
  simCpuMs?: number;
  durationS?: number;
  failures: string[];
}

const round1 = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);

/** The flat figures of one run, keyed with its suffix. */
export function runFigures(r: RunResult): Record<string, number | null> {
  const s = runSuffix(r.agents, r.replicas);
  const out: Record<string, number | null> = {
    [`snapshotMs${s}`]: round1(r.snapshotMs),
    [`allEndpointsMs${s}`]: round1(r.allEndpointsMs),
    [`ruleChangeP50Ms${s}`]: round1(r.ruleChange?.p50),
    [`ruleChangeP99Ms${s}`]: round1(r.ruleChange?.p99),
    [`ruleChangeSamples${s}`]: r.ruleChange?.samples ?? null,
    [`endpointAddP50Ms${s}`]: round1(r.endpointAdd?.p50),
    [`endpointAddP99Ms${s}`]: round1(r.endpointAdd?.p99),
    [`burst100ConvergeMs${s}`]: round1(r.burstConvergeMs),
    [`burstRestMs${s}`]: round1(r.burstRestMs),
    [`versionMaxMsDuringBurst${s}`]: round1(r.versionMaxMs),
    [`cpuMsPerChange${s}`]: round1(r.cpuMsPerChange),
    [`cpuMsPerChangeNetOfIdle${s}`]: round1(r.cpuMsPerChangeNetOfIdle),
    [`idleCpuPct${s}`]: round1(r.idleCpuPct),
    [`netmasterRssMb${s}`]: round1(r.rssMb),
    [`netmasterPeakRssMb${s}`]: round1(r.hwmMb),
    [`heartbeatFailures${s}`]: r.heartbeatFailures,
    [`leaseLosses${s}`]: r.leaseLosses,
    [`simCpuMs${s}`]: round1(r.simCpuMs),
  };
  if (r.held !== undefined) {
    const h = `${s}Held${r.held}`;
    out[`heldCreateMs${h}`] = round1(r.heldCreateMs);
    out[`snapshotMs${h}`] = round1(r.heldSnapshotMs);
    out[`ruleChangeP50Ms${h}`] = round1(r.heldRuleChange?.p50);
    out[`ruleChangeP99Ms${h}`] = round1(r.heldRuleChange?.p99);
    out[`cpuMsPerChange${h}`] = round1(r.heldCpuMsPerChange);
  }
  return out;
}

/** The JSON line: every run's figures, the totals, the 200 → 1,000 CPU slope, and the failures. */
export function assembleScaleResult(
  cfg: ScaleConfig,
  runs: readonly RunResult[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const flat: Record<string, number | null> = {};
  for (const r of runs) Object.assign(flat, runFigures(r));
  const single = runs.filter((r) => r.replicas === 1);
  const cpuAt = (n: number): number | undefined => single.find((r) => r.agents === n)?.cpuMsPerChange;
  const slope = (a: number, b: number): number | null => {
    const x = cpuAt(a);
    const y = cpuAt(b);
    return x !== undefined && y !== undefined && x > 0 ? Math.round((y / x) * 100) / 100 : null;
  };
  const sizes = [...new Set(single.map((r) => r.agents))].sort((a, b) => a - b);
  const slopes: Record<string, number | null> = { cpuPerChangeSlope200to1000: slope(200, 1000) };
  if (sizes.length >= 2) {
    const lo = sizes[0]!;
    const hi = sizes[sizes.length - 1]!;
    slopes[`cpuPerChangeSlope${lo}to${hi}`] = slope(lo, hi);
    slopes[`linearSlope${lo}to${hi}`] = hi / lo;
  }
  // the keys the issue asks for are always there (null when that run was not made or failed)
  const required: Record<string, null> = {
    ruleChangeP99MsAgents1000: null,
    burst100ConvergeMsAgents1000: null,
    netmasterRssMbAgents1000: null,
    [`ruleChangeP99MsAgents3000Replicas${cfg.replicas}`]: null,
  };
  const failures = runs.flatMap((r) => r.failures.map((f) => `${runSuffix(r.agents, r.replicas)}: ${f}`));
  return {
    bench: 'scale',
    quick: cfg.quick,
    networks: cfg.networks,
    ...required,
    ...flat,
    ...slopes,
    heartbeatFailures: runs.reduce((s, r) => s + r.heartbeatFailures, 0),
    leaseLosses: runs.reduce((s, r) => s + r.leaseLosses, 0),
    ok: failures.length === 0,
    failures,
    ...extra,
    runs: runs.map((r) => ({ ...r })),
  };
}
