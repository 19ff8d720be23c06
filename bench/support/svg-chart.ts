/**
 * A small hand-written SVG line chart (no dependency) for the dataplane benchmark's sweep: one
 * line per series, log-scaled x axis (message size), log or linear y axis, a legend. Pure.
 */
import { NetloomError } from '../../lib/errors';

export interface Series {
  name: string;
  /** [x, y] with x > 0 (and y > 0 on a log y axis); points that break that are left out */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  logY?: boolean;
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A number as a short axis label: 1, 512, 4K, 64K; 0.25, 1.5M (pure). */
export function shortNumber(v: number): string {
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [n, u] of units) if (Math.abs(v) >= n) return `${Number((v / n).toPrecision(3))}${u}`;
  return String(Number(v.toPrecision(3)));
}

/** A message size as a binary label: 1, 512, 1K, 64K, 1M (pure). */
export function sizeLabel(n: number): string {
  if (n >= 1024 * 1024) return `${Number((n / 1024 / 1024).toPrecision(3))}M`;
  if (n >= 1024) return `${Number((n / 1024).toPrecision(3))}K`;
  return String(n);
}

/** Tick values for an axis from lo to hi: powers of 10 (log) or 5 even steps (linear). */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out;
  }
  const step = (hi - lo) / 5;
  return Array.from({ length: 6 }, (_, i) => lo + i * step);
}

/** The chart as an SVG document. */
export function lineChartSvg(spec: ChartSpec): string {
  const logY = spec.logY === true;
  const ok = ([x, y]: readonly [number, number]) => Number.isFinite(x) && Number.isFinite(y) && x > 0 && (!logY || y > 0);
  const series = spec.series.map((s) => ({ name: s.name, points: s.points.filter(ok) })).filter((s) => s.points.length > 0);
  if (series.length === 0) throw new NetloomError('INVALID_ARGUMENT', `chart "${spec.title}" has no points to draw`, { field: 'series' });
  const W = spec.width ?? 720;
  const H = spec.height ?? 420;
  const m = { left: 70, right: 190, top: 36, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) > x0 ? Math.max(...xs) : x0 * 2;
  let y0 = logY ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 0;
  let y1 = logY ? 10 ** Math.ceil(Math.log10(Math.max(...ys))) : Math.max(...ys) * 1.05;
  if (y1 <= y0) [y0, y1] = logY ? [y0, y0 * 10] : [0, 1];
  const f = (v: number, log: boolean) => (log ? Math.log10(v) : v);
  const px = (x: number) => m.left + ((f(x, true) - f(x0, true)) / (f(x1, true) - f(x0, true))) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((f(y, logY) - f(y0, logY)) / (f(y1, logY) - f(y0, logY))) * (H - m.top - m.bottom);
  const r = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2 - m.right / 2}" y="20" text-anchor="middle" font-size="14">${esc(spec.title)}</text>`,
  ];
  // x ticks: the powers of two of the data's range (message sizes), labelled every other one
  for (let e = Math.ceil(Math.log2(x0)), i = 0; 2 ** e <= x1; e++, i++) {
    const x = px(2 ** e);
    out.push(`<line x1="${r(x)}" y1="${m.top}" x2="${r(x)}" y2="${H - m.bottom}" stroke="#eee"/>`);
    if (i % 2 === 0) out.push(`<text x="${r(x)}" y="${H - m.bottom + 15}" text-anchor="middle">${sizeLabel(2 ** e)}</text>`);
  }
  for (const t of ticks(y0, y1, logY)) {
    const y = py(t);
    out.push(`<line x1="${m.left}" y1="${r(y)}" x2="${W - m.right}" y2="${r(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${r(y + 4)}" text-anchor="end">${shortNumber(t)}</text>`);
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length] as string;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => `${r(px(x))},${r(py(y))}`);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.6" points="${pts.join(' ')}"/>`);
    const ly = m.top + 8 + i * 16;
    out.push(
      `<line x1="${W - m.right + 12}" y1="${ly}" x2="${W - m.right + 32}" y2="${ly}" stroke="${c}" stroke-width="2"/>`,
      `<text x="${W - m.right + 36}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
