/**
 * `netctl consistency` (netloom): runs netmaster's consistency check (`GET /api/v1/consistency`)
 * and prints the report. Exits 1 when the report says the state is not consistent
 * (`consistent: false` or `ok: false`), so scripts can gate on it.
 */
import type { Command } from 'commander';
import { NetloomError } from '../../lib/errors';
import { asObject } from '../client';
import { action, outputOption, type Runtime } from '../context';
import { toJson, toYaml } from '../format';

/** Problems listed by a report, under whichever common name the server uses. */
export function reportProblems(report: Record<string, unknown>): unknown[] {
  for (const k of ['problems', 'issues', 'inconsistencies', 'errors']) {
    const v = report[k];
    if (Array.isArray(v)) return v;
  }
  return [];
}

export function reportIsConsistent(report: Record<string, unknown>): boolean {
  if (report['consistent'] === false || report['ok'] === false) return false;
  if (report['consistent'] === true || report['ok'] === true) return true;
  return reportProblems(report).length === 0;
}

export function registerConsistency(program: Command, rt: Runtime): void {
  outputOption(program.command('consistency').description("Run netmaster's consistency check and print the report")).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const raw = await client().get('/api/v1/consistency');
      out(opts['output'] === 'yaml' ? toYaml(raw) : toJson(raw));
      const report = asObject(raw);
      if (!reportIsConsistent(report)) {
        const n = reportProblems(report).length;
        throw new NetloomError('CONFLICT', `netmaster state is not consistent${n > 0 ? `: ${n} problem(s)` : ''}`);
      }
    }),
  );
}
