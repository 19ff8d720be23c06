/**
 * Dead-host cleanup, run by the leader only (`runWhileLeader`). A host counts once it has
 * registered (`agent/known/<host>`); when its agent record (`agent/host/<host>`, on the agent's
 * lease) has been gone for longer than the grace period (default 60 s), its endpoints are
 * released through the service (idempotent deletes), then its address blocks (issue 15: no
 * endpoint of it holds an address in them any more), the release is logged and counted, and the
 * known marker is removed. A host whose agent registers again within the grace loses nothing.
 * A newly elected leader gives every absent host a full grace period from its election.
 */
import { Counter, type Registry } from 'prom-client';
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { NetmasterService } from '../service/service';
import { agentLayout } from '../store/agent-layout';

export const DEFAULT_DEAD_HOST_GRACE_MS = 60_000;

export interface LivenessMetrics {
  deadHosts: Counter;
  releasedEndpoints: Counter;
  releasedBlocks: Counter;
}

export function createLivenessMetrics(registry?: Registry): LivenessMetrics {
  const registers = registry ? [registry] : [];
  return {
    deadHosts: new Counter({
      name: 'netmaster_agent_dead_hosts_total',
      help: 'Hosts whose agent was gone longer than the grace period and whose endpoints were released',
      registers,
    }),
    releasedEndpoints: new Counter({
      name: 'netmaster_agent_dead_host_endpoints_released_total',
      help: 'Endpoints released because their host was dead',
      registers,
    }),
    releasedBlocks: new Counter({
      name: 'netmaster_agent_dead_host_blocks_released_total',
      help: 'Address blocks released because their host was dead',
      registers,
    }),
  };
}

export interface LivenessOptions {
  service: NetmasterService;
  logger: Logger;
  graceMs?: number;
  clock?: Clock;
  metrics?: LivenessMetrics;
  /** how often deadlines are checked (default grace/5, at most 1 s) */
  tickMs?: number;
}

/**
 * The liveness task: runs until `signal` aborts; when etcd fails it starts again after a pause
 * (absent hosts then get a full grace period again). Hand it to `runWhileLeader(elector, (s) =>
 * runLiveness(opts, s))`.
 */
export async function runLiveness(opts: LivenessOptions, signal: AbortSignal): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const metrics = opts.metrics ?? createLivenessMetrics();
  // 200 ms doubling to 5 s between restarts of the task
  const backoff = new Backoff({ initialMs: 200, maxMs: 5000 }, { clock });
  for (let attempt = 0; !signal.aborted && attempt < Number.MAX_SAFE_INTEGER; attempt++) {
    try {
      await livenessRound({ ...opts, metrics }, signal);
      return;
    } catch (e) {
      if (signal.aborted) return;
      opts.logger.warn({ err: e instanceof Error ? e.message : String(e), attempt }, 'agent liveness task failed: starting again');
      await backoff.wait(signal);
    }
  }
}

async function livenessRound(opts: LivenessOptions & { metrics: LivenessMetrics }, signal: AbortSignal): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const grace = opts.graceMs ?? DEFAULT_DEAD_HOST_GRACE_MS;
  const tick = opts.tickMs ?? Math.max(50, Math.min(1000, Math.floor(grace / 5)));
  const kv = opts.service.kv;
  const metrics = opts.metrics;
  const present = new Set<string>();
  const known = new Set<string>();
  const goneSince = new Map<string, number>();

  const { revision, results } = await kv.read([
    { kind: 'prefix', prefix: agentLayout.hostPrefix, keysOnly: true },
    { kind: 'prefix', prefix: agentLayout.knownPrefix, keysOnly: true },
  ]);
  for (const e of results[0]?.kvs ?? []) present.add(e.key.slice(agentLayout.hostPrefix.length));
  for (const e of results[1]?.kvs ?? []) known.add(e.key.slice(agentLayout.knownPrefix.length));
  const start = clock.monotonic();
  for (const h of known) if (!present.has(h)) goneSince.set(h, start);

  let watchError: Error | undefined;
  const stopWatch = await kv.watch(
    agentLayout.root,
    revision,
    (e) => {
      if (e.key.startsWith(agentLayout.hostPrefix)) {
        const h = e.key.slice(agentLayout.hostPrefix.length);
        if (e.type === 'put') {
          present.add(h);
          if (goneSince.delete(h)) opts.logger.info({ host: h }, 'agent came back within the grace period');
        } else {
          present.delete(h);
          if (known.has(h)) goneSince.set(h, clock.monotonic());
          opts.logger.warn({ host: h, graceMs: grace }, 'agent record gone (lease expired or revoked)');
        }
      } else if (e.key.startsWith(agentLayout.knownPrefix)) {
        const h = e.key.slice(agentLayout.knownPrefix.length);
        if (e.type === 'put') known.add(h);
        else {
          known.delete(h);
          goneSince.delete(h);
        }
      }
    },
    (err) => {
      watchError = err;
    },
  );
  opts.logger.info({ graceMs: grace, known: known.size, present: present.size }, 'agent liveness task started');
  try {
    while (!signal.aborted) {
      if (watchError) throw watchError;
      const now = clock.monotonic();
      for (const [h, since] of [...goneSince]) {
        if (signal.aborted) break;
        if (now - since < grace) continue;
        await releaseHost(opts, h, now - since, metrics);
        goneSince.delete(h);
      }
      await clock.sleep(tick, signal);
    }
  } finally {
    await stopWatch();
  }
}

async function releaseHost(opts: LivenessOptions, host: string, goneMs: number, metrics: LivenessMetrics): Promise<void> {
  const kv = opts.service.kv;
  // the record may have come back after the tick read our in-memory state
  if (await kv.get(agentLayout.host(host))) return;
  const eps = await opts.service.listEndpoints({ host });
  let released = 0;
  for (const ep of eps) {
    const r = await opts.service.deleteEndpoint(ep.endpointID);
    if (r.deleted) released++;
  }
  const blocks = await opts.service.blocks.releaseHost(host);
  // forget the host unless it registered meanwhile
  await kv.commit(
    [{ kind: 'modEquals', key: agentLayout.host(host), modRevision: '0' }],
    [{ kind: 'delete', key: agentLayout.known(host) }],
  );
  metrics.deadHosts.inc();
  metrics.releasedEndpoints.inc(released);
  metrics.releasedBlocks.inc(blocks.length);
  opts.logger.warn(
    { host, goneMs, released, endpoints: eps.map((e) => e.endpointID), blocks: blocks.map((b) => `${b.network} ${b.cidr}`) },
    'dead host: endpoints and address blocks released',
  );
}
