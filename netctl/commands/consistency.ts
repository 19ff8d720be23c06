/**
 * `netctl consistency [--repair]` (netloom): runs netmaster's consistency check (`GET
 * /api/v1/consistency`; with --repair `POST` `{"repair":true}`) and prints the report. Exits 1 when
 * the report says the state is not clean (`clean: false`; also `consistent`/`ok: false`), so that
 * scripts can gate on it.
 */
import type { Command } from 'commander';
import { NetloomError } from '../../lib/errors';
import { asObject } from '../client';
import { action, outputOption, type Runtime } from '../context';
import { toJson, toYaml } from '../format';

/** Problems listed by a report, under whichever common name the server uses. */
export function reportProblems(report: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const k of ['leaked', 'missing', 'invalid', 'problems', 'issues']) {
    const v = report[k];
    if (Array.isArray(v)) out.push(...(v as unknown[]));
  }
  return out;
}

export function reportIsConsistent(report: Record<string, unknown>): boolean {
  for (const k of ['clean', 'consistent', 'ok']) {
    if (report[k] === false) return false;
    if (report[k] === true) return true;
  }
  return reportProblems(report).length === 0;
}

export function registerConsistency(program: Command, rt: Runtime): void {
  outputOption(
    program
      .command('consistency')
      .description("Run netmaster's consistency check and print the report (exit 1 when not clean)")
      .option('--repair', 'let netmaster repair what it found (leaked or missing allocations)'),
  ).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const raw =
        opts['repair'] === true ? await client().post('/api/v1/consistency', { repair: true }) : await client().get('/api/v1/consistency');
      out(opts['output'] === 'yaml' ? toYaml(raw) : toJson(raw));
      const report = asObject(raw);
      if (!reportIsConsistent(report)) {
        const n = reportProblems(report).length;
        throw new NetloomError('CONFLICT', `netmaster state is not consistent${n > 0 ? `: ${n} problem(s)` : ''}`);
      }
    }),
  );
}
