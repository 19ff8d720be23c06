/**
 * Where an agent's reconciles go during a benchmark: its Prometheus metrics read before and after
 * (from inside the host's namespace), and the difference per measured ADD+DEL cycle: reconcile
 * runs, what asked for them, and the mean time of each phase
 * (`netplugin_reconcile_phase_seconds`, `netplugin_reconcile_triggers_total`).
 */
import { run as runCommand } from '../../lib/exec';

/** Sample values by metric name and label set, as `name{labels}` → value. */
export type MetricSample = Map<string, number>;

/** The samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parseMetricsText(text: string): MetricSample {
  const out: MetricSample = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) out.set(m[1], v);
  }
  return out;
}

export async function scrapeAgentMetrics(hostNs: string, listen: string): Promise<MetricSample> {
  const r = await runCommand('ip', ['netns', 'exec', hostNs, 'curl', '-sf', `http://${listen}/metrics`], { allowFailure: true });
  return parseMetricsText(r.code === 0 ? r.stdout : '');
}

export interface ReconcileProfile {
  /** reconcile runs per cycle */
  runsPerCycle: number;
  /** requests for a reconcile per cycle, by reason */
  triggersPerCycle: Record<string, number>;
  /** mean ms of a reconcile */
  meanRunMs: number;
  /** mean ms per run of each phase */
  phaseMeanMs: Record<string, number>;
  /** mean ms from a CNI ADD's start until each step finished */
  addStepMeanMs: Record<string, number>;
  /** mean ms of the agent's CNI requests that succeeded, by command (arrival to answer) */
  requestMeanMs: Record<string, number>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function delta(before: MetricSample, after: MetricSample, re: RegExp): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const m = re.exec(k);
    if (m?.[1] !== undefined) out.set(m[1], v - (before.get(k) ?? 0));
  }
  return out;
}

/** Mean ms per observation of a histogram, by one label, between two scrapes. */
function meansMs(before: MetricSample, after: MetricSample, name: string, label: string, moreLabels = ''): Record<string, number> {
  const sums = delta(before, after, new RegExp(`^${name}_sum\\{${label}="([^"]+)"${moreLabels}\\}$`));
  const counts = delta(before, after, new RegExp(`^${name}_count\\{${label}="([^"]+)"${moreLabels}\\}$`));
  const out: Record<string, number> = {};
  for (const [k, s] of sums) {
    const n = counts.get(k) ?? 0;
    if (n > 0) out[k] = r2((s / n) * 1000);
  }
  return out;
}

/** The reconciles between two scrapes, per cycle (`cycles` > 0). */
export function reconcileProfile(before: MetricSample, after: MetricSample, cycles: number): ReconcileProfile {
  const runs = delta(before, after, /^netplugin_reconcile_duration_seconds_count\{result="(ok)"\}$/).get('ok') ?? 0;
  const runSeconds = delta(before, after, /^netplugin_reconcile_duration_seconds_sum\{result="(ok)"\}$/).get('ok') ?? 0;
  const triggers = delta(before, after, /^netplugin_reconcile_triggers_total\{reason="([^"]+)"\}$/);
  return {
    runsPerCycle: r2(runs / cycles),
    triggersPerCycle: Object.fromEntries([...triggers].map(([k, v]) => [k, r2(v / cycles)])),
    meanRunMs: runs > 0 ? r2((runSeconds / runs) * 1000) : 0,
    phaseMeanMs: meansMs(before, after, 'netplugin_reconcile_phase_seconds', 'phase'),
    addStepMeanMs: meansMs(before, after, 'netplugin_cni_add_step_done_seconds', 'step'),
    requestMeanMs: meansMs(before, after, 'netplugin_cni_request_duration_seconds', 'command', ',result="ok"'),
  };
}
