/**
 * Issue 15 "What must be shown", on lab `tipam` (3 hosts, real agents, OVS, etcd, netmaster; CNI
 * through the real shim `bin/netloom-cni`, many ADDs at once as a busy runtime sends them):
 * - 300 concurrent ADDs spread over the hosts give 300 distinct addresses, each inside a block of
 *   its own host; with netmaster stopped 30 more succeed; netmaster back, all appear in
 *   `netctl endpoint ls` and the consistency check is clean; containers across hosts ping;
 * - the agent SIGKILLed at each crash point of an ADD (NETLOOM_TEST_PAUSE_AT) and restarted: no
 *   address leaked or given twice; killed before the address is on disk, the ADD fails and DEL
 *   cleans up; killed after (only the registration was held), the container works;
 * - exhaustion: a /28 served whole fills up exactly, the next ADD fails naming the network, a DEL
 *   on one host makes room on another; a /27 of /29 blocks fills up exactly (blocks, then netmaster);
 * - Docker CNM: `docker run` on a netloom network gets an address in its host's block.
 */
import { IpamStore } from '../../../netplugin/ipam/ipam-store';
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../../lib/clock';
import { run, type RunResult } from '../../../lib/exec';
import { cniCall, firstIp, type CniCallResult } from '../../../deploy/lab/cni-call';
import type { LabStatus } from '../../../deploy/lab/lab';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { parseIpv4, parseIpv4Cidr } from '../../../netplugin/ipam/ipv4';
import { BIN, labCli, netloomNetworkCreate } from '../../support/lab-cli';
import { pingEventually } from '../../support/traffic';

const LAB = 'tipam';
const lab = labCli(LAB);
const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1, netmasters: 1 });
const HOSTS = ['host1', 'host2', 'host3'] as const;
const TENANT = 'ti';
/** this file's container namespaces (not the lab's: made here, deleted in after) */
const NS_PREFIX = 'tipam-k';

interface Block {
  cidr: string;
  host: string;
  used: number;
  size: number;
}
interface Ep {
  endpointID: string;
  ipAddress: string;
  homingHost: string;
  containerID: string;
  network: string;
}
interface Ctr {
  name: string;
  host: string;
  network: string;
  ip: string;
}

function netctl(args: string[], allowFailure = false): Promise<RunResult> {
  return run(`${BIN}/netctl`, ['--lab', LAB, ...args], { allowFailure, timeoutMs: 30_000 });
}

async function blocks(network: string): Promise<Block[]> {
  const r = await netctl(['net', 'inspect', '-t', TENANT, network, '-o', 'json']);
  return (JSON.parse(r.stdout) as { Oper?: { blocks?: Block[] } }).Oper?.blocks ?? [];
}

async function endpoints(network?: string): Promise<Ep[]> {
  const r = await netctl(['endpoint', 'ls', '-o', 'json']);
  const all = JSON.parse(r.stdout) as Ep[];
  return network ? all.filter((e) => e.network === `${TENANT}:${network}`) : all;
}

function inCidr(ip: string, cidr: string): boolean {
  const c = parseIpv4Cidr(cidr, 'cidr');
  const a = parseIpv4(ip, 'ip');
  return a >= c.base && a < c.base + c.size;
}

const nsOf = (name: string) => `${NS_PREFIX}${name}`;

function cni(command: 'ADD' | 'DEL', host: string, name: string, network: string): Promise<CniCallResult> {
  return cniCall({
    command,
    socket: agentPaths(plan, host).cniSocket,
    containerId: `tipam-${name}`,
    netnsPath: `/run/netns/${nsOf(name)}`,
    tenant: TENANT,
    network,
  });
}

/** ADD `name` on `host` in its own new namespace; the address (no prefix) or the failed result. */
async function add(host: string, name: string, network: string): Promise<{ ctr?: Ctr; res: CniCallResult }> {
  await run('ip', ['netns', 'add', nsOf(name)], { allowFailure: true });
  const res = await cni('ADD', host, name, network);
  const ip = (firstIp(res.json) ?? '').split('/')[0] ?? '';
  return res.code === 0 && ip !== '' ? { ctr: { name, host, network, ip }, res } : { res };
}

