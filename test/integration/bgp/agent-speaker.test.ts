/**
 * The agent's BGP speaker (netplugin/agent/bgp-speaker.ts) driven by host states as netmaster
 * sends them (a routed network in Contiv's form: vlan, routing mode, one Bgp object per host),
 * against real gobgpd and BIRD (fabric.ts, its own names: bgag-*, 10.216.17.0/24). Shown: the tor
 * has one route per host block (plus a /32 for an address outside the blocks), each host's kernel
 * the others' blocks (proto 80) and not its own; a block claimed on host1 reaches host3's kernel
 * (timed); an agent restart changes nothing the tor sees; a SIGKILLed gobgpd is back within the
 * hold time; a host that stops answering has its routes withdrawn within the hold time; a neighbor
 * that never answers shows Active/Connect at once; BGP settings removed stop gobgpd and its routes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import { isAlive, stopProcess } from '../../../lib/process';
import { BgpSpeaker } from '../../../netplugin/agent/bgp-speaker';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';
import { assertSameRoute, Fabric, TOR_AS } from './fabric';

const HOLD_S = 9;
const NET = 't1:routed';
const blockOf = (n: number): string => `10.61.0.${(n - 1) * 64}/26`;
/** an endpoint of host1 with a static address outside its block: announced as a /32 */
const STRAY = '10.61.9.9';

