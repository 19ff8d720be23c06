/**
 * Pure pieces of BGP mode's dataplane paths (issue 16): their names, the goals, each netloom-bgp
 * path's ratios against `kernel-routed` (vsKernelRouted) and their lines of the printed report.
 * No I/O.
 */

export const BGP_PATHS = ['netloom-bgp', 'netloom-bgp-policy', 'kernel-routed'] as const;
export type BgpPathName = (typeof BGP_PATHS)[number];
export const KERNEL_ROUTED_PATH: BgpPathName = 'kernel-routed';

/** Against kernel-routed: tcp_bw at least, tcp_lat at most (absent: no latency goal). */
export interface BgpGoal {
  tcpBw: number;
  tcpLat?: number;
}

/**
 * issue 16: "netloom-bgp >= 0.9x the routed reference's tcp_bw and <= 1.1x its latency; with policy
 * >= 0.85x": the policy path's one goal is its bandwidth (its connections are tracked, the
 * reference's are not; its latency is reported beside).
 */
export const BGP_GOALS: Readonly<Record<'netloom-bgp' | 'netloom-bgp-policy', BgpGoal>> = {
  'netloom-bgp': { tcpBw: 0.9, tcpLat: 1.1 },
  'netloom-bgp-policy': { tcpBw: 0.85 },
};

/** the medians a path's figures carry (dataplane-report's PathFigures) */
export interface Medians {
  qperfTcpBwGbps: number;
  qperfTcpLatUs: number;
}

export interface KernelRoutedRatios {
  /** path / kernel-routed: higher is better */
  tcpBw: number;
  /** path / kernel-routed: lower is better */
  tcpLat: number;
}

export const isBgpPath = (name: string): boolean => (BGP_PATHS as readonly string[]).includes(name);

const round2 = (x: number): number => Number(x.toFixed(2));

/** The ratios of `f` against the reference; null when a ratio has no meaning (a zero or missing reference). */
export function kernelRoutedRatios(f: Medians, ref: Medians | undefined): KernelRoutedRatios | null {
  if (!ref || !(ref.qperfTcpBwGbps > 0) || !(ref.qperfTcpLatUs > 0)) return null;
  return { tcpBw: round2(f.qperfTcpBwGbps / ref.qperfTcpBwGbps), tcpLat: round2(f.qperfTcpLatUs / ref.qperfTcpLatUs) };
}

/**
 * Sets `vsKernelRouted` on each measured netloom-bgp path of `figs` (null when kernel-routed was
 * not measured); returns the goal check per path.
 */
export function addKernelRoutedRatios<F extends Medians & { vsKernelRouted?: KernelRoutedRatios | null }>(
  figs: Partial<Record<string, F>>,
): Record<string, { vsKernelRouted: KernelRoutedRatios | null; goal: BgpGoal; met: boolean | null }> {
  const ref = figs[KERNEL_ROUTED_PATH];
  const out: ReturnType<typeof addKernelRoutedRatios> = {};
  for (const [name, goal] of Object.entries(BGP_GOALS)) {
    const f = figs[name];
    if (!f) continue;
    const r = kernelRoutedRatios(f, ref);
    f.vsKernelRouted = r;
    out[name] = {
      vsKernelRouted: r,
      goal,
      met: r ? r.tcpBw >= goal.tcpBw && (goal.tcpLat === undefined || r.tcpLat <= goal.tcpLat) : null,
    };
  }
  return out;
}

/** The table of the netloom-bgp paths against kernel-routed (markdown); '' when none was rated. */
export function formatKernelRouted(check: ReturnType<typeof addKernelRoutedRatios>): string {
  const rows = Object.entries(check).filter(([, c]) => c.vsKernelRouted);
  if (rows.length === 0) return '';
  return [
    '| path | tcp_bw / kernel-routed (goal) | tcp_lat / kernel-routed (goal) | goals met |',
    '|---|---|---|---|',
    ...rows.map(([n, c]) => {
      const r = c.vsKernelRouted as KernelRoutedRatios;
      const lat = c.goal.tcpLat === undefined ? '(no goal)' : `(<= ${c.goal.tcpLat}x)`;
      return `| ${n} | ${r.tcpBw.toFixed(2)}x (>= ${c.goal.tcpBw}x) | ${r.tcpLat.toFixed(2)}x ${lat} | ${c.met ? 'yes' : 'no'} |`;
    }),
  ].join('\n');
}