async function mustAdd(host: string, name: string, network: string): Promise<Ctr> {
  const r = await add(host, name, network);
  assert.ok(r.ctr, `ADD ${name} on ${host}: ${r.res.output}`);
  return r.ctr;
}

async function del(c: Pick<Ctr, 'host' | 'name' | 'network'>): Promise<void> {
  const r = await cni('DEL', c.host, c.name, c.network);
  assert.equal(r.code, 0, `DEL ${c.name}: ${r.output}`);
  await run('ip', ['netns', 'del', nsOf(c.name)], { allowFailure: true });
}

/** ADDs per host (`names[host]`), at most `perHost` in flight on each host, every host at once. */
async function addMany(names: Record<string, string[]>, network: string, perHost: number): Promise<Ctr[]> {
  const out: Ctr[] = [];
  await Promise.all(
    Object.entries(names).map(async ([host, list]) => {
      const queue = [...list];
      await Promise.all(
        Array.from({ length: perHost }, async () => {
          for (let n = queue.shift(); n !== undefined; n = queue.shift()) out.push(await mustAdd(host, n, network));
        }),
      );
    }),
  );
  return out;
}

/** ADD on `host` until one lands inside a block of that host (its first ADD goes to netmaster until its view carries the network). */
async function seed(host: string, network: string, tag: string): Promise<Ctr[]> {
  const made: Ctr[] = [];
  for (let i = 0; i < 5; i++) {
    const c = await mustAdd(host, `${tag}-${host}-${i}`, network);
    made.push(c);
    if ((await blocks(network)).some((b) => b.host === host && inCidr(c.ip, b.cidr))) return made;
  }
  assert.fail(`${host} never allocated from a block of ${network}: ${made.map((c) => c.ip).join(', ')}`);
}

function assertDistinct(cs: Ctr[]): void {
  const seen = new Map<string, string>();
  for (const c of cs) {
    assert.ok(!seen.has(c.ip), `${c.ip} given twice: ${seen.get(c.ip)} and ${c.name}`);
    seen.set(c.ip, c.name);
  }
}

function ownBlock(bs: Block[], c: Ctr): boolean {
  return bs.some((b) => b.host === c.host && inCidr(c.ip, b.cidr));
}

async function agentPid(host: string): Promise<number> {
  const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
  const pid = s.hosts.find((h) => h.name === host)?.agent?.pid;
  assert.ok(pid, `${host}'s agent runs`);
  return pid;
}

/** The addresses a host's IPAM store holds for `network` (its durable file). */
function storeAddresses(host: string, network: string): string[] {
  const f = `${agentPaths(plan, host).stateDir}/ipam.json`;
  if (!existsSync(f)) return [];
  return new IpamStore(f)
    .load()
    .allocations()
    .filter((a) => a.networkKey === `${TENANT}:${network}`)
    .map((a) => a.address)
    .sort();
}

async function eth0Address(name: string): Promise<string | undefined> {
  const r = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'], { netns: nsOf(name), allowFailure: true });
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1];
}

async function consistencyClean(): Promise<void> {
  const r = await netctl(['consistency'], true);
  assert.equal(r.code, 0, `consistency: ${r.stdout}${r.stderr}`);
  assert.equal((JSON.parse(r.stdout) as { clean: boolean }).clean, true, r.stdout);
}

