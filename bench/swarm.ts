/**
 * Swarm service start-up: the time from `docker service create --replicas 6` to every task
 * reachable, on a netloom network (the managed plugin, docs/orchestrators.md) and on Docker's own
 * overlay network, in the same run on the same 3-host lab in swarm mode (bench/support/swarm-lab.ts).
 * "Reachable": each of the 6 tasks answers a ping from a probe container attached to the same
 * network on host1 (tasks found per host with `docker ps`, their addresses read in their namespace).
 * Rounds alternate which network goes first; medians and the ratio netloom / overlay (goal at most
 * 1.0x). Everything is removed afterwards, also on failure. Needs root.
 * Usage: npm run bench -- swarm [--rounds N] [--replicas N]
 */
import { loadavg } from 'node:os';
import { waitFor } from '../lib/clock';
import { errorMessage, NetloomError } from '../lib/errors';
import { docker, inNetns, NETLOOM_NET, OVERLAY_NET, SwarmBench, SWARM_BENCH_LAB, type SwarmTask } from './support/swarm-lab';

export const description = 'swarm: docker service create --replicas 6 to all tasks reachable, netloom network vs Docker overlay (same run)';

const say = (s: string) => process.stdout.write(`${s}\n`);

interface Args {
  rounds: number;
  replicas: number;
}

export function parseSwarmArgs(args: string[]): Args {
  const out: Args = { rounds: 3, replicas: 6 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = Number(args[i + 1]);
    if (a === '--rounds' && Number.isInteger(v) && v >= 1 && v <= 20) out.rounds = v;
    else if (a === '--replicas' && Number.isInteger(v) && v >= 1 && v <= 30) out.replicas = v;
    else
      throw new NetloomError('INVALID_ARGUMENT', `unknown or bad argument ${a ?? ''} (--rounds 1..20, --replicas 1..30)`, {
        field: a ?? '',
      });
    i++;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** A probe container on host1 attached to `network`; returns its PID. */
async function probe(network: string, name: string): Promise<number> {
  await docker('host1', ['rm', '-f', name], true);
  await docker('host1', ['run', '-d', '--name', name, '--network', network, 'netloom/busybox', 'sleep', '3600']);
  return Number((await docker('host1', ['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim());
}

/** Milliseconds from `service create` to all `replicas` tasks answering the probe. */
async function timeToReachable(lab: SwarmBench, network: string, probePid: number, replicas: number, round: number): Promise<number> {
  const service = `swbs${network === NETLOOM_NET ? 'n' : 'o'}${round}`;
  const t0 = Date.now();
  await lab.createService(service, network, replicas);
  const answered = new Set<string>();
  let ts: SwarmTask[] = [];
  await waitFor(
    `${replicas} tasks of ${service} reachable`,
    async () => {
      ts = await lab.tasks(service);
      for (const t of ts) {
        if (answered.has(t.ip)) continue;
        if ((await inNetns(probePid, ['ping', '-c', '1', '-W', '1', t.ip])).code === 0) answered.add(t.ip);
      }
      return ts.length === replicas && ts.every((t) => answered.has(t.ip));
    },
    { timeoutMs: 300_000, intervalMs: 100 },
  );
  const ms = Date.now() - t0;
  const hosts = [...new Set(ts.map((t) => t.host))].length;
  say(`  round ${round} ${network}: ${replicas} tasks on ${hosts} hosts reachable in ${ms} ms`);
  await lab.removeService(service);
  return ms;
}

export async function run(args: string[]): Promise<void> {
  const opts = parseSwarmArgs(args);
  const load0 = loadavg()[0] ?? 0;
  say(`swarm: ${opts.replicas} replicas, ${opts.rounds} round(s), lab ${SWARM_BENCH_LAB} (3 hosts); load average ${load0.toFixed(2)}`);
  const lab = new SwarmBench();
  const times: Record<string, number[]> = { [NETLOOM_NET]: [], [OVERLAY_NET]: [] };
  const t = Date.now();
  try {
    await lab.up(3);
    say(`lab up, swarm of 3 with ${lab.plugin}, in ${Date.now() - t} ms`);
    const probes: Record<string, number> = {
      [NETLOOM_NET]: await probe(NETLOOM_NET, 'swbprobe-n'),
      [OVERLAY_NET]: await probe(OVERLAY_NET, 'swbprobe-o'),
    };
    for (let r = 1; r <= opts.rounds; r++) {
      const order = r % 2 === 1 ? [NETLOOM_NET, OVERLAY_NET] : [OVERLAY_NET, NETLOOM_NET];
      for (const net of order) times[net]?.push(await timeToReachable(lab, net, probes[net] ?? 0, opts.replicas, r));
    }
  } finally {
    await lab.teardown().catch((e: unknown) => say(`teardown: ${errorMessage(e)}`));
  }
  const load1 = loadavg()[0] ?? 0;
  const nl = median(times[NETLOOM_NET] ?? []);
  const ov = median(times[OVERLAY_NET] ?? []);
  const ratio = ov > 0 ? nl / ov : 0;
  say('');
  say('| network | median ms | rounds (ms) |');
  say('|---|---|---|');
  say(`| netloom (managed plugin) | ${nl.toFixed(0)} | ${(times[NETLOOM_NET] ?? []).join(', ')} |`);
  say(`| Docker overlay | ${ov.toFixed(0)} | ${(times[OVERLAY_NET] ?? []).join(', ')} |`);
  say(`ratio netloom / overlay: ${ratio.toFixed(2)}x (goal <= 1.0x); load average ${load0.toFixed(2)} -> ${load1.toFixed(2)}`);
  say(
    JSON.stringify({
      benchmark: 'swarm',
      replicas: opts.replicas,
      rounds: opts.rounds,
      netloomMs: times[NETLOOM_NET],
      overlayMs: times[OVERLAY_NET],
      medianNetloomMs: nl,
      medianOverlayMs: ov,
      ratio,
      goal: 1.0,
      load: { start: load0, end: load1 },
    }),
  );
}
