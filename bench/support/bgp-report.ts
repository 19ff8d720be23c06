/**
 * The BGP benchmark's arguments and summary (pure): route convergence (a block claimed on host1 ->
 * the route in host3's kernel, and its release -> the route gone) as p50/p99/max over rounds, and
 * withdrawal after a host death, two ways: a frozen host (no FIN: only the hold timer ends the
 * session, the bound the issue sets) and a host whose processes are killed (the kernel closes the
 * session at once).
 */
import { NetloomError } from '../../lib/errors';
import { percentile } from './registrations-report';

export interface BgpBenchConfig {
  /** block claim/release rounds */
  rounds: number;
  /** host deaths of each kind */
  deaths: number;
  /** the session hold time (s) the speakers and the tor use */
  holdTimeS: number;
}

export const BGP_USAGE = `usage: npm run bench -- bgp [--rounds N (20)] [--deaths N (3)] [--hold-time S (9)]
  3 host namespaces with gobgpd run by the agent's BGP speaker, BIRD as their eBGP tor (10.216.18.0/24, bgbn-*).`;

function intArg(v: string | undefined, flag: string, min: number, max: number): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new NetloomError('INVALID_ARGUMENT', `${flag} must be an integer ${min}..${max}`, { field: flag });
  return Number(v);
}

export function parseBgpBenchArgs(args: readonly string[]): BgpBenchConfig {
  const c: BgpBenchConfig = { rounds: 20, deaths: 3, holdTimeS: 9 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === '--rounds') c.rounds = intArg(v, a, 1, 150);
    else if (a === '--deaths') c.deaths = intArg(v, a, 0, 20);
    else if (a === '--hold-time') c.holdTimeS = intArg(v, a, 3, 90);
    else throw new NetloomError('INVALID_ARGUMENT', `unknown argument ${a}\n${BGP_USAGE}`, { field: a });
    i++;
  }
  return c;
}

export interface Distribution {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function distribution(ms: readonly number[]): Distribution {
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: ms.length, p50Ms: r(percentile(ms, 50)), p99Ms: r(percentile(ms, 99)), maxMs: r(ms.length ? Math.max(...ms) : 0) };
}

export interface BgpBenchResult {
  benchmark: 'bgp';
  holdTimeS: number;
  /** block claimed on host1 -> route in host3's kernel */
  convergence: Distribution;
  /** block released on host1 -> route gone from host3's kernel */
  release: Distribution;
  /** host frozen (no FIN) -> its block gone from host3's kernel: bounded by the hold time */
  withdrawalFrozen: Distribution;
  /** host's processes killed -> its block gone from host3's kernel */
  withdrawalKilled: Distribution;
  /** every frozen-host withdrawal within the hold time */
  withinHoldTime: boolean;
}

export function summarizeBgp(
  c: BgpBenchConfig,
  m: { convergence: number[]; release: number[]; frozen: number[]; killed: number[] },
): BgpBenchResult {
  return {
    benchmark: 'bgp',
    holdTimeS: c.holdTimeS,
    convergence: distribution(m.convergence),
    release: distribution(m.release),
    withdrawalFrozen: distribution(m.frozen),
    withdrawalKilled: distribution(m.killed),
    withinHoldTime: m.frozen.every((x) => x <= c.holdTimeS * 1000),
  };
}