describe('address blocks on a 3-host lab (lab tipam, issue 15)', function () {
  this.timeout(180_000);
  const live: Ctr[] = [];

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '3'], false, 180_000);
    await netctl(['tenant', 'create', TENANT]);
    await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', '10.77.0.0/22', '-g', '10.77.0.1', 'big']);
    await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', '10.77.4.0/24', '-g', '10.77.4.1', 'crash']);
    await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', '10.77.8.0/28', '-g', '10.77.8.1', 'tiny']);
    await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', '10.77.9.0/27', '-g', '10.77.9.1', '--block-prefix', '29', 'small']);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
    const ns = (await run('ip', ['-o', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
    for (const n of ns.filter((x) => x.startsWith(NS_PREFIX))) await run('ip', ['netns', 'del', n], { allowFailure: true });
  });

  it('300 concurrent ADDs on 3 hosts: 300 distinct addresses, each in a block of its host; 30 more with netmaster stopped; all 330 at netmaster, consistent, and containers across hosts ping', async function () {
    this.timeout(300_000);
    for (const h of HOSTS) live.push(...(await seed(h, 'big', 's')));
    const names = Object.fromEntries(HOSTS.map((h, k) => [h, Array.from({ length: 100 }, (_, i) => `b${k * 100 + i}`)]));
    const t0 = performance.now();
    const burst = await addMany(names, 'big', 20);
    const burstMs = performance.now() - t0;
    live.push(...burst);
    assert.equal(burst.length, 300);
    assertDistinct(live);
    const bs = await blocks('big');
    for (const c of burst) assert.ok(ownBlock(bs, c), `${c.name} (${c.host}) got ${c.ip}, outside every block of ${c.host}`);
    // every block one host's (no overlap): a block's addresses only ever on its owner
    for (const c of live) assert.ok(!bs.some((b) => b.host !== c.host && inCidr(c.ip, b.cidr)), `${c.ip} inside another host's block`);
    process.stderr.write(
      `      300 ADDs (3 hosts x 20 in flight) in ${Math.round(burstMs)} ms; blocks: ${bs.map((b) => `${b.host} ${b.cidr}`).join(', ')}\n`,
    );

    // everything registered and the claims ahead done: each host has room for its 10 below
    const want = live.length;
    await waitFor('the 300 registered at netmaster', async () => (await endpoints('big')).length === want, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const free = (all: Block[], h: string) => all.filter((b) => b.host === h).reduce((n, b) => n + b.size - b.used, 0);
    const settled = await blocks('big');
    for (const h of HOSTS) assert.ok(free(settled, h) >= 11, `${h} has ${free(settled, h)} free addresses in its blocks`);

    await lab(['stop', 'netmaster', 'netmaster1']);
    const offline = await addMany(
      Object.fromEntries(HOSTS.map((h, k) => [h, Array.from({ length: 10 }, (_, i) => `o${k * 10 + i}`)])),
      'big',
      5,
    );
    live.push(...offline);
    assertDistinct(live);
    for (const c of offline) assert.ok(ownBlock(settled, c), `${c.name} (${c.host}) got ${c.ip}, outside its host's blocks`);
    await lab(['start', 'netmaster', 'netmaster1']);

    const total = live.length;
    const eps = await waitFor(
      `all ${total} endpoints in netctl endpoint ls`,
      async () => {
        const e = await endpoints('big');
        return e.length === total ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const byContainer = new Map(eps.map((e) => [e.containerID, e]));
    for (const c of live) {
      const e = byContainer.get(`tipam-${c.name}`);
      assert.ok(e, `${c.name} listed`);
      assert.equal(e.ipAddress, c.ip, `${c.name}'s address at netmaster`);
      assert.equal(e.homingHost, c.host);
    }
    await consistencyClean();

    // a few pairs across hosts, including containers made while netmaster was away
    const on = (h: string, from: Ctr[]) => from.filter((c) => c.host === h);
    const pairs: Array<[Ctr, Ctr]> = [
      [on('host1', burst)[0]!, on('host2', burst)[1]!],
      [on('host2', offline)[0]!, on('host3', burst)[2]!],
      [on('host3', offline)[1]!, on('host1', offline)[2]!],
    ];
    for (const [a, b] of pairs) assert.ok(await pingEventually(nsOf(a.name), b.ip, 10), `${a.name} (${a.host}) -> ${b.ip} (${b.host})`);
  });

  it('a /28 served whole by netmaster fills up exactly over 3 hosts (13 addresses), the next ADD fails naming the network, a DEL on one host makes room on another', async function () {
    this.timeout(120_000);
    const names = { host1: ['t0', 't1', 't2', 't3', 't4'], host2: ['t5', 't6', 't7', 't8'], host3: ['t9', 't10', 't11', 't12'] };
    const got = await addMany(names, 'tiny', 2);
    assertDistinct(got);
    const usable = Array.from({ length: 13 }, (_, i) => `10.77.8.${i + 2}`);
    assert.deepEqual(got.map((c) => c.ip).sort(), [...usable].sort(), 'every usable address, once');
    assert.deepEqual(await blocks('tiny'), [], 'a network not larger than a block has no blocks');
    const over = await add('host2', 't-over', 'tiny');
    assert.equal(over.ctr, undefined, 'the 14th ADD fails');
    assert.match(over.res.output, /ti:tiny/, `the error names the network: ${over.res.output}`);
    await del({ host: 'host2', name: 't-over', network: 'tiny' });
    const freed = got.find((c) => c.host === 'host1')!;
    await del(freed);
    const again = await mustAdd('host3', 't-again', 'tiny');
    assert.equal(again.ip, freed.ip, 'the address freed on host1 is given on host3');
    for (const c of [...got.filter((x) => x !== freed), again]) await del(c);
  });

  it('a /27 of /29 blocks fills up exactly: one host takes every free block, netmaster gives the addresses outside them, then the ADD fails EXHAUSTED naming the network; a DEL makes room', async function () {
    this.timeout(120_000);
    const made = await seed('host1', 'small', 'm');
    let failed: CniCallResult | undefined;
    let failedName = '';
    for (let i = 0; i < 40 && !failed; i++) {
      const r = await add('host1', `m-${i}`, 'small');
      if (r.ctr) made.push(r.ctr);
      else [failed, failedName] = [r.res, `m-${i}`];
    }
    assert.ok(failed, 'host1 ran out');
    assert.match(failed.output, /ti:small/, `the error names the network: ${failed.output}`);
    await del({ host: 'host1', name: failedName, network: 'small' });
    assertDistinct(made);
    // every usable address of the /27 (not .0, the gateway .1, nor the broadcast .31), once
    assert.deepEqual(
      made.map((c) => c.ip).sort(),
      Array.from({ length: 29 }, (_, i) => `10.77.9.${i + 2}`).sort(),
      'every usable address, once',
    );
    const bs = await blocks('small');
    // the first block holds netmaster's first address (host1's first ADD): the other three are host1's, full
    assert.deepEqual(bs.map((b) => `${b.host} ${b.cidr}`).sort(), ['host1 10.77.9.16/29', 'host1 10.77.9.24/29', 'host1 10.77.9.8/29']);
    const local = made.filter((c) => ownBlock(bs, c)).map((c) => c.ip);
    assert.deepEqual(
      local.sort(),
      Array.from({ length: 23 }, (_, i) => `10.77.9.${i + 8}`).sort(),
      'every address of the blocks from them',
    );
    const freed = made.find((c) => c.ip === '10.77.9.12')!;
    await del(freed);
    const again = await mustAdd('host1', 'm-again', 'small');
    assert.equal(again.ip, freed.ip, 'the freed address is given again');
    for (const c of [...made.filter((x) => x !== freed), again]) await del(c);
  });

  it('docker run on a netloom network (CNM driver and IPAM) gets an address inside a block of its host', async function () {
    this.timeout(120_000);
    const net = { tenant: TENANT, network: 'big' };
    await lab(['docker', 'host2', '--', ...netloomNetworkCreate('nlbig', { opts: net, ipam: net, subnet: '10.77.0.0/22' })]);
    await lab(['docker', 'host2', '--', 'run', '-d', '--name', 'dk1', '--network', 'nlbig', 'netloom/busybox', 'sleep', '600']);
    const addr = await lab(['docker', 'host2', '--', 'exec', 'dk1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    const ip = /inet (10\.77\.\d+\.\d+)\/22/.exec(addr.stdout)?.[1];
    assert.ok(ip, addr.stdout);
    const bs = await blocks('big');
    assert.ok(ownBlock(bs, { host: 'host2', ip, name: 'dk1', network: 'big' }), `${ip} inside a block of host2: ${JSON.stringify(bs)}`);
    assert.ok(!live.some((c) => c.ip === ip), 'an address no CNI container has');
    await waitFor(
      'dk1 registered at netmaster',
      async () => (await endpoints('big')).some((e) => e.ipAddress === ip && e.homingHost === 'host2'),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    await lab(['docker', 'host2', '--', 'rm', '-f', 'dk1']);
  });

  describe('crash points: the agent SIGKILLed at each step of an ADD, then restarted', function () {
    const host = 'host3';
    const state = agentPaths(plan, host).stateDir;
    let peer: Ctr;
    const crashLive: Ctr[] = [];

    before(async function () {
      this.timeout(120_000);
      peer = (await seed('host1', 'crash', 'cp')).at(-1)!;
      crashLive.push(peer, ...(await seed(host, 'crash', 'cs')));
    });

    after(async function () {
      this.timeout(60_000);
      // a normal agent for what follows, whatever happened here
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], {
        env: envWithout(),
        allowFailure: true,
        timeoutMs: 60_000,
      });
    });

    for (const step of ['allocated', 'recorded', 'answered', 'registered'] as const) {
      const outcome =
        step === 'answered' || step === 'registered' ? 'the ADD answered, the container works' : 'the ADD failed, DEL cleans up';
      it(`paused at '${step}': no address leaked or given twice; ${outcome}`, async function () {
        this.timeout(120_000);
        rmSync(`${state}/paused-${step}`, { force: true });
        await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], {
          env: { ...envWithout(), NETLOOM_TEST_PAUSE_AT: step },
          timeoutMs: 60_000,
        });
        const name = `k-${step}`;
        const pending = add(host, name, 'crash');
        // the two later points hold only the registration in the background: the ADD answers,
        // and the agent dies after that (the pause file alone may come before the answer)
        const answers = step === 'answered' || step === 'registered';
        const answered = answers ? await pending : undefined;
        await waitFor(`the agent paused at ${step}`, () => existsSync(`${state}/paused-${step}`), { timeoutMs: 30_000, intervalMs: 50 });
        process.kill(await agentPid(host), 'SIGKILL');
        const r = answered ?? (await pending);
        await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], { env: envWithout(), timeoutMs: 60_000 });

        if (answers) {
          assert.ok(r.ctr, `the ADD answers while its registration waits at ${step}: ${r.res.output}`);
          crashLive.push(r.ctr);
          assert.equal(await eth0Address(name), r.ctr.ip, "the container's eth0 has the answered address");
          assert.ok(await pingEventually(nsOf(name), peer.ip, 10), `${name} reaches ${peer.ip} on host1`);
        } else {
          assert.ok(!r.ctr, `the ADD must not answer before its address is on disk (${step}): ${r.res.output}`);
          await del({ host, name, network: 'crash' });
        }
        // netmaster, the host's store and the containers agree; nothing twice, nothing leaked
        const mine = crashLive.filter((c) => c.host === host);
        const want = mine.map((c) => c.ip).sort();
        await waitFor(
          `netmaster to list exactly ${host}'s live containers of crash`,
          async () => {
            const e = (await endpoints('crash')).filter((x) => x.homingHost === host);
            return JSON.stringify(e.map((x) => x.ipAddress).sort()) === JSON.stringify(want);
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        // the store holds the addresses given here (the host's first ADD went to netmaster)
        const bs = await blocks('crash');
        assert.deepEqual(
          storeAddresses(host, 'crash'),
          mine
            .filter((c) => ownBlock(bs, c))
            .map((c) => c.ip)
            .sort(),
        );
        await consistencyClean();
        const next = await mustAdd(host, `k-${step}-next`, 'crash');
        crashLive.push(next);
        assertDistinct(crashLive);
      });
    }
  });
});

function envWithout(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NETLOOM_TEST_PAUSE_AT;
  return env;
}
