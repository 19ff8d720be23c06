/**
 * The dataplane benchmark's `--sweep` (the seed's picture): per path, qperf tcp_bw and tcp_lat at
 * every message size from 1 byte to 64 KiB (`-oo msg_size:1:64K:*2`), medians of rounds per size,
 * and the two charts (bandwidth, latency; one line per path, message size on a log axis). Pure.
 */
import { median, type PathName } from './dataplane-report';
import type { SweepPoint } from './perf-tools';
import { lineChartSvg } from './svg-chart';

export interface SweepFigure {
  msgSize: number;
  /** medians over rounds */
  tcpBwGbps: number;
  tcpLatUs: number;
}

/** Medians per path and message size over the rounds' sweeps (a size missing from a round is left out of it). */
export function summarizeSweep(
  rounds: ReadonlyMap<PathName, readonly (readonly SweepPoint[])[]>,
): Partial<Record<PathName, SweepFigure[]>> {
  const out: Partial<Record<PathName, SweepFigure[]>> = {};
  for (const [name, sweeps] of rounds) {
    const sizes = [...new Set(sweeps.flatMap((s) => s.map((p) => p.msgSize)))].sort((a, b) => a - b);
    out[name] = sizes.map((msgSize) => {
      const at = sweeps.flatMap((s) => s.filter((p) => p.msgSize === msgSize));
      return {
        msgSize,
        tcpBwGbps: Number((median(at.map((p) => p.tcpBwBps)) / 1e9).toFixed(4)),
        tcpLatUs: Number(median(at.map((p) => p.tcpLatUs)).toFixed(1)),
      };
    });
  }
  return out;
}

/** The bandwidth chart and the latency chart, both log-log (1 byte to 64 KiB spans four decades of bandwidth). */
export function sweepCharts(figs: Partial<Record<PathName, SweepFigure[]>>, subtitle: string): { bandwidth: string; latency: string } {
  const entries = Object.entries(figs) as Array<[PathName, SweepFigure[]]>;
  return {
    bandwidth: lineChartSvg({
      title: `qperf tcp_bw by message size (${subtitle})`,
      xLabel: 'message size (bytes, log)',
      yLabel: 'Gbit/s (log)',
      logY: true,
      series: entries.map(([name, f]) => ({ name, points: f.map((p) => [p.msgSize, p.tcpBwGbps] as const) })),
    }),
    latency: lineChartSvg({
      title: `qperf tcp_lat by message size (${subtitle})`,
      xLabel: 'message size (bytes, log)',
      yLabel: 'one-way latency (µs, log)',
      // kernel paths (~20 µs) and loaded userspace ones (ms) share the chart
      logY: true,
      series: entries.map(([name, f]) => ({ name, points: f.map((p) => [p.msgSize, p.tcpLatUs] as const) })),
    }),
  };
}
