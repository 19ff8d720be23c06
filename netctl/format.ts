/**
 * Output formatting for netctl: a column writer that lays text out exactly like Go's
 * text/tabwriter did in Contiv's netctl (so `ls` tables match byte for byte), JSON indented and
 * escaped like Go's json.MarshalIndent, and YAML for `-o yaml`.
 */

export interface TabwriterOptions {
  minwidth: number;
  padding: number;
  /** cells of a table line longer than this are cut, ending in '…' (0: never) */
  maxCell?: number;
}

/**
 * Contiv's netctl used tabwriter.NewWriter(out, 0, 2, 2, ' ', 0): min width 0, padding 2. Cells
 * are cut at 60 characters: one 1 MB value would otherwise pad every row to its width.
 */
export const CONTIV_TABS: TabwriterOptions = { minwidth: 0, padding: 2, maxCell: 60 };

/** A cell cut to `max` characters (code points), its last one '…'. */
export function truncateCell(cell: string, max: number): string {
  if (max <= 0 || cell.length <= max) return cell;
  const chars = [...cell];
  return chars.length <= max ? cell : `${chars.slice(0, max - 1).join('')}…`;
}

/** A value as one table cell: control characters (tabs and newlines would break the layout) shown as '?'. */
export function cellText(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '?'); // eslint-disable-line no-control-regex -- replacing them is the point
}

function textWidth(s: string): number {
  return [...s].length;
}

/**
 * Align tab-terminated cells into columns as Go's tabwriter does with a space pad character:
 * a column block is a run of consecutive lines that have a cell in that column; its width is the
 * widest cell plus padding. The text after the last tab of a line is not part of any column.
 */
export function tabwrite(text: string, opts: TabwriterOptions = CONTIV_TABS): string {
  const raw = text.split('\n');
  const endsWithNewline = raw[raw.length - 1] === '';
  if (endsWithNewline) raw.pop();
  const max = opts.maxCell ?? 0;
  // a line without a tab is free text, not a table row: only rows' cells are cut
  const lines = raw.map((l) => (l.includes('\t') ? l.split('\t').map((c) => truncateCell(c, max)) : [l]));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((cell, j) => {
        s += cell;
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j]! - textWidth(cell)));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let th = line0; th < line1; th++) {
      if (column >= lines[th]!.length - 1) continue;
      writeLines(start, th);
      start = th;
      let width = opts.minwidth;
      for (; th < line1; th++) {
        const line = lines[th]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, textWidth(line[column]!) + opts.padding);
      }
      widths.push(width);
      format(start, th);
      widths.pop();
      start = th;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline && out.length > 0 ? '\n' : '');
}

/** JSON as Go's json.MarshalIndent(v, "", "  ") writes it (HTML characters escaped), plus a newline. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value, null, 2)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return text + '\n';
}

/** YAML text; the yaml package is loaded only here because it costs tens of ms of start-up. */
export function toYaml(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load keeps every other netctl run fast
  const yaml = require('yaml') as typeof import('yaml');
  return yaml.stringify(value === undefined ? null : value);
}

/** Go's fmt %v for the values netctl prints in tables: slices as `[a b]`, missing as empty/zero. */
export function goValue(v: unknown, zero: '' | '0' = ''): string {
  if (v === undefined || v === null) return zero;
  if (Array.isArray(v)) return `[${v.map((x) => goValue(x)).join(' ')}]`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A cell value for a table: strings as is, numbers as decimal, missing numbers as 0. */
export function goInt(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' && v !== '') return v;
  return '0';
}

export type OutputFormat = 'table' | 'json' | 'yaml';

export interface ReadOutputOptions {
  output?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * The text for a read command: `-o yaml` / `-o json` / `-j` print the data, `-q` the names (when
 * the command has a names view), otherwise the command's own Contiv-style rendering.
 */
export function render(opts: ReadOutputOptions, data: unknown, table: () => string, names?: () => string): string {
  if (opts.output === 'yaml') return toYaml(data);
  if (opts.output === 'json' || opts.json === true) return toJson(data);
  if (opts.quiet === true && names) return names();
  return table();
}
