/**
 * The "agent registrations" phase of the netmaster benchmark (issue 15): 3 simulated agents
 * (block-agent.ts: real gRPC clients) push `count` endpoints into one network the way agents with
 * address blocks do: Register, ClaimBlock as their blocks fill, SyncEndpoints batches of `batch`
 * registrations with `inFlight` calls in flight per agent. Measured: registrations/s of the three
 * together (claims included) and each batch's latency. The reference, in the same run and against
 * the same netmaster: the same agents create the same number of endpoints in a network of the
 * same size with CreateEndpoint, `createInFlight` per agent (what an agent did per ADD before
 * blocks). Rounds alternate which goes first (the machine is shared; a fresh pair of networks each
 * round). Afterwards `endpoint ls` of every network must count its endpoints and netmaster's
 * consistency check must be clean, or the phase fails.
 */
import { performance } from 'node:perf_hooks';
import { NetloomError } from '../../lib/errors';
import { RestClient } from '../../tools/agent-sim/cluster';
import { BlockAgent, type BenchNetwork } from './block-agent';
import {
  REGISTRATION_AGENTS,
  shares,
  subnetPrefixFor,
  summarizeRegistrations,
  type RegistrationRound,
  type RegistrationsConfig,
} from './registrations-report';

const TENANT = 'breg';

export interface RegistrationsTarget {
  /** netmaster's REST base, http://127.0.0.1:PORT */
  rest: string;
  /** netmaster's gRPC agent API, 127.0.0.1:PORT */
  grpc: string;
}

/** Networks of 2^(32 - prefix) addresses laid end to end from 10.0.0.0 (the tenant is ours alone). */
function networkAt(index: number, prefix: number, name: string): BenchNetwork {
  const size = 2 ** (32 - prefix);
  const base = 0x0a000000 + index * size;
  if (base + size > 0x0b000000)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      'too many endpoints and rounds for 10.0.0.0/8: lower --registrations or --registration-rounds',
      {
        field: '--registrations',
      },
    );
  const ip = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  return { tenant: TENANT, network: name, subnet: `${ip(base)}/${prefix}`, gateway: ip(base + 1) };
}

