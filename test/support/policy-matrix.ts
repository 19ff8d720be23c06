/**
 * The policy case table (policy-cases.ts) driven through netctl and checked with probe agents,
 * shared by the lab tests that run it on a wire: the netctl arguments of a rule, and a matrix
 * check that waits until every cell holds (a pass not seen is retried with longer timeouts, a
 * deny that passes is never excused).
 */
import { performance } from 'node:perf_hooks';
import { cellName, type Cell, type RuleSpec } from './policy-cases';
import type { ProbeAgent } from './policy-probe';

/** netctl arguments that add `r` in `tenant`. */
export function ruleAddArgs(tenant: string, r: RuleSpec): string[] {
  const opt = (flag: string, v: string | number | undefined) => (v === undefined || v === '' || v === 0 ? [] : [flag, String(v)]);
  return [
    'policy',
    'rule-add',
    '-t',
    tenant,
    '-d',
    r.direction,
    '-p',
    String(r.priority ?? 1),
    '-j',
    r.action,
    ...opt('-l', r.protocol),
    ...opt('-P', r.port),
    ...opt('-g', r.fromEndpointGroup),
    ...opt('-e', r.toEndpointGroup),
    ...opt('-n', r.fromNetwork),
    ...opt('-o', r.toNetwork),
    ...opt('-i', r.fromIpAddress),
    ...opt('-s', r.toIpAddress),
    r.policy,
    r.ruleId,
  ];
}

interface Outcome {
  cell: Cell;
  ok: boolean;
  who?: string;
}

/** Probes cells through the agents of their sources (each source's probes at once). */
export class MatrixChecker {
  constructor(private readonly agents: Map<string, ProbeAgent>) {}

  private async probeCells(cells: Cell[], timeoutMs: number): Promise<Outcome[]> {
    const bySource = new Map<string, Cell[]>();
    for (const c of cells) bySource.set(c.from.name, [...(bySource.get(c.from.name) ?? []), c]);
    const parts = await Promise.all(
      [...bySource].map(async ([src, cs]) => {
        const agent = this.agents.get(src);
        if (!agent) throw new Error(`no probe agent in ${src}`);
        const rs = await agent.probe(
          cs.map((c) => ({ ip: c.to.ip, probe: c.probe })),
          timeoutMs,
        );
        return cs.map((cell, i) => ({ cell, ok: rs[i]?.ok ?? false, ...(rs[i]?.who ? { who: rs[i].who } : {}) }));
      }),
    );
    return parts.flat();
  }

  /** The cells that do not hold now. */
  async mismatches(cells: Cell[]): Promise<string[]> {
    let outcomes = await this.probeCells(cells, 1000);
    for (const timeoutMs of [2000, 3000]) {
      const retry = outcomes.filter((o) => o.cell.verdict === 'pass' && !o.ok).map((o) => o.cell);
      if (retry.length === 0) break;
      const again = new Map((await this.probeCells(retry, timeoutMs)).map((o) => [o.cell, o]));
      outcomes = outcomes.map((o) => again.get(o.cell) ?? o);
    }
    return outcomes.flatMap((o) => {
      const got = o.ok ? 'pass' : 'deny';
      if (got !== o.cell.verdict) return [`${cellName(o.cell)}: expected ${o.cell.verdict}, got ${got}`];
      if (o.ok && o.who !== undefined && o.who !== o.cell.to.name) return [`${cellName(o.cell)}: answered by ${o.who}`];
      return [];
    });
  }

  /**
   * Wait until every cell holds, then check once more (a state that held only in passing does not
   * count). Returns the ms until it first held; throws naming the wrong cells after `timeoutMs`.
   */
  async holds(what: string, cells: Cell[], timeoutMs = 20_000): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const bad = await this.mismatches(cells);
      if (bad.length === 0) break;
      if (performance.now() - t0 > timeoutMs)
        throw new Error(`${what}: ${bad.length} of ${cells.length} cells wrong after ${timeoutMs} ms:\n  ${bad.join('\n  ')}`);
    }
    const ms = Math.round(performance.now() - t0);
    const again = await this.mismatches(cells);
    if (again.length > 0) throw new Error(`${what}: held once, then not:\n  ${again.join('\n  ')}`);
    return ms;
  }
}
