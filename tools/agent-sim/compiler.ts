/**
 * What a simulated agent does with a state when it compiles (the policy benchmark): what
 * netplugin's reconcile does before it talks to OVS. The state as the client emitted it is
 * checked with parseHostState, given local facts (an OpenFlow port for each of the host's
 * endpoints, a VXLAN port), and the whole pipeline computed with the real computePipeline; the
 * flows are kept in memory in place of a switch. Compiles are coalesced like the agent's
 * reconcile loop: states that arrive while one is pending only make it compile the newest.
 * The agents of a process compile one at a time, one per turn of the event loop (a shared
 * queue), so that the streams' data keeps being read between two compiles: a state's arrival
 * time is then late by one compile at most, not by every compile queued before it.
 */
import { computePipeline } from '../../netplugin/pipeline/compute';
import type { DesiredFlow } from '../../netplugin/reconcile/flow-key';
import { parseHostState, type HostState, type LocalFacts } from '../../netplugin/state/host-state';

const VXLAN_PORT = 2;

/** compilers with a state waiting, in the order they got it (one compile per event-loop turn) */
const queue: SimulatedCompiler[] = [];
let draining = false;

function drainOne(): void {
  const c = queue.shift();
  if (c) c.compilePending();
  if (queue.length > 0) setImmediate(drainOne);
  else draining = false;
}
const FIRST_ENDPOINT_PORT = 10;

/** An agent's own facts for `host`: an OpenFlow port for each of its endpoints (10, 11, ... in id order). */
export function localFactsFor(state: Pick<HostState, 'endpoints'>, host: string, vtepIp = ''): LocalFacts {
  const mine = state.endpoints.filter((e) => e.host === host).map((e) => e.id);
  mine.sort();
  const ports: Record<string, { ofport: number; intfName: string }> = {};
  mine.forEach((id, i) => (ports[id] = { ofport: FIRST_ENDPOINT_PORT + i, intfName: `v${i}` }));
  return { hostName: host, vtepIp, ports, bridge: { vxlan: VXLAN_PORT } };
}

export interface CompileStats {
  compiles: number;
  /** wall time spent compiling, summed */
  compileMs: number;
  compileMaxMs: number;
  /** states that failed to compile (the previous flows are kept) */
  compileErrors: number;
}

export class SimulatedCompiler {
  /** the flows of the latest compile (the agent's in-memory flow table) */
  flows: readonly DesiredFlow[] = [];
  /** the rule ids (cookie objects) of the latest compile's flows */
  objects: ReadonlySet<string> = new Set();
  /**
   * The latest compile as if this agent had a core of its own: when the compiled state arrived
   * (crossProcessNow) plus the CPU time the compile took. The simulator's agents share two
   * cores, so their compiles queue behind each other; real agents each run on their own host.
   */
  ownDoneAt = 0;
  readonly stats: CompileStats = { compiles: 0, compileMs: 0, compileMaxMs: 0, compileErrors: 0 };
  lastError: string | undefined;
  private pending: unknown;
  private pendingAt = 0;
  private scheduled = false;

  constructor(
    private readonly host: string,
    private readonly vtepIp: string,
    /** called after each compile with the compiled state */
    private readonly onCompiled: (state: unknown) => void,
  ) {}

  /** Compile `raw` (arrived at `at`) soon (after the states already queued in this turn: only the newest is compiled). */
  submit(raw: unknown, at = performance.timeOrigin + performance.now()): void {
    this.pending = raw;
    this.pendingAt = at;
    if (this.scheduled) return;
    this.scheduled = true;
    queue.push(this);
    if (!draining) {
      draining = true;
      setImmediate(drainOne);
    }
  }

  /** @internal: the queue's turn for this compiler */
  compilePending(): void {
    this.scheduled = false;
    const state = this.pending;
    this.pending = undefined;
    this.compile(state, this.pendingAt);
    this.onCompiled(state);
  }

  /** Compile now (exposed for tests); `arrivedAt`: when the state arrived (for ownDoneAt). */
  compile(raw: unknown, arrivedAt = performance.timeOrigin + performance.now()): void {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      const state = parseHostState(raw);
      const flows = computePipeline({ state, local: localFactsFor(state, this.host, this.vtepIp) });
      this.flows = flows;
      const objects = new Set<string>();
      for (const f of flows) if (f.object !== undefined) objects.add(f.object);
      this.objects = objects;
    } catch (e) {
      this.stats.compileErrors++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    // a worker's one thread: its CPU over the compile is the compile's (plus a little GC)
    this.ownDoneAt = arrivedAt + (cpu.user + cpu.system) / 1000;
    this.stats.compiles++;
    this.stats.compileMs += ms;
    this.stats.compileMaxMs = Math.max(this.stats.compileMaxMs, ms);
  }
}