async function mustPost(rest: RestClient, path: string, body: unknown): Promise<void> {
  const r = await rest.post(path, body);
  if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${r.text.slice(0, 300)}`);
}

/**
 * Run each agent's share of `count` items with `width` calls in flight per agent; `call` gets the
 * agent and the item indexes of one call and returns that call's latency (ms). Returns items/s
 * over all agents and the latencies.
 */
async function drive(
  agents: readonly BlockAgent[],
  count: number,
  perCall: number,
  width: number,
  call: (agent: BlockAgent, a: number, items: number[]) => Promise<number>,
): Promise<{ perSec: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    shares(count, agents.length).map(async (share, a) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(width, Math.ceil(share / perCall)) }, async () => {
          while (next < share) {
            const items = Array.from({ length: Math.min(perCall, share - next) }, (_, k) => next + k);
            next += items.length;
            latenciesMs.push(await call(agents[a]!, a, items));
          }
        }),
      );
    }),
  );
  return { perSec: count / ((performance.now() - t0) / 1000), latenciesMs };
}

async function registerAll(agents: readonly BlockAgent[], net: BenchNetwork, cfg: RegistrationsConfig) {
  const claimsBefore = agents.reduce((n, a) => n + a.claims, 0);
  const r = await drive(agents, cfg.count, cfg.batch, cfg.inFlight, async (agent, a, items) => {
    // allocating is the agent's own work before netmaster hears of it: outside the batch's latency
    const regs = await agent.allocate(
      net,
      items.map((i) => `${net.network}-h${a}-${i}`),
    );
    const s = performance.now();
    const res = await agent.client.syncEndpoints({ deregister: [], register: regs });
    const ms = performance.now() - s;
    const bad = res.registered.find((x) => x.outcome !== 'OK');
    if (bad || res.registered.length !== regs.length)
      throw new Error(`SyncEndpoints of ${agent.host} refused ${bad?.endpointId ?? '(missing results)'}: ${bad?.outcome} ${bad?.message}`);
    return ms;
  });
  return { ...r, claims: agents.reduce((n, a) => n + a.claims, 0) - claimsBefore };
}

function createAll(agents: readonly BlockAgent[], net: BenchNetwork, cfg: RegistrationsConfig) {
  return drive(agents, cfg.count, 1, cfg.createInFlight, async (agent, a, [i]) => {
    const key = `${net.network}-h${a}-${i}`;
    const s = performance.now();
    await agent.client.createEndpoint({
      idempotencyKey: key,
      tenant: net.tenant,
      network: net.network,
      containerId: key,
      intfName: 'eth0',
    });
    return performance.now() - s;
  });
}

/** `endpoint ls -n NET` must count `want` endpoints. */
async function checkCount(rest: RestClient, net: BenchNetwork, want: number): Promise<void> {
  const r = await rest.get(`/api/v1/endpoints/?network=${encodeURIComponent(`${net.tenant}:${net.network}`)}`, 60_000);
  if (r.status !== 200) throw new Error(`GET endpoints of ${net.network}: ${r.status} ${r.text.slice(0, 300)}`);
  const n = (JSON.parse(r.text) as unknown[]).length;
  if (n !== want) throw new Error(`endpoint ls of ${net.tenant}:${net.network} counts ${n} endpoints, not ${want}`);
}

/** netmaster's consistency check must be clean. */
async function checkConsistency(rest: RestClient): Promise<{ endpoints: number }> {
  const r = await rest.get('/api/v1/consistency', 120_000);
  if (r.status !== 200) throw new Error(`GET consistency: ${r.status} ${r.text.slice(0, 300)}`);
  const report = JSON.parse(r.text) as {
    clean: boolean;
    leaked: unknown[];
    missing: unknown[];
    invalid: unknown[];
    counts: { endpoints: number };
  };
  if (!report.clean)
    throw new Error(
      `consistency check not clean after the registrations phase: ${JSON.stringify({ leaked: report.leaked.slice(0, 5), missing: report.missing.slice(0, 5), invalid: report.invalid.slice(0, 5) })}`,
    );
  return report.counts;
}

/** Run the phase; `say` gets the progress lines. Returns the figures of the JSON line. */
export async function runRegistrations(
  target: RegistrationsTarget,
  cfg: RegistrationsConfig,
  say: (line: string) => void,
): Promise<Record<string, unknown>> {
  const rest = new RestClient(target.rest);
  const agents = Array.from({ length: REGISTRATION_AGENTS }, (_, a) => new BlockAgent(`bench-reg-h${a}`, target.grpc, `192.0.2.${10 + a}`));
  try {
    await mustPost(rest, `/api/v1/tenants/${TENANT}/`, { tenantName: TENANT });
    await Promise.all(agents.map((a) => a.start()));
    const prefix = subnetPrefixFor(cfg.count, agents.length);
    const rounds: RegistrationRound[] = [];
    for (let r = 0; r < cfg.rounds; r++) {
      const reg = networkAt(2 * r, prefix, `reg${r}`);
      const ref = networkAt(2 * r + 1, prefix, `ref${r}`);
      for (const n of [reg, ref])
        await mustPost(rest, `/api/v1/networks/${TENANT}:${n.network}/`, {
          tenantName: TENANT,
          networkName: n.network,
          encap: 'vxlan',
          subnet: n.subnet,
          gateway: n.gateway,
        });
      // alternate which goes first: a machine that gets busier during a round favours neither
      let regs: Awaited<ReturnType<typeof registerAll>> | undefined;
      let creates: Awaited<ReturnType<typeof createAll>> | undefined;
      if (r % 2 === 0) {
        regs = await registerAll(agents, reg, cfg);
        creates = await createAll(agents, ref, cfg);
      } else {
        creates = await createAll(agents, ref, cfg);
        regs = await registerAll(agents, reg, cfg);
      }
      await checkCount(rest, reg, cfg.count);
      await checkCount(rest, ref, cfg.count);
      rounds.push({
        registrationsPerSec: regs.perSec,
        batchLatenciesMs: regs.latenciesMs,
        claims: regs.claims,
        createsPerSec: creates.perSec,
        createLatenciesMs: creates.latenciesMs,
      });
      say(
        `  round ${r + 1}/${cfg.rounds} (${r % 2 === 0 ? 'registrations first' : 'creates first'}, /${prefix} networks): ` +
          `${Math.round(regs.perSec)} registrations/s (${regs.claims} claims), ${Math.round(creates.perSec)} creates/s`,
      );
    }
    const counts = await checkConsistency(rest);
    const figures = summarizeRegistrations(cfg, rounds);
    const lat = figures.batchLatencyMs as { p50: number; p99: number };
    const clat = figures.createLatencyMs as { p50: number; p99: number };
    const lines: Array<[string, string]> = [
      [`registrations, ${cfg.batch} per batch, ${cfg.inFlight} in flight per agent`, `${String(figures.registrationsPerSec)} /s`],
      ['registration batch latency p50 / p99', `${lat.p50} / ${lat.p99} ms`],
      [`reference: CreateEndpoint, ${cfg.createInFlight} in flight per agent`, `${String(figures.createsPerSec)} /s`],
      ['CreateEndpoint latency p50 / p99', `${clat.p50} / ${clat.p99} ms`],
      [
        'registrationsVsCreate',
        `${String(figures.registrationsVsCreate)} (by round: ${(figures.registrationsVsCreateByRound as number[]).join(', ')})`,
      ],
    ];
    for (const [what, v] of lines) say(`${what.padEnd(56)} ${v}`);
    say(
      `consistency check clean with ${counts.endpoints} endpoints; endpoint ls counts ${cfg.count} in each network (medians of ${cfg.rounds} round(s))`,
    );
    return { ...figures, consistencyClean: true, endpointsCounted: cfg.count };
  } finally {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    rest.close();
  }
}
