/**
 * The reachability matrix of the upstream NetworkPolicy model on real pods: one exec per source
 * pod (`agnhost probe`, deploy/lab/cri/nlpod) probes every other pod on every (port, protocol) a
 * step checks, all at once; `holds` probes until the whole matrix of every check is the one the
 * scenario expects (netpol-scenarios.ts's expectedReachability), or fails with the cells that differ.
 */
import { systemClock } from '../../lib/clock';
import { expectedReachability, PODS, type NetpolStep, type Proto } from './netpol-scenarios';

/** Runs `cmd` in pod `ns/name`'s container; its standard output. */
export type PodExec = (pod: string, cmd: string[]) => Promise<string>;

const cellKey = (from: string, to: string, protocol: Proto, port: number): string => `${from} -> ${to} ${protocol.toLowerCase()}/${port}`;

/** Every ordered pair of distinct pods on each (port, protocol): allowed or not. */
export async function probeMatrix(
  exec: PodExec,
  ipOf: (pod: string) => string,
  checks: ReadonlyArray<{ port: number; protocol: Proto }>,
  timeoutMs = 1000,
): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  await Promise.all(
    PODS.map(async (from) => {
      const targets = PODS.filter((to) => to !== from).flatMap((to) =>
        checks.map((c) => ({ to, c, arg: `${c.protocol.toLowerCase()}:${ipOf(to)}:${c.port}` })),
      );
      const text = await exec(from, ['/agnhost', 'probe', '--timeout', `${timeoutMs}ms`, ...targets.map((t) => t.arg)]);
      const lines = text.trim().split('\n');
      targets.forEach((t, i) => {
        const [arg, verdict] = (lines[i] ?? '').split(' ');
        if (arg !== t.arg) throw new Error(`probe from ${from}: line ${i} is "${lines[i] ?? ''}", expected ${t.arg}`);
        out.set(cellKey(from, t.to, t.c.protocol, t.c.port), verdict === 'ok');
      });
    }),
  );
  return out;
}

/** The cells of the step's checks that differ from what the scenario expects. */
export function matrixMismatches(step: NetpolStep, observed: ReadonlyMap<string, boolean>): string[] {
  const out: string[] = [];
  for (const check of step.expect) {
    const want = expectedReachability(check);
    for (const cell of want.entries()) {
      const got = observed.get(cellKey(cell.from, cell.to, check.protocol, check.port));
      if (got !== cell.allowed)
        out.push(
          `${cellKey(cell.from, cell.to, check.protocol, check.port)}: expected ${cell.allowed ? 'allowed' : 'denied'}, got ${got === undefined ? 'nothing' : got ? 'allowed' : 'denied'}`,
        );
    }
  }
  return out;
}

export interface MatrixHeld {
  /** ms until the matrix held */
  ms: number;
  /** probe rounds made */
  rounds: number;
  /** cells compared (every check's whole matrix) */
  cells: number;
}

/** Probe until every check of `step` holds on the whole matrix; throws with the differing cells after `timeoutMs`. */
export async function matrixHolds(exec: PodExec, ipOf: (pod: string) => string, step: NetpolStep, timeoutMs = 30_000): Promise<MatrixHeld> {
  const checks = step.expect.map((c) => ({ port: c.port, protocol: c.protocol }));
  const t0 = systemClock.monotonic();
  let rounds = 0;
  for (;;) {
    rounds++;
    const bad = matrixMismatches(step, await probeMatrix(exec, ipOf, checks));
    const ms = Math.round(systemClock.monotonic() - t0);
    if (bad.length === 0) return { ms, rounds, cells: checks.length * PODS.length * (PODS.length - 1) };
    if (ms > timeoutMs)
      throw new Error(`step "${step.does}": ${bad.length} cell(s) differ after ${rounds} rounds:\n  ${bad.slice(0, 40).join('\n  ')}`);
  }
}
