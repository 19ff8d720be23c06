/**
 * The pure parts of the netmaster benchmark's "agent registrations" phase (bench/support/
 * registrations.ts): its arguments, the size of the networks it fills, how the endpoints are
 * shared among the agents, and the figures of the JSON line (medians over rounds, the ratio of
 * registrations/s to the CreateEndpoint reference measured in the same run).
 */
import { NetloomError } from '../../lib/errors';

export interface RegistrationsConfig {
  /** endpoints registered per round (and created by the reference; 0: no registrations phase) */
  count: number;
  /** registrations per SyncEndpoints call */
  batch: number;
  /** SyncEndpoints calls in flight per agent */
  inFlight: number;
  /** CreateEndpoint calls in flight per agent (the reference) */
  createInFlight: number;
  rounds: number;
}

export const REGISTRATION_AGENTS = 3;

export const DEFAULT_REGISTRATIONS: RegistrationsConfig = { count: 3000, batch: 50, inFlight: 4, createInFlight: 8, rounds: 2 };

const FLAGS: Record<string, { key: keyof RegistrationsConfig; min: number; max: number }> = {
  '--registrations': { key: 'count', min: 0, max: 200_000 },
  '--registration-batch': { key: 'batch', min: 1, max: 1000 },
  '--registration-in-flight': { key: 'inFlight', min: 1, max: 64 },
  '--create-in-flight': { key: 'createInFlight', min: 1, max: 256 },
  '--registration-rounds': { key: 'rounds', min: 1, max: 20 },
};

/** The phase's flags among the benchmark's arguments (others are left alone); bad values name the flag. */
export function parseRegistrationsArgs(args: readonly string[]): RegistrationsConfig {
  const cfg = { ...DEFAULT_REGISTRATIONS };
  args.forEach((a, i) => {
    const f = FLAGS[a];
    if (!f) return;
    const text = args[i + 1];
    const n = Number(text);
    if (text === undefined || !Number.isInteger(n) || n < f.min || n > f.max) {
      throw new NetloomError('INVALID_ARGUMENT', `${a} must be an integer from ${f.min} to ${f.max}, got '${text ?? ''}'`, { field: a });
    }
    cfg[f.key] = n;
  });
  return cfg;
}

/** How many of `count` endpoints each of `agents` agents takes (the first ones take the remainder). */
export function shares(count: number, agents: number): number[] {
  return Array.from({ length: agents }, (_, a) => Math.floor(count / agents) + (a < count % agents ? 1 : 0));
}

/**
 * The prefix length of a subnet that holds `count` endpoints given from blocks of `blockPrefix`
 * by `agents` agents: every agent's last block may be nearly empty, a block may hold the gateway
 * and the subnet's own addresses, and a quarter is spare. Never longer than 24 (a subnet of one
 * block would be served whole by netmaster) nor shorter than 8.
 */
export function subnetPrefixFor(count: number, agents: number, blockPrefix = 26): number {
  const blockSize = 2 ** (32 - blockPrefix);
  const blocks = Math.ceil(count / (blockSize - 3)) + agents;
  const need = Math.ceil(blocks * blockSize * 1.25);
  const prefix = 32 - Math.ceil(Math.log2(need));
  if (prefix < 8)
    throw new NetloomError('INVALID_ARGUMENT', `--registrations ${count} needs a subnet larger than a /8`, { field: '--registrations' });
  return Math.min(24, prefix);
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** One round's measurements. */
export interface RegistrationRound {
  /** endpoints registered per second, all agents together (ClaimBlock calls included) */
  registrationsPerSec: number;
  /** each SyncEndpoints call's latency, ms */
  batchLatenciesMs: number[];
  claims: number;
  /** the reference: endpoints created per second with CreateEndpoint, all agents together */
  createsPerSec: number;
  createLatenciesMs: number[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The median (the mean of the two middle values of an even count; 0 for none). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The phase's figures: medians over rounds, latency percentiles over every call of every round. */
export function summarizeRegistrations(cfg: RegistrationsConfig, rounds: readonly RegistrationRound[]): Record<string, unknown> {
  const batches = rounds.flatMap((r) => r.batchLatenciesMs);
  const creates = rounds.flatMap((r) => r.createLatenciesMs);
  const ratios = rounds.map((r) => (r.createsPerSec > 0 ? r.registrationsPerSec / r.createsPerSec : 0));
  return {
    agents: REGISTRATION_AGENTS,
    endpoints: cfg.count,
    batch: cfg.batch,
    inFlightPerAgent: cfg.inFlight,
    createInFlightPerAgent: cfg.createInFlight,
    rounds: rounds.length,
    registrationsPerSec: Math.round(median(rounds.map((r) => r.registrationsPerSec))),
    batchLatencyMs: { p50: round1(percentile(batches, 50)), p99: round1(percentile(batches, 99)) },
    claimsPerRound: Math.round(median(rounds.map((r) => r.claims))),
    createsPerSec: Math.round(median(rounds.map((r) => r.createsPerSec))),
    createLatencyMs: { p50: round1(percentile(creates, 50)), p99: round1(percentile(creates, 99)) },
    registrationsVsCreate: Math.round(median(ratios) * 100) / 100,
    registrationsVsCreateByRound: ratios.map((x) => Math.round(x * 100) / 100),
  };
}
