/**
 * BGP mode's control plane timings (issue 16), against real gobgpd (run by the agent's
 * BgpSpeaker) and BIRD in namespaces (bench/support/bgp-fabric.ts):
 *  - convergence: a block claimed on host1 (its new host state given to its speaker) -> the route
 *    in host3's kernel (seen by `ip monitor route`), and its release -> the route gone; --rounds;
 *  - withdrawal after host death (--deaths of each kind): host2 frozen (SIGSTOP: no FIN, only the
 *    hold timer ends the session, the bound) and host2's gobgpd killed (the session ends at
 *    once) -> host2's block gone from host3's kernel; host2 is started again between deaths.
 * Progress on stderr; figures, then the JSON result as the last line of stdout.
 * Usage: npm run bench -- bgp [--rounds 20] [--deaths 3] [--hold-time 9]
 */
import { waitFor } from '../lib/clock';
import { BgpBenchFabric } from './support/bgp-fabric';
import { BGP_USAGE, parseBgpBenchArgs, summarizeBgp } from './support/bgp-report';
import { runIfMain } from './support/standalone';

export const description = 'BGP mode: block claimed on host1 -> route in host3 (p50/p99), withdrawal after a host dies';

const say = (s: string): void => void process.stderr.write(`${s}\n`);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    process.stdout.write(`${BGP_USAGE}\n`);
    return;
  }
  const cfg = parseBgpBenchArgs(args);
  const fabric = new BgpBenchFabric(3, cfg.holdTimeS);
  const m = { convergence: [] as number[], release: [] as number[], frozen: [] as number[], killed: [] as number[] };
  let h3: ReturnType<BgpBenchFabric['routeEvents']> | undefined;
  try {
    await fabric.up();
    const ev = (h3 = fabric.routeEvents(3));
    for (const n of [1, 2, 3]) await fabric.startSpeaker(n);
    for (const n of [1, 2, 3]) await fabric.established(n);
    await waitFor(
      'h3 has the blocks of h1 and h2',
      async () => (await fabric.hasRoute(3, '10.63.1.0/26')) && (await fabric.hasRoute(3, '10.63.2.0/26')),
      {
        timeoutMs: 30_000,
      },
    );
    say(`fabric up; ${cfg.rounds} claim/release rounds`);
    const h1 = fabric.speakers.get(1)!;
    for (let i = 0; i < cfg.rounds; i++) {
      const block = `10.63.${100 + i}.0/26`;
      fabric.blocks.get(1)!.push(block);
      let seen = ev.until(block, true, 30_000);
      let t0 = performance.now();
      await h1.update(fabric.state(1));
      m.convergence.push((await seen) - t0);
      fabric.blocks.set(
        1,
        fabric.blocks.get(1)!.filter((b) => b !== block),
      );
      seen = ev.until(block, false, 30_000);
      t0 = performance.now();
      await h1.update(fabric.state(1));
      m.release.push((await seen) - t0);
    }
    const block2 = fabric.blocks.get(2)![0]!;
    for (let k = 0; k < cfg.deaths; k++) {
      for (const kind of ['frozen', 'killed'] as const) {
        const sp = fabric.speakers.get(2)!;
        const pid = sp.gobgpd?.pid;
        if (pid === undefined) throw new Error('h2 has no gobgpd');
        // the agent dies with its host: nothing restarts gobgpd
        await sp.stop();
        const gone = ev.until(block2, false, (cfg.holdTimeS + 10) * 1000);
        const t0 = performance.now();
        process.kill(pid, kind === 'frozen' ? 'SIGSTOP' : 'SIGKILL');
        m[kind].push((await gone) - t0);
        say(`host2 ${kind}: its block gone from host3 after ${m[kind].at(-1)!.toFixed(0)} ms`);
        if (kind === 'frozen') process.kill(pid, 'SIGKILL');
        // the host comes back: a new agent starts a new gobgpd
        await waitFor('the dead gobgpd gone', () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        });
        await fabric.startSpeaker(2);
        await fabric.established(2);
        await waitFor("h2's block back on h3", () => fabric.hasRoute(3, block2), { timeoutMs: 30_000 });
      }
    }
  } finally {
    h3?.close();
    await fabric.down();
  }
  const r = summarizeBgp(cfg, m);
  const line = (what: string, d: { n: number; p50Ms: number; p99Ms: number; maxMs: number }) =>
    `${what.padEnd(44)} n=${d.n}  p50 ${d.p50Ms} ms  p99 ${d.p99Ms} ms  max ${d.maxMs} ms`;
  process.stdout.write(
    [
      line('block claimed on host1 -> route in host3', r.convergence),
      line('block released on host1 -> route gone', r.release),
      line(`host frozen -> withdrawn (hold time ${cfg.holdTimeS} s)`, r.withdrawalFrozen),
      line('gobgpd killed -> withdrawn', r.withdrawalKilled),
      JSON.stringify(r),
      '',
    ].join('\n'),
  );
}

runIfMain(module, run);
