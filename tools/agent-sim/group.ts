/**
 * The simulated agents of one process: started at a steady rate (so that startup itself does not
 * melt netmaster), watched together for a Condition, counted and stopped together. The simulator
 * runs one group in-process or one per worker process (worker.ts).
 *
 * Logs: the clients get one shared logger at warn level. Its lines are counted (failed
 * register/heartbeat calls and lost leases, for clients that do not count heartbeat failures
 * themselves) and, when `logFile` is set, appended to that file; otherwise dropped.
 */
import { appendFileSync } from 'node:fs';
import { systemClock } from '../../lib/clock';
import { createLogger, type Logger } from '../../lib/logger';
import { hostCertPaths } from '../../deploy/lab/pki';
import type { ClientTls } from '../../netplugin/netmaster-client/client';
import { readClientTls } from '../../netplugin/netmaster-client/tls-files';
import { SimulatedAgent } from './agent';
import { predicateOf, type Condition } from './conditions';

export interface AgentSpec {
  /** the agent's number in the whole simulation */
  index: number;
  host: string;
  addresses: string[];
  vtepIp: string;
}

export interface GroupOptions {
  /** agents started per second (default 200) */
  ratePerSec?: number;
  /** append the clients' warnings to this file (default: dropped) */
  logFile?: string;
  heartbeatMs?: number;
  callTimeoutMs?: number;
  maxRecords?: number;
  /** every agent compiles its states into flows (compiler.ts) */
  compile?: boolean;
  /**
   * mutual TLS: the CA's file and a PKI directory holding each agent's own certificate at
   * hostCertPaths(pkiDir, host) (deploy/lab/pki.ts; netmaster lets a certificate act for its host only)
   */
  tls?: SimTlsFiles;
}

/** File paths only: group options cross the IPC channel to the workers. */
export interface SimTlsFiles {
  ca: string;
  pkiDir: string;
}

/** The client TLS of agent `host`, read from `files`. */
export function simAgentTls(files: SimTlsFiles, host: string): ClientTls {
  const own = hostCertPaths(files.pkiDir, host);
  return readClientTls({ ca: files.ca, cert: own.cert, key: own.key }, { ca: 'tls.ca', cert: 'tls.pkiDir', key: 'tls.pkiDir' });
}

export interface GroupStats {
  agents: number;
  /** agents that applied a snapshot */
  withState: number;
  registrations: number;
  reconnects: number;
  snapshots: number;
  changeGroups: number;
  changes: number;
  failovers: number;
  /** failed heartbeats: the clients' own count when they keep one, else failed register/heartbeat calls from their warnings */
  heartbeatFailures: number;
  /** where heartbeatFailures came from */
  heartbeatFailuresFrom: 'client' | 'log';
  /** "lease lost: registering again" warnings */
  leaseLosses: number;
  warnings: number;
  updates: number;
  /** this process's CPU time and RSS */
  cpuMs: number;
  rssMb: number;
  /** agents that compile: compiles, their wall time summed and the longest, failures */
  compiles: number;
  compileMs: number;
  compileMaxMs: number;
  compileErrors: number;
}

/** Counts the clients' warnings by message; a pino destination. */
export class WarningCounter {
  heartbeatFailures = 0;
  leaseLosses = 0;
  lines = 0;
  constructor(private readonly file?: string) {}

  write(line: string): void {
    this.lines++;
    if (line.includes('"msg":"register/heartbeat failed"')) this.heartbeatFailures++;
    else if (line.includes('"msg":"lease lost: registering again"')) this.leaseLosses++;
    if (this.file) {
      try {
        appendFileSync(this.file, line.endsWith('\n') ? line : `${line}\n`);
      } catch {
        // a log we cannot write is no reason to stop simulating
      }
    }
  }
}

export class AgentGroup {
  readonly agents: SimulatedAgent[];
  readonly warnings: WarningCounter;
  private readonly logger: Logger;
  private readonly watches = new Map<string, string>();
  private stopped = false;
  private starting: Promise<void> | undefined;

  constructor(
    readonly specs: readonly AgentSpec[],
    private readonly opts: GroupOptions = {},
  ) {
    this.warnings = new WarningCounter(opts.logFile);
    this.logger = createLogger('agent-sim', { level: 'warn', destination: this.warnings });
    this.agents = specs.map(
      (s) =>
        new SimulatedAgent({
          host: s.host,
          addresses: s.addresses,
          vtepIp: s.vtepIp,
          logger: this.logger,
          ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
          ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
          ...(opts.maxRecords !== undefined ? { maxRecords: opts.maxRecords } : {}),
          ...(opts.compile ? { compile: true } : {}),
          ...(opts.tls ? { tls: simAgentTls(opts.tls, s.host) } : {}),
        }),
    );
  }

  /** Start every agent, `ratePerSec` a second; resolves when the last one was started. */
  start(): Promise<void> {
    this.starting ??= this.ramp();
    return this.starting;
  }

  private async ramp(): Promise<void> {
    const rate = Math.max(1, this.opts.ratePerSec ?? 200);
    const t0 = performance.now();
    for (let i = 0; i < this.agents.length; i++) {
      if (this.stopped) return;
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await systemClock.sleep(wait);
      this.agents[i]!.start();
    }
  }

  /**
   * Watch every agent for `cond`; `onHeld(index, at)` once per agent (index: its spec's index) when
   * it first holds. Agents not started yet are watched too.
   */
  watch(id: string, cond: Condition, onHeld: (index: number, at: number, ownAt: number) => void): void {
    const predicate = predicateOf(cond);
    this.agents.forEach((a, i) => {
      const index = this.specs[i]!.index;
      a.watch(predicate, (at, ownAt) => onHeld(index, at, ownAt), id);
    });
    this.watches.set(id, id);
  }

  unwatch(id: string): void {
    for (const a of this.agents) a.unwatch(id);
    this.watches.delete(id);
  }

  stats(): GroupStats {
    let clientCounted = true;
    const sum: Record<string, number> = {};
    let withState = 0;
    let updates = 0;
    const compile = { compiles: 0, compileMs: 0, compileMaxMs: 0, compileErrors: 0 };
    for (const a of this.agents) {
      const cs = a.compiler?.stats;
      if (cs) {
        compile.compiles += cs.compiles;
        compile.compileMs += cs.compileMs;
        compile.compileMaxMs = Math.max(compile.compileMaxMs, cs.compileMaxMs);
        compile.compileErrors += cs.compileErrors;
      }
      const c = a.counters();
      if (c.heartbeatFailures === undefined) clientCounted = false;
      for (const [k, v] of Object.entries(c)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
      if (a.latest) withState++;
      updates += a.updateCount;
    }
    if (this.agents.length === 0) clientCounted = false;
    const cpu = process.cpuUsage();
    return {
      agents: this.agents.length,
      withState,
      registrations: sum.registrations ?? 0,
      reconnects: sum.reconnects ?? 0,
      snapshots: sum.snapshots ?? 0,
      changeGroups: sum.changeGroups ?? 0,
      changes: sum.changes ?? 0,
      failovers: sum.failovers ?? 0,
      heartbeatFailures: clientCounted ? (sum.heartbeatFailures ?? 0) : this.warnings.heartbeatFailures,
      heartbeatFailuresFrom: clientCounted ? 'client' : 'log',
      leaseLosses: this.warnings.leaseLosses,
      warnings: this.warnings.lines,
      updates,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      rssMb: Math.round(process.memoryUsage.rss() / 1048576),
      ...compile,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await Promise.all(this.agents.map((a) => a.stop().catch(() => undefined)));
  }
}
