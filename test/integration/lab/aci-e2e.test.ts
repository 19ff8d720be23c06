/**
 * ACI mode end to end, driven as a user would: a lab of 2 hosts with real agents, etcd and a
 * netmaster whose ACI gateway talks to the APIC stand-in (up --apic-url); everything set with
 * netctl (aci-gw set with path bindings, global set --fabric-mode, net, group, app-profile);
 * containers of two groups of one VLAN network on both hosts (lab run), the hosts' uplinks plugged
 * into the leaf stand-in (test/support/aci-leaf.ts), whose EPG VLANs follow the encaps the APIC
 * stand-in holds, as a leaf follows its APIC. Shows:
 * 1. each group's VLAN (netctl group inspect) is its EPG's path binding encap on the APIC (GET
 *    /api/mo/...) and the VLAN its packets carry on the host's uplink (tcpdump), not the network's;
 * 2. between the groups traffic passes through the leaf and fails when the leaf stops switching
 *    between the EPGs; within a group across hosts it passes;
 * 3. fabric mode back to default releases the groups' VLANs and moves their traffic to the
 *    network's VLAN; back to aci gives new VLANs, the APIC's encaps and the traffic follow. A 10 ms
 *    ping stream within a group across hosts counts what each switch loses ([aci-e2e] lines);
 * 4. a network may not take a group's VLAN, and a pool too small leaves groups without one, which
 *    aci-gw inspect and group inspect say.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { planLab } from '../../../deploy/lab/plan';
import { systemClock, waitFor } from '../../../lib/clock';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { AciLeaf } from '../../support/aci-leaf';
import { startCapture } from '../../support/capture';
import { labCli, netctlCli } from '../../support/lab-cli';
import { pingEventually, pingOk, tcpTransfer } from '../../support/traffic';

const LAB = 'tacie';
const lab = labCli(LAB);
const T = 'acie';
const NET_VLAN = 100;
const VLANS = '100-110';
const PATHS = ['topology/pod-1/paths-101/pathep-[eth1/1]', 'topology/pod-1/paths-102/pathep-[eth1/1]'];
const PW = 'acie-secret';
const CTRS = [
  { name: 'w1', host: 'host1', group: 'web', ip: '10.62.0.11' },
  { name: 'd1', host: 'host1', group: 'db', ip: '10.62.0.21' },
  { name: 'w2', host: 'host2', group: 'web', ip: '10.62.0.12' },
  { name: 'd2', host: 'host2', group: 'db', ip: '10.62.0.22' },
] as const;
type CtrName = (typeof CTRS)[number]['name'];

const log = (msg: string) => console.log(`      [aci-e2e] ${msg}`);

describe('ACI mode end to end (lab: 2 hosts, netmaster + APIC stand-in, leaf stand-in, netctl)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1 });
  const netctl = netctlCli(plan.netmasters[0]!.url);
  const dir = `/tmp/nl-${LAB}`;
  let apic: RunningApicStandin | undefined;
  let leaf: AciLeaf | undefined;
  let following: Promise<void> | undefined;
  /** when (wall ms, to compare with ping -D) the leaf last began and finished taking a changed set of EPG VLANs from the APIC */
  let leafChange = { began: 0, done: 0 };
  const stopFollowing = new AbortController();

  const ns = (c: CtrName) => `${plan.prefix}c-${c}`;
  const ip = (c: CtrName) => CTRS.find((x) => x.name === c)!.ip;
  const hostNetns = (h: string) => plan.hosts.find((x) => x.name === h)!.netns;

  /** A GET of the stand-in's REST API as any APIC client makes it: aaaLogin, then the token cookie. */
  async function apicGet(path: string): Promise<Array<Record<string, { attributes: Record<string, string> }>>> {
    const login = await fetch(`${apic!.url}/api/aaaLogin.json`, {
      method: 'POST',
      body: JSON.stringify({ aaaUser: { attributes: { name: 'admin', pwd: PW } } }),
    });
    const token = ((await login.json()) as { imdata: Array<{ aaaLogin: { attributes: { token: string } } }> }).imdata[0]!.aaaLogin
      .attributes.token;
    const r = await fetch(`${apic!.url}${path}`, { headers: { cookie: `APIC-cookie=${token}` } });
    assert.equal(r.status, 200, `GET ${path}`);
    return ((await r.json()) as { imdata: Array<Record<string, { attributes: Record<string, string> }>> }).imdata;
  }

  /** Each group's EPG path binding encaps on the APIC: group -> set of `vlan-N`. */
  async function epgEncaps(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const g of ['web', 'db']) {
      const rows = await apicGet(`/api/mo/uni/tn-${T}/ap-app/epg-${g}.json?query-target=children&target-subtree-class=fvRsPathAtt`).catch(
        () => [],
      );
      out[g] = [...new Set(rows.map((r) => r['fvRsPathAtt']?.attributes.encap ?? ''))].sort();
    }
    return out;
  }

  /** The leaf's EPG VLANs follow the APIC's path binding encaps (a leaf programmed by its APIC). */
  async function followApic(): Promise<void> {
    let last = '';
    while (!stopFollowing.signal.aborted) {
      const rows = await apicGet('/api/class/fvRsPathAtt.json').catch(() => undefined);
      if (rows) {
        const vlans = [...new Set(rows.map((r) => Number(/^vlan-(\d+)$/.exec(r['fvRsPathAtt']?.attributes.encap ?? '')?.[1])))]
          .filter((v) => v > 0)
          .sort((a, b) => a - b);
        if (vlans.join(',') !== last) {
          const began = systemClock.now();
          await leaf!.setVlans(vlans);
          last = vlans.join(',');
          leafChange = { began, done: systemClock.now() };
        }
      }
      await systemClock.sleep(100, stopFollowing.signal);
    }
  }

  const inspectGroup = async (g: string) =>
    (
      JSON.parse((await netctl(['group', 'inspect', '-t', T, g])).stdout) as {
        Oper: { pktTag?: number; pktTagPending?: string };
      }
    ).Oper;
  const groupVlans = async () => ({ web: (await inspectGroup('web')).pktTag, db: (await inspectGroup('db')).pktTag });

  /** A capture of ICMP on host's uplink while `a` pings `b`: the VLAN tags seen, request and reply. */
  async function vlansOnUplink(host: string, a: CtrName, b: CtrName): Promise<{ request: number[]; reply: number[]; out: string }> {
    assert.ok(await pingEventually(ns(a), ip(b)), `${a} -> ${b} before the capture`);
    const cap = await startCapture(hostNetns(host), ['-e', '-n', '-l', '-i', 'eth1', 'icmp or (vlan and icmp)'], { maxSeconds: 5 });
    assert.ok(await pingOk(ns(a), ip(b), 2), `${a} -> ${b}`);
    const out = await cap.output;
    const tags = (from: string, to: string, what: string) => [
      ...new Set(
        out
          .split('\n')
          .filter((l) => l.includes(`${from} > ${to}: ICMP echo ${what}`))
          .map((l) => Number(/vlan (\d+),/.exec(l)?.[1] ?? 0)),
      ),
    ];
    return { request: tags(ip(a), ip(b), 'request'), reply: tags(ip(b), ip(a), 'reply'), out };
  }

  /**
   * A 10 ms ping stream from `a` to `b` while `change` runs and until `settled` holds, then 1 s
   * more: how many it sent and how many were lost, the longest silence between two replies, when
   * it began after the change was made and when it ended after the leaf last changed its VLANs.
   */
  async function lossDuring(a: CtrName, b: CtrName, change: () => Promise<void>, settled: () => Promise<boolean>) {
    const child = spawn('ip', ['netns', 'exec', ns(a), 'ping', '-n', '-D', '-i', '0.01', '-W', '1', ip(b)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const t0 = systemClock.now();
    let changedAt = 0;
    try {
      await waitFor('the ping stream to start', () => /icmp_seq=/.test(out), { timeoutMs: 10_000, intervalMs: 20 });
      changedAt = systemClock.now();
      await change();
      await waitFor('the switch to settle', settled, { timeoutMs: 60_000, intervalMs: 200 });
      const seq = () => Number([...out.matchAll(/icmp_seq=(\d+)/g)].pop()?.[1] ?? 0);
      const at = seq();
      await waitFor('1 s more of the stream', () => seq() >= at + 100, { timeoutMs: 20_000, intervalMs: 50 });
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out) ?? assert.fail(`ping's summary:\n${out.slice(-500)}`);
    const replies = [...out.matchAll(/^\[(\d+\.\d+)\].*icmp_seq=/gm)].map((r) => Number(r[1]) * 1000);
    let gap = { ms: 0, from: 0, to: 0 };
    for (let i = 1; i < replies.length; i++)
      if (replies[i]! - replies[i - 1]! > gap.ms) gap = { ms: replies[i]! - replies[i - 1]!, from: replies[i - 1]!, to: replies[i]! };
    return {
      sent: Number(m[1]),
      lost: Number(m[1]) - Number(m[2]),
      gap: `longest silence ${Math.round(gap.ms)} ms, from ${Math.round(gap.from - changedAt)} ms after the netctl command began`,
      leaf:
        leafChange.began > t0
          ? `; it ended ${Math.round(gap.to - leafChange.began)} ms after the leaf began taking the new EPG VLANs from the APIC (done after ${Math.round(leafChange.done - leafChange.began)} ms)`
          : '',
    };
  }

  before(async function () {
    this.timeout(240_000);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/apic-pw`, PW);
    apic = await startApicStandin({ user: 'admin', password: PW, port: 0, tokenLifetimeSeconds: 600 });
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2', '--apic-url', apic.url, '--apic-password-file', `${dir}/apic-pw`], false, 180_000);
    leaf = await AciLeaf.start({
      netns: `${plan.prefix}leaf`,
      underlayNetns: plan.underlayNetns,
      bridge: 'br-data',
      hostPorts: plan.hosts.map((h) => h.dataPeer),
      vlans: [],
      plainVlans: [NET_VLAN],
      dir: `${plan.dir}/leaf-ovs`,
    });
    following = followApic();

    await netctl(['aci-gw', 'set', '-p', PATHS.join(','), '-d', 'containerDom']);
    await netctl(['global', 'set', '--fabric-mode', 'aci', '--vlan-range', VLANS]);
    await netctl(['tenant', 'create', T]);
    await netctl(['net', 'create', '-t', T, '-e', 'vlan', '-p', String(NET_VLAN), '-s', '10.62.0.0/24', '-g', '10.62.0.254', 'app']);
    for (const g of ['web', 'db']) await netctl(['group', 'create', '-t', T, 'app', g]);
    await netctl(['app-profile', 'create', '-t', T, '-g', 'web,db', 'app']);
    for (const c of CTRS) {
      const r = await lab(['run', c.host, c.name, '--tenant', T, '--network', 'app', '--group', c.group, '--ip', c.ip]);
      assert.equal(r.stdout.trim().split('\t')[2], c.ip, `${c.name} got its address`);
    }
  });

  after(async function () {
    this.timeout(180_000);
    stopFollowing.abort();
    await following?.catch(() => undefined);
    await leaf?.stop();
    await lab(['down'], true, 120_000);
    await apic?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Group VLANs, APIC encaps and the tags on host1's uplink agree; returns the group VLANs. */
  async function vlansAgree(what: string): Promise<{ web: number; db: number }> {
    const v = await waitFor(
      `${what}: each group a VLAN of its own, its EPG's encap on the APIC`,
      async () => {
        const g = await groupVlans();
        if (!g.web || !g.db || g.web === NET_VLAN || g.db === NET_VLAN || g.web === g.db) return undefined;
        const e = await epgEncaps();
        return e['web']?.join() === `vlan-${g.web}` && e['db']?.join() === `vlan-${g.db}` ? { web: g.web, db: g.db } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // both path bindings carry it
    const rows = await apicGet(`/api/mo/uni/tn-${T}/ap-app/epg-web.json?query-target=children&target-subtree-class=fvRsPathAtt`);
    assert.deepEqual(rows.map((r) => r['fvRsPathAtt']!.attributes.tDn).sort(), [...PATHS].sort(), 'the EPG is bound to both paths');
    const ws = await waitFor(
      `${what}: web's packets on web's VLAN on host1's uplink`,
      async () => {
        const c = await vlansOnUplink('host1', 'w1', 'w2');
        return c.request.join() === String(v.web) && c.reply.join() === String(v.web) ? c : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.ok(!/vlan 100,/.test(ws.out), `nothing on the network's VLAN:\n${ws.out}`);
    const between = await vlansOnUplink('host1', 'd1', 'w2');
    assert.deepEqual(between.request, [v.db], `db's request leaves on db's VLAN:\n${between.out}`);
    assert.deepEqual(between.reply, [v.db], `web's reply comes back on db's VLAN (the leaf's egress encap):\n${between.out}`);
    return v;
  }

  let first: { web: number; db: number } | undefined;

  it("each group's VLAN (group inspect) is its EPG's encap on the APIC and its packets' tag on the uplink, not the network's", async () => {
    first = await vlansAgree('fabric mode aci');
    log(`group VLANs: web ${first.web}, db ${first.db} (network ${NET_VLAN})`);
    const gw = JSON.parse((await netctl(['aci-gw', 'inspect'])).stdout) as {
      Oper: { aci: { tenants: Record<string, { state: string }> } };
    };
    assert.equal(gw.Oper.aci.tenants[T]?.state, 'in sync');
  });

  it('between the groups through the leaf, cut when the leaf stops switching between the EPGs; a group reaches itself across hosts', async () => {
    for (const [a, b] of [
      ['w1', 'd1'],
      ['w1', 'd2'],
      ['d2', 'w1'],
    ] as const)
      assert.ok(await pingEventually(ns(a), ip(b)), `${a} -> ${b}`);
    const t = await tcpTransfer(ns('d2'), ns('w1'), ip('w1'));
    assert.ok(t.ok, `TCP d2 -> w1: ${t.error ?? ''}`);
    await leaf!.setBridging(false);
    try {
      assert.equal(await pingOk(ns('w1'), ip('d1'), 2), false, 'w1 -> d1 (one host)');
      assert.equal(await pingOk(ns('w1'), ip('d2'), 2), false, 'w1 -> d2 (across hosts)');
      assert.ok(await pingEventually(ns('w1'), ip('w2')), 'web reaches web across hosts');
      assert.ok(await pingEventually(ns('d2'), ip('d1')), 'db reaches db across hosts');
    } finally {
      await leaf!.setBridging(true);
    }
    assert.ok(await pingEventually(ns('w1'), ip('d1')), 'back through the leaf');
  });

  it("fabric mode default: the groups' VLANs released, their traffic on the network's VLAN; back to aci: new VLANs, the APIC and the traffic follow", async function () {
    this.timeout(240_000);
    const toDefault = await lossDuring(
      'w1',
      'w2',
      async () => void (await netctl(['global', 'set', '--fabric-mode', 'default'])),
      async () => {
        const g = await groupVlans();
        return g.web === NET_VLAN && g.db === NET_VLAN;
      },
    );
    log(`aci -> default: ${toDefault.lost} of ${toDefault.sent} pings (10 ms apart, web across hosts) lost; ${toDefault.gap}`);
    const onNet = await waitFor(
      "web's packets on the network's VLAN",
      async () => {
        const c = await vlansOnUplink('host1', 'w1', 'w2');
        return c.request.join() === String(NET_VLAN) && c.reply.join() === String(NET_VLAN) ? c : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.ok(onNet, 'on the network VLAN');
    const pool = JSON.parse((await netctl(['global', 'inspect'])).stdout) as { Oper: { vlansInUse: string; freeVLANs: number } };
    assert.deepEqual([pool.Oper.vlansInUse, pool.Oper.freeVLANs], [String(NET_VLAN), 10], "back in the pool: only the network's VLAN held");
    assert.ok(await pingEventually(ns('w1'), ip('d2')), 'between the groups on the network VLAN');

    const toAci = await lossDuring(
      'w1',
      'w2',
      async () => void (await netctl(['global', 'set', '--fabric-mode', 'aci'])),
      async () => {
        const g = await groupVlans();
        const e = await epgEncaps();
        return !!g.web && g.web !== NET_VLAN && e['web']?.join() === `vlan-${g.web}`;
      },
    );
    log(`default -> aci: ${toAci.lost} of ${toAci.sent} pings (10 ms apart, web across hosts) lost; ${toAci.gap}${toAci.leaf}`);
    const again = await vlansAgree('back to aci');
    log(`group VLANs after the round trip: web ${again.web}, db ${again.db}`);
    const pool2 = JSON.parse((await netctl(['global', 'inspect'])).stdout) as { Oper: { freeVLANs: number } };
    assert.equal(pool2.Oper.freeVLANs, 8, 'the network and the two groups hold one VLAN each of 100-110');
    assert.ok(await pingEventually(ns('w1'), ip('d2')), 'between the groups through the leaf again');
  });

  it("a network may not take a group's VLAN; too small a pool leaves groups without one, and inspect says so", async () => {
    const v = await groupVlans();
    const taken = await netctl(['net', 'create', '-t', T, '-e', 'vlan', '-p', String(v.web), '-s', '10.63.0.0/24', 'clash'], true);
    assert.notEqual(taken.code, 0, 'refused');
    assert.match(taken.stderr + taken.stdout, /pktTag/, `names the field: ${taken.stderr}`);
    assert.match(taken.stderr + taken.stdout, /web/, `names the group holding it: ${taken.stderr}`);
    // default, then aci with a range holding only the network's VLAN and one more: one group is left without
    await netctl(['global', 'set', '--fabric-mode', 'default']);
    await waitFor('VLANs released', async () => (await groupVlans()).web === NET_VLAN, { timeoutMs: 30_000, intervalMs: 200 });
    await netctl(['global', 'set', '--vlan-range', `${NET_VLAN}-${NET_VLAN + 1}`]);
    await netctl(['global', 'set', '--fabric-mode', 'aci']);
    const shown = await waitFor(
      'the tenant pending, naming the group without a VLAN',
      async () => {
        const gw = JSON.parse((await netctl(['aci-gw', 'inspect'])).stdout) as {
          Oper: { aci: { tenants: Record<string, { state: string; message?: string }> } };
        };
        const t = gw.Oper.aci.tenants[T];
        return t?.state === 'pending' && /none free/.test(t.message ?? '') ? t : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    log(`aci-gw inspect with the pool exhausted: ${shown.state}: ${shown.message ?? ''}`);
    assert.match(shown.message ?? '', /VLAN pool 100-101 has none free/);
    const g = await groupVlans();
    assert.equal([g.web, g.db].filter((x) => x === NET_VLAN + 1).length, 1, `one group got ${NET_VLAN + 1}: ${JSON.stringify(g)}`);
    const without = (await inspectGroup('web')).pktTag === NET_VLAN + 1 ? 'db' : 'web';
    assert.match((await inspectGroup(without)).pktTagPending ?? '', /none free/, `${without}'s inspect says why it has no VLAN of its own`);
    // the range grows: the leader gives it one, the tenant syncs
    await netctl(['global', 'set', '--vlan-range', VLANS]);
    await waitFor(`${without} gets a VLAN of its own`, async () => ((await inspectGroup(without)).pktTag ?? NET_VLAN) !== NET_VLAN, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    assert.equal((await inspectGroup(without)).pktTagPending, undefined);
  });
});
