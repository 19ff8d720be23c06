/**
 * One agent's compile, alone in its own process (forked by bench/policy.ts), so that its peak
 * RSS is the agent's and nothing else's: the host state of a PolicyStateSpec (argv[2], JSON)
 * arrives as text, as the agent gets it from the wire, is parsed and checked (parseHostState),
 * and the whole pipeline is computed with the real computePipeline. Prints one JSON line:
 * compile wall and CPU time, flow counts, VmRSS and VmHWM (peak) at the end.
 */
import { computePipeline } from '../../netplugin/pipeline/compute';
import { parseHostState } from '../../netplugin/state/host-state';
import { localFactsFor } from '../../tools/agent-sim/compiler';
import { processMemory } from '../../tools/agent-sim/cluster';
import { LOCAL_HOST, policyTableFlows, policyWireState, type PolicyStateSpec } from './policy-state';
import { runIfMain } from './standalone';

export interface ChildResult {
  endpoints: number;
  contivRules: number;
  /** JSON.parse + parseHostState of the received text */
  parseMs: number;
  /** computePipeline, wall and CPU */
  compileMs: number;
  compileCpuMs: number;
  flows: number;
  policyFlows: number;
  rssMb: number;
  /** peak RSS of the process (VmHWM) */
  hwmMb: number;
}

export async function main(args: string[]): Promise<number> {
  const spec = JSON.parse(args[0] ?? '{}') as PolicyStateSpec;
  // as received: text off the wire (built here, then dropped before the compile)
  let text: string | undefined = JSON.stringify(policyWireState(spec));
  const t0 = performance.now();
  const state = parseHostState(JSON.parse(text));
  text = undefined;
  const parseMs = performance.now() - t0;
  const local = localFactsFor(state, LOCAL_HOST, '172.20.1.254');
  const c0 = process.cpuUsage();
  const t1 = performance.now();
  const flows = computePipeline({ state, local });
  const compileMs = performance.now() - t1;
  const cpu = process.cpuUsage(c0);
  const mem = processMemory(process.pid);
  const out: ChildResult = {
    endpoints: state.endpoints.length,
    contivRules: state.policies.reduce((n, p) => n + p.rules.length, 0),
    parseMs,
    compileMs,
    compileCpuMs: (cpu.user + cpu.system) / 1000,
    flows: flows.length,
    policyFlows: policyTableFlows(flows),
    rssMb: mem?.rssMb ?? Number.NaN,
    hwmMb: mem?.hwmMb ?? Number.NaN,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

runIfMain(module, main);