describe('agent BGP speaker: host states -> gobgpd, BIRD and the kernels', function () {
  this.timeout(240_000);
  const fabric = new Fabric(3, { prefix: 'bgag', octet: 17 });
  const speakers = new Map<number, BgpSpeaker>();
  const extraBlocks = new Map<number, string[]>();
  const logger = createLogger('bgp-speaker-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  function state(n: number, over: { neighbors?: string[]; noBgp?: boolean } = {}): HostState {
    const blocks = [1, 2, 3].flatMap((h) =>
      [blockOf(h), ...(extraBlocks.get(h) ?? [])].map((cidr) => ({ network: NET, cidr, host: `h${h}`, vtepIp: fabric.ip(h) })),
    );
    const neighbors = over.neighbors ?? [fabric.torIp];
    return parseHostState({
      global: { fwdMode: 'routing' },
      tenants: [{ name: 't1', ctZone: 1, vrfId: 1 }],
      networks: [
        {
          key: NET,
          tenant: 't1',
          name: 'routed',
          encap: 'vlan',
          pktTag: 10,
          subnet: '10.61.0.0/16',
          networkId: 10,
          gatewayMac: '02:00:00:00:00:01',
          mtu: 1500,
          blockPrefix: 26,
        },
      ],
      endpoints: [
        { id: 'e1', network: NET, host: 'h1', ip: '10.61.0.5', mac: '02:00:00:00:01:05' },
        { id: 'e2', network: NET, host: 'h1', ip: STRAY, mac: '02:00:00:00:01:06' },
      ],
      blocks,
      ...(over.noBgp
        ? {}
        : {
            bgp: {
              hostname: `h${n}`,
              routerIp: '',
              as: TOR_AS + n,
              neighbor: neighbors[0],
              neighborAs: TOR_AS,
              neighbors: neighbors.map((address) => ({ address, as: TOR_AS })),
              holdTime: HOLD_S,
              keepaliveTime: 3,
            },
          }),
    });
  }

  const pidFile = (n: number): string => join(fabric.dir, `agent-h${n}.gobgpd.pid`);

  function makeSpeaker(n: number): BgpSpeaker {
    const s = new BgpSpeaker({
      hostName: `h${n}`,
      vtepIp: fabric.ip(n),
      supervisor: {
        api: `unix://${join(fabric.dir, `agent-h${n}.gobgp.sock`)}`,
        netns: fabric.ns(n),
        pidFile: pidFile(n),
        logFile: join(fabric.dir, `agent-h${n}.gobgpd.log`),
        restartBackoff: { initialMs: 100, maxMs: 2000 },
      },
      routeSync: { settleMs: 500, graceMs: 15_000 },
      logger,
    });
    speakers.set(n, s);
    return s;
  }

  const kernel = async (n: number): Promise<Map<string, string[]>> => fabric.kernelRoutes(n);
  /** the tor's routes inside 10.61.0.0/16 */
  async function torPrefixes(): Promise<string[]> {
    const r = await run('birdc', ['-s', fabric.birdSock, 'show', 'route', 'where', 'net ~ 10.61.0.0/16'], { allowFailure: true });
    return [...r.stdout.matchAll(/^(10\.61\.\d+\.\d+\/\d+)\s/gm)].map((m) => m[1]!).sort();
  }

  before(async function () {
    this.timeout(60_000);
    await fabric.up();
    for (const n of [1, 2, 3]) await makeSpeaker(n).update(state(n));
  });

  after(async function () {
    this.timeout(60_000);
    for (const [n, s] of speakers) {
      await s.stop().catch(() => undefined);
      if (existsSync(pidFile(n))) {
        const pid = Number(readFileSync(pidFile(n), 'utf8').trim());
        if (pid > 0) await stopProcess(pid, 'gobgpd').catch(() => undefined);
      }
    }
    await fabric.down();
  });

  async function established(n: number): Promise<void> {
    await waitFor(
      `h${n} established with the tor`,
      async () => (await speakers.get(n)!.status()).neighbors.find((p) => p.address === fabric.torIp)?.state === 'ESTABLISHED',
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  it("the tor has one route per host block (and a /32 for an address outside them); each host the others' blocks, proto 80", async () => {
    for (const n of [1, 2, 3]) await established(n);
    const want = [blockOf(1), blockOf(2), blockOf(3), `${STRAY}/32`].sort();
    await waitFor('the tor has every block', async () => (await torPrefixes()).join() === want.join(), { timeoutMs: 20_000 });
    for (const n of [1, 2, 3]) {
      await waitFor(`h${n}'s kernel has the others' blocks`, async () => {
        const k = await kernel(n);
        return [1, 2, 3].every((h) => (h === n ? !k.has(blockOf(h)) : k.get(blockOf(h))?.join() === fabric.ip(h)));
      });
    }
    assert.deepEqual((await kernel(2)).get(`${STRAY}/32`), [fabric.ip(1)]);
    const st = await speakers.get(1)!.status();
    assert.equal(st.running, true);
    // gobgpd lists its paths in no set order
    assert.deepEqual(st.announced.map((p) => p.prefix).sort(), [blockOf(1), `${STRAY}/32`].sort());
    assert.ok(st.installed.some((r) => r.prefix === blockOf(2)));
  });

  it("a block claimed on host1 is a route in host3's kernel (convergence timed), and goes when released", async () => {
    const block = '10.61.1.0/26';
    extraBlocks.set(1, [block]);
    const t0 = performance.now();
    const states = [1, 2, 3].map((n) => speakers.get(n)!.update(state(n)));
    await waitFor(`${block} in h3's kernel`, async () => (await kernel(3)).get(block)?.join() === fabric.ip(1), { intervalMs: 20 });
    const ms = performance.now() - t0;
    await Promise.all(states);
    console.log(`      convergence: block claimed on h1 -> route in h3's kernel in ${ms.toFixed(0)} ms`);
    extraBlocks.delete(1);
    for (const n of [1, 2, 3]) await speakers.get(n)!.update(state(n));
    await waitFor(`${block} gone from h3`, async () => !(await kernel(3)).has(block));
    assert.ok(!(await torPrefixes()).includes(block));
  });

  it('bad BGP settings keep what runs (no withdrawal for a typo) and say why in the status', async () => {
    const sp = speakers.get(1)!;
    const before = sp.current;
    const bad = state(1);
    await sp.update({ ...bad, bgp: { ...bad.bgp!, routerIp: 'not-an-ip/24' } });
    assert.equal(sp.current, before);
    const st = await sp.status();
    assert.match(st.error, /router IP/);
    // gobgpd lists its paths in no set order
    assert.deepEqual(st.announced.map((p) => p.prefix).sort(), [blockOf(1), `${STRAY}/32`].sort());
    await sp.update(state(1));
    assert.equal((await sp.status()).error, '');
  });

  it('an agent restart (new speaker adopting gobgpd) changes nothing the tor sees', async () => {
    const route = async (): Promise<string> => fabric.birdRoutes(blockOf(1));
    const before = await route();
    assert.match(before, /unicast \[h1 /);
    const pid = speakers.get(1)!.gobgpd?.pid;
    let gaps = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if ((await kernel(2)).get(blockOf(1))?.join() !== fabric.ip(1)) gaps++;
      }
    })();
    await speakers.get(1)!.stop();
    const next = makeSpeaker(1);
    await next.update(state(1));
    assert.equal(next.gobgpd?.pid, pid, 'the running gobgpd is adopted, not restarted');
    await established(1);
    // the new route sync has converged and kept everything
    await waitFor('route sync converged', () => next.routes?.isConverged === true, { timeoutMs: 20_000 });
    watching = false;
    await watcher;
    assert.equal(gaps, 0, "host2's route to h1's block never went away");
    // BIRD shows when a route last changed: the same route, the same time (no withdraw, no re-announce)
    // BIRD shows when the route last changed (its monotonic clock shown as wall time: a few ms of
    // display drift is not a change, a re-announce during the restart would be seconds later)
    assertSameRoute(await route(), before);
  });

  it('gobgpd SIGKILLed: the supervisor restarts it and the routes are back within the hold time', async () => {
    const sp = speakers.get(1)!;
    const pid = sp.gobgpd?.pid;
    assert.ok(pid !== undefined);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await waitFor('gobgpd restarted', () => sp.gobgpd?.pid !== undefined && sp.gobgpd.pid !== pid && sp.gobgpd.client !== undefined, {
      timeoutMs: 10_000,
    });
    await waitFor(
      `${blockOf(1)} on the tor and in h3's kernel`,
      async () => {
        const onTor = (await fabric.birdRoutes(blockOf(1))).includes('unicast');
        return onTor && (await kernel(3)).get(blockOf(1))?.join() === fabric.ip(1);
      },
      { timeoutMs: HOLD_S * 1000, intervalMs: 50 },
    );
    const ms = performance.now() - t0;
    console.log(`      gobgpd killed -> routes back in ${ms.toFixed(0)} ms`);
    assert.ok(ms < HOLD_S * 1000);
    assert.ok(!isAlive(pid));
  });

  it('a neighbor that never answers shows Active/Connect at once, not a hang', async () => {
    const silent = fabric.ip(77);
    const sp = speakers.get(3)!;
    await sp.update(state(3, { neighbors: [fabric.torIp, silent] }));
    const t0 = performance.now();
    const st = await sp.status();
    assert.ok(performance.now() - t0 < 3000, 'status answers quickly');
    const p = st.neighbors.find((x) => x.address === silent);
    assert.ok(p, 'the silent neighbor is listed');
    assert.match(p.state, /^(ACTIVE|CONNECT|IDLE)$/);
    await waitFor('the silent neighbor is Active or Connect', async () =>
      /^(ACTIVE|CONNECT)$/.test((await sp.status()).neighbors.find((x) => x.address === silent)?.state ?? ''),
    );
    assert.equal(st.neighbors.find((x) => x.address === fabric.torIp)?.state, 'ESTABLISHED');
    await sp.update(state(3));
  });

  it('a host that stops answering (its processes frozen) has its routes withdrawn on the tor and the other hosts within the hold time', async () => {
    const sp = speakers.get(3)!;
    await established(3);
    const pid = sp.gobgpd?.pid;
    assert.ok(pid !== undefined);
    // the agent is gone too: nothing restarts gobgpd
    await sp.stop();
    speakers.delete(3);
    const t0 = performance.now();
    // a dead host sends no FIN or NOTIFICATION: only the hold timer ends the session
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(
        `${blockOf(3)} withdrawn on the tor and in h1's kernel`,
        async () => !(await torPrefixes()).includes(blockOf(3)) && !(await kernel(1)).has(blockOf(3)),
        { timeoutMs: (HOLD_S + 3) * 1000, intervalMs: 100 },
      );
      const ms = performance.now() - t0;
      console.log(`      host frozen -> routes withdrawn in ${ms.toFixed(0)} ms (hold time ${HOLD_S} s)`);
      assert.ok(ms <= (HOLD_S + 1) * 1000, `withdrawn after ${ms.toFixed(0)} ms`);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('BGP settings removed: gobgpd stops, its paths are withdrawn and its kernel routes removed', async () => {
    const sp = speakers.get(2)!;
    const pid = sp.gobgpd?.pid;
    assert.ok(pid !== undefined);
    assert.ok((await kernel(2)).size > 0);
    await sp.update(state(2, { noBgp: true }));
    assert.equal(sp.gobgpd, undefined);
    await waitFor('gobgpd of h2 gone', () => !isAlive(pid));
    assert.equal((await kernel(2)).size, 0);
    await waitFor(`${blockOf(2)} gone from the tor`, async () => !(await torPrefixes()).includes(blockOf(2)));
    const st = await sp.status();
    assert.equal(st.running, false);
    assert.match(st.error, /no BGP settings/);
  });
});
