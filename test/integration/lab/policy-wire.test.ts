/**
 * Policy enforced on the wire, on real components: a lab of 3 hosts (each with its own OVS and
 * netplugin), etcd and netmaster; containers through the real CNI plugin; rules through netctl.
 * - Every case of test/support/policy-cases.ts (held to the reference semantics by a unit test):
 *   its rules applied, then its whole matrix checked with real traffic (ping, TCP connect, UDP
 *   request/reply; the answer names who answered), then its rules removed.
 * - Two tenants with the same subnet and addresses, each with its own policy under the same
 *   names: traffic never crosses, each tenant's rules affect only it.
 * - A deny cuts a running TCP stream within the realization time; removing it lets new
 *   connections through.
 * - Agent and OVS restarts: a denied probe every 50 ms never passes, allowed traffic comes back.
 * - Hitless: 200 rule changes and 100 group changes that concern other endpoints neither lose a
 *   5 ms ping nor stall a TCP stream between two allowed endpoints.
 * Realization times are logged ([policy-wire] lines).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { planLab } from '../../../deploy/lab/plan';
import { labRestCredentials } from '../../../deploy/lab/pki';
import { restRequest } from '../../../lib/rest-request';
import type { LabStatus } from '../../../deploy/lab/lab';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { labCli, netctlCli } from '../../support/lab-cli';
import {
  CASES,
  cellName,
  expectedMatrix,
  TOPOLOGY,
  type Cell,
  type EndpointSpec,
  type Probe,
  type RuleSpec,
} from '../../support/policy-cases';
import { ProbeAgent } from '../../support/policy-probe';
import { ruleAddArgs } from '../../support/policy-matrix';
import { tcpTransfer } from '../../support/traffic';

const LAB = 'tpol';
const lab = labCli(LAB);
const T = TOPOLOGY.tenant;
const TCP_PORTS = [80, 5432];
const UDP_PORTS = [53, 5432];

const log = (msg: string) => console.log(`      [policy-wire] ${msg}`);
const since = (t0: number) => Math.round(performance.now() - t0);

/** An iperf3 receiver (one test) whose per-interval byte counts arrive as they happen (text mode, flushed). */
class StreamReceiver {
  readonly intervals: Array<{ at: number; bytes: number }> = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(netns: string, port: number, intervalSec: number) {
    this.child = spawn(
      'ip',
      ['netns', 'exec', netns, 'timeout', '60', 'iperf3', '-s', '-1', '-p', String(port), '-i', String(intervalSec), '--forceflush'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    const unit: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = /\]\s+[\d.]+-[\d.]+\s+sec\s+([\d.]+)\s+([KMG]?)Bytes\s+[\d.]+\s+\w?bits\/sec\s*$/.exec(line);
      if (m) this.intervals.push({ at: performance.now(), bytes: Number(m[1]) * unit[m[2]!]! });
    });
  }

  async stop(): Promise<void> {
    // SIGTERM: `timeout` passes it on to iperf3 (a SIGKILL would orphan iperf3)
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** A process started for a test, killed at the end if still running; `done` gives its output. */
function spawned(cmd: string, args: string[], netns: string): { child: ChildProcess; done: Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out)));
  return { child, done };
}

describe('policy on the wire (lab: 3 hosts, real OVS, netmaster, netplugin, CNI)', function () {
  this.timeout(60_000);
  const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1 });
  const nm = plan.netmasters[0]!.url;
  const netctl = netctlCli(nm);
  const ns = (c: string) => `${plan.prefix}c-${c}`;
  const agents = new Map<string, ProbeAgent>();
  const started: ChildProcess[] = [];
  let status: LabStatus;

  const ep = (name: string): EndpointSpec => TOPOLOGY.endpoints.find((e) => e.name === name) ?? assert.fail(`no endpoint ${name}`);
  const agent = (name: string) => agents.get(name) ?? assert.fail(`no probe agent in ${name}`);

  async function runCtr(host: string, name: string, tenant: string, network: string, ip: string, group?: string): Promise<void> {
    const r = await lab(['run', host, name, '--tenant', tenant, '--network', network, ...(group ? ['--group', group] : []), '--ip', ip]);
    assert.equal(r.stdout.trim().split('\t')[2], ip, `${name} got its address`);
  }

  async function startAgent(name: string): Promise<void> {
    agents.set(name, await ProbeAgent.start(ns(name), name, TCP_PORTS, UDP_PORTS));
  }

  /** The policy tables (60, 70) and the commit table (80) of a host's br-int, for failure reports. */
  async function policyFlows(host: string): Promise<string> {
    const h = status.hosts.find((x) => x.name === host)!;
    const tables = await Promise.all(
      [60, 70, 80].map((t) =>
        run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${h.ovsRunDir}/br-int.mgmt`, `table=${t}`], {
          netns: h.netns,
          allowFailure: true,
        }),
      ),
    );
    return tables.map((r) => r.stdout.replace(/^OFPST.*\n/m, '').replace(/duration=[^,]*, /g, '')).join('');
  }

  /** The policy generation host's connections are committed with (changes whenever its policy flows do). */
  async function generation(host: string): Promise<string> {
    const h = status.hosts.find((x) => x.name === host)!;
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${h.ovsRunDir}/br-int.mgmt`, 'table=80'], {
      netns: h.netns,
      allowFailure: true,
    });
    return /priority=100,.*load:(0x[0-9a-f]+)->NXM_NX_CT_MARK/.exec(r.stdout)?.[1] ?? '';
  }

  /**
   * Packets the policy and conntrack stages dropped on host1 and host2 so far: `denied` counts the
   * drops policy decides (ctCommit's denied flag, ctState's replies of denied connections),
   * `invalid` ctState's drops of packets conntrack finds invalid (a TCP segment outside the
   * window, which a loaded userspace datapath sees now and then whatever policy does).
   */
  async function policyDrops(): Promise<{ denied: number; invalid: number; flows: string[] }> {
    const sum = { denied: 0, invalid: 0, flows: [] as string[] };
    for (const name of ['host1', 'host2']) {
      const h = status.hosts.find((x) => x.name === name)!;
      for (const table of [51, 80]) {
        const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${h.ovsRunDir}/br-int.mgmt`, `table=${table}`], {
          netns: h.netns,
        });
        for (const line of r.stdout.split('\n')) {
          if (!/actions=drop/.test(line) && !/reg5=0x10\/0x10/.test(line)) continue;
          const n = Number(/n_packets=(\d+)/.exec(line)?.[1] ?? 0);
          if (/ct_state=[^ ,]*\+inv/.test(line)) sum.invalid += n;
          else sum.denied += n;
          if (n > 0) sum.flows.push(`${name} ${line.trim()}`);
        }
      }
    }
    return sum;
  }

  /** For a failure report: the datapath flows and conntrack entries of the wrong cells' addresses, on their hosts. */
  async function logDatapath(bad: string[], cells: Cell[]): Promise<void> {
    const wrongCells = cells.filter((c) => bad.some((b) => b.startsWith(`${cellName(c)}:`)));
    const ips = [...new Set(wrongCells.flatMap((c) => [c.from.ip, c.to.ip]))];
    const hosts = [...new Set(wrongCells.flatMap((c) => [c.from.host, c.to.host]))].filter((h) => TOPOLOGY.hosts.includes(h)).sort();
    for (const h of hosts)
      for (const what of ['dpctl/dump-flows', 'dpctl/dump-conntrack']) {
        const r = await lab(['exec', h, '--', 'ovs-appctl', what], true);
        const lines = r.stdout.split('\n').filter((l) => ips.some((ip) => l.includes(ip)));
        log(`${h} ${what} (${ips.join(', ')}):\n${lines.join('\n')}`);
      }
  }

  interface Outcome {
    cell: Cell;
    ok: boolean;
    who?: string;
  }

  /** Every cell's probe, each source's probes at once. */
  async function probeCells(cells: Cell[], timeoutMs = 1000): Promise<Outcome[]> {
    const bySource = new Map<string, Cell[]>();
    for (const c of cells) bySource.set(c.from.name, [...(bySource.get(c.from.name) ?? []), c]);
    const parts = await Promise.all(
      [...bySource].map(async ([src, cs]) => {
        const rs = await agent(src).probe(
          cs.map((c) => ({ ip: c.to.ip, probe: c.probe })),
          timeoutMs,
        );
        return cs.map((cell, i) => ({ cell, ok: rs[i]?.ok ?? false, ...(rs[i]?.who ? { who: rs[i].who } : {}) }));
      }),
    );
    return parts.flat();
  }

  function wrong(o: Outcome): string | undefined {
    const got = o.ok ? 'pass' : 'deny';
    if (got !== o.cell.verdict) return `${cellName(o.cell)}: expected ${o.cell.verdict}, got ${got}`;
    if (o.ok && o.who !== undefined && o.who !== o.cell.to.name) return `${cellName(o.cell)}: answered by ${o.who}`;
    return undefined;
  }

  /**
   * The cells that do not hold. A pass not seen is tried again, with longer timeouts (a busy
   * machine or a lost first packet is not a deny); a probe that passes where a deny is expected
   * is never excused.
   */
  async function mismatches(cells: Cell[]): Promise<string[]> {
    let outcomes = await probeCells(cells);
    for (const timeoutMs of [2000, 3000]) {
      const retry = outcomes.filter((o) => o.cell.verdict === 'pass' && !o.ok).map((o) => o.cell);
      if (retry.length === 0) break;
      const again = new Map((await probeCells(retry, timeoutMs)).map((o) => [o.cell, o]));
      outcomes = outcomes.map((o) => again.get(o.cell) ?? o);
    }
    return outcomes.map(wrong).filter((w): w is string => w !== undefined);
  }

  /**
   * Wait until every cell holds (the agents realized the change), then check once more: a state
   * that held only in passing (half applied) does not count. Returns the ms until it first held.
   */
  async function holds(what: string, cells: Cell[], timeoutMs = 20_000): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const bad = await mismatches(cells);
      if (bad.length === 0) break;
      if (performance.now() - t0 > timeoutMs) {
        const hosts = [...new Set(cells.flatMap((c) => [c.from.host, c.to.host]))].filter((h) => TOPOLOGY.hosts.includes(h)).sort();
        for (const h of hosts) log(`${h} policy flows:\n${await policyFlows(h)}`);
        await logDatapath(bad, cells);
        assert.fail(`${what}: ${bad.length} of ${cells.length} cells wrong after ${timeoutMs} ms:\n  ${bad.join('\n  ')}`);
      }
    }
    const ms = since(t0);
    const again = await mismatches(cells);
    assert.deepEqual(again, [], `${what}: held once, then not`);
    return ms;
  }

  const cell = (from: EndpointSpec, to: EndpointSpec, probe: Probe, verdict: 'pass' | 'deny'): Cell => ({ from, to, probe, verdict });

  /** One REST call to netmaster (the fast path for bulk changes; netctl is a process per call). */
  async function rest(method: 'POST' | 'DELETE', path: string, body?: object): Promise<void> {
    // HTTPS with the lab's admin certificate (docs/security.md)
    const r = await restRequest(`${nm}/api/v1/${path}/`, {
      method,
      headers: { 'content-type': 'application/json' },
      credentials: labRestCredentials(plan),
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  }

  /** Until something listens on TCP `port` in container `name`. */
  const listening = (name: string, port: number) =>
    waitFor(
      `a listener on ${name}:${port}`,
      async () => (await run('ss', ['-Hltn', `sport = :${port}`], { netns: ns(name) })).stdout.trim() !== '',
      { timeoutMs: 10_000, intervalMs: 50 },
    );

  const addRules = (tenant: string, rules: RuleSpec[]) => Promise.all(rules.map((r) => netctl(ruleAddArgs(tenant, r))));
  /** Removal through REST, all at once (netctl's rule-rm is exercised by the stream test). */
  const removeRules = (tenant: string, rules: RuleSpec[]) =>
    Promise.all(rules.map((r) => rest('DELETE', `rules/${tenant}:${r.policy}:${r.ruleId}`)));

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '3']);
    status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    await netctl(['global', 'set', '-b', 'routing']);
    await netctl(['tenant', 'create', T]);
    for (const n of TOPOLOGY.networks)
      await netctl(['net', 'create', '-t', T, '-e', n.encap, '-p', String(n.tag), '-s', n.subnet, '-g', n.gateway, n.name]);
    await Promise.all(TOPOLOGY.policies.map((p) => netctl(['policy', 'create', '-t', T, p])));
    await Promise.all(TOPOLOGY.groups.map((g) => netctl(['group', 'create', '-t', T, '-p', g.policies.join(','), g.network, g.name])));
    await Promise.all(TOPOLOGY.endpoints.map((e) => runCtr(e.host, e.name, T, e.network, e.ip, e.group)));
    await Promise.all(TOPOLOGY.endpoints.map((e) => startAgent(e.name)));
    const ms = await holds('baseline (no rules)', expectedMatrix(TOPOLOGY, CASES[0]!), 30_000);
    log(`baseline matrix held after ${ms} ms`);
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); // `timeout` passes it on
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await lab(['down'], true, 120_000);
  });

  describe('the case table, pair by pair with real traffic', () => {
    const realized: number[] = [];
    after(() => {
      if (realized.length > 0)
        log(`case matrices held after (ms, rules added -> every cell right, one probe round included): ${realized.join(', ')}`);
    });

    for (const c of CASES) {
      it(c.name, async function () {
        this.timeout(90_000);
        const t0 = performance.now();
        await addRules(T, c.rules);
        const applied = since(t0);
        try {
          const cells = expectedMatrix(TOPOLOGY, c);
          const ms = await holds(c.name, cells);
          realized.push(ms);
          log(`${c.rules.length} rules through netctl in ${applied} ms; ${cells.length} cells held after ${ms} ms`);
        } finally {
          await removeRules(T, c.rules);
        }
      });
    }
  });

  describe('tenants', () => {
    it('two tenants with the same subnet and addresses, each with its own policy under the same names: nothing crosses', async function () {
      this.timeout(120_000);
      for (const t of ['ta', 'tb']) {
        await netctl(['tenant', 'create', t]);
        await netctl(['net', 'create', '-t', t, '-e', 'vxlan', '-s', '10.81.1.0/24', '-g', '10.81.1.254', 'sn']);
        await netctl(['policy', 'create', '-t', t, 'p']);
        await netctl(['group', 'create', '-t', t, '-p', 'p', 'sn', 'g']);
      }
      const E = (name: string, host: string, ip: string, group?: string): EndpointSpec => ({
        name,
        host,
        network: 'sn',
        ip,
        ...(group ? { group } : {}),
      });
      // ta: i1 (no group), i2 (g). tb: j1 (g; i1's address, on i1's host), j2 (g; i2's), j3 (.13: only tb has it)
      const i1 = E('i1', 'host1', '10.81.1.11');
      const i2 = E('i2', 'host2', '10.81.1.12', 'g');
      const j1 = E('j1', 'host1', '10.81.1.11', 'g');
      const j2 = E('j2', 'host2', '10.81.1.12', 'g');
      const j3 = E('j3', 'host3', '10.81.1.13');
      const nobody = E('(nobody in ta)', '-', '10.81.1.13');
      await Promise.all([
        ...[i1, i2].map((e) => runCtr(e.host, e.name, 'ta', 'sn', e.ip, e.group)),
        ...[j1, j2, j3].map((e) => runCtr(e.host, e.name, 'tb', 'sn', e.ip, e.group)),
      ]);
      await Promise.all(['i1', 'i2', 'j1', 'j2', 'j3'].map(startAgent));
      const all = (from: EndpointSpec, to: EndpointSpec, verdict: 'pass' | 'deny') =>
        TOPOLOGY.probes.map((p) => cell(from, to, p, verdict));
      const open = [...all(i1, i2, 'pass'), ...all(i2, i1, 'pass'), ...all(j1, j2, 'pass'), ...all(j2, j1, 'pass'), ...all(j1, j3, 'pass')];
      await holds('two tenants, no rules', [...open, ...all(i1, nobody, 'deny')], 30_000);

      // ta denies ping into g; tb denies tcp/80 into g and udp/53 out of g (j1: i1's address and host)
      const ta: RuleSpec[] = [{ policy: 'p', ruleId: 'r1', direction: 'in', action: 'deny', protocol: 'icmp' }];
      const tb: RuleSpec[] = [
        { policy: 'p', ruleId: 'r1', direction: 'in', action: 'deny', protocol: 'tcp', port: 80 },
        { policy: 'p', ruleId: 'r2', direction: 'out', action: 'deny', protocol: 'udp', port: 53 },
      ];
      await Promise.all([addRules('ta', ta), addRules('tb', tb)]);
      try {
        const ms = await holds('two tenants, each with its rules', [
          cell(i1, i2, 'ping', 'deny'),
          cell(i1, i2, 'tcp/80', 'pass'),
          cell(i1, i2, 'tcp/5432', 'pass'),
          cell(i1, i2, 'udp/53', 'pass'),
          cell(i2, i1, 'ping', 'pass'),
          cell(i2, i1, 'udp/53', 'pass'),
          cell(j1, j2, 'ping', 'pass'),
          cell(j1, j2, 'tcp/80', 'deny'),
          cell(j1, j2, 'tcp/5432', 'pass'),
          cell(j1, j2, 'udp/53', 'deny'),
          cell(j1, j2, 'udp/5432', 'pass'),
          cell(j2, j1, 'tcp/80', 'deny'),
          cell(j2, j1, 'ping', 'pass'),
          cell(j1, j3, 'tcp/80', 'pass'),
          cell(j1, j3, 'udp/53', 'deny'),
          cell(j3, j1, 'udp/53', 'pass'),
          ...all(i1, nobody, 'deny'),
          ...all(i2, nobody, 'deny'),
        ]);
        log(`two tenants: rules held after ${ms} ms`);
      } finally {
        await Promise.all([removeRules('ta', ta), removeRules('tb', tb)]);
      }
      await holds('two tenants, rules removed', open);
    });
  });

  describe('changes under traffic', () => {
    it('a deny cuts a running TCP stream within the realization time; removing it lets new connections through', async function () {
      this.timeout(90_000);
      const d2 = ep('d2');
      const rx = new StreamReceiver(ns('d2'), 5201, 0.1);
      await listening('d2', 5201);
      const client = spawned('timeout', ['40', 'iperf3', '-c', d2.ip, '-p', '5201', '-t', '30', '-b', '100M'], ns('w1'));
      started.push(client.child);
      const rule: RuleSpec = { policy: 'pdb', ruleId: 'cut', direction: 'in', action: 'deny', protocol: 'tcp', fromEndpointGroup: 'web' };
      try {
        await waitFor('the stream flows', () => rx.intervals.filter((i) => i.bytes > 0).length >= 5, { timeoutMs: 15_000, intervalMs: 50 });
        const gen0 = await generation('host2');
        const t0 = performance.now();
        await netctl(ruleAddArgs(T, rule));
        const tCmd = performance.now();
        const flowsAt = await waitFor(
          'host2 policy flows change',
          async () => ((await generation('host2')) !== gen0 ? performance.now() : 0),
          {
            timeoutMs: 10_000,
            intervalMs: 20,
          },
        );
        const stoppedAt = await waitFor(
          'the stream stops',
          () => {
            const i = rx.intervals.findIndex((x) => x.at > t0 && x.bytes === 0);
            return i >= 0 ? rx.intervals[i]!.at : 0;
          },
          { timeoutMs: 10_000, intervalMs: 20 },
        );
        const n = rx.intervals.length;
        await waitFor('5 more intervals', () => rx.intervals.length >= n + 5, { timeoutMs: 5000, intervalMs: 50 });
        assert.deepEqual(
          rx.intervals.slice(n, n + 5).map((i) => i.bytes),
          [0, 0, 0, 0, 0],
          'the cut stream stays cut',
        );
        log(
          `deny of a running stream: netctl took ${Math.round(tCmd - t0)} ms; from its start, host2's policy flows changed after ` +
            `${Math.round(flowsAt - t0)} ms (polled every 20 ms) and the receiver reported its first empty 100 ms interval after ${Math.round(stoppedAt - t0)} ms`,
        );
        assert.ok(stoppedAt - tCmd < 3000, `the stream stopped ${Math.round(stoppedAt - tCmd)} ms after the rule was added`);
      } finally {
        client.child.kill('SIGTERM');
        await client.done;
        await rx.stop();
        // the cut connections' sockets outlive their processes (unacked data, FIN) and would go on
        // retransmitting into the DENIED entry for minutes, counted as drops by the next case: end them
        for (const e of ['w1', 'd2'])
          await run('ss', ['-K', '-tn', '( sport = :5201 or dport = :5201 )'], { netns: ns(e), allowFailure: true });
      }
      const tRm = performance.now();
      await netctl(['policy', 'rule-rm', '-t', T, rule.policy, rule.ruleId]);
      const tRmCmd = performance.now();
      await waitFor('a new connection passes', async () => (await agent('w1').probe([{ ip: d2.ip, probe: 'tcp/80' }]))[0]?.ok, {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      log(`rule removed: netctl took ${Math.round(tRmCmd - tRm)} ms; new TCP connections pass ${since(tRmCmd)} ms after it returned`);
      const again = await tcpTransfer(ns('w1'), ns('d2'), d2.ip, { port: 5202 });
      assert.ok(again.ok, `a new stream after the rule is gone: ${again.error ?? ''}`);
    });

    it('hitless: 200 rule changes and 100 group changes elsewhere lose no 5 ms ping and never stall a TCP stream', async function () {
      this.timeout(150_000);
      const [w1, d2, n1] = [ep('w1'), ep('d2'), ep('n1')];
      // the pair passes by an allow rule above a deny of everything (so re-evaluation goes through rules)
      const pair: RuleSpec[] = [
        { policy: 'pdb', ruleId: 'base', direction: 'in', action: 'deny', priority: 1 },
        { policy: 'pdb', ruleId: 'web', direction: 'in', action: 'allow', priority: 10, fromEndpointGroup: 'web' },
      ];
      // groups other1/other2 have endpoints on the pair's hosts, so every change rewrites their policy flows
      for (const p of ['pother', 'pother2']) await netctl(['policy', 'create', '-t', T, p]);
      await netctl(ruleAddArgs(T, { policy: 'pother2', ruleId: 'x', direction: 'in', action: 'deny', protocol: 'udp', port: 9999 }));
      for (const g of ['other1', 'other2']) await netctl(['group', 'create', '-t', T, '-p', 'pother', 'vl', g]);
      await Promise.all([runCtr('host1', 'o1', T, 'vl', '10.80.1.51', 'other1'), runCtr('host2', 'o2', T, 'vl', '10.80.1.52', 'other2')]);
      await addRules(T, pair);
      try {
        await holds('the pair allowed by a rule', [
          cell(w1, d2, 'ping', 'pass'),
          cell(w1, d2, 'tcp/80', 'pass'),
          cell(n1, d2, 'ping', 'deny'),
        ]);
        const gens = new Set<string>();
        const readGenerations = async () => (await Promise.all(['host1', 'host2'].map(generation))).join(' ');
        const server = spawned('timeout', ['120', 'iperf3', '-s', '-1', '-J', '-p', '5203'], ns('d2'));
        started.push(server.child);
        await listening('d2', 5203);
        const client = spawned('iperf3', ['-c', d2.ip, '-p', '5203', '-t', '100', '-b', '20M', '--connect-timeout', '3000'], ns('w1'));
        started.push(client.child);
        // 5 ms pings in rounds of 200 (each round ends by itself, so no reply in flight is counted lost)
        const pingRounds = async (more: (rounds: number) => boolean) => {
          const total = { sent: 0, received: 0, rounds: [] as string[] };
          while (more(total.rounds.length)) {
            const r = await run('ping', ['-i', '0.005', '-c', '200', '-W', '1', '-q', d2.ip], { netns: ns('w1'), allowFailure: true });
            const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
            total.sent += Number(m?.[1] ?? 0);
            total.received += Number(m?.[2] ?? 0);
            total.rounds.push(`${m?.[2] ?? '?'}/${m?.[1] ?? '?'}`);
          }
          return total;
        };
        // the datapath's own loss under the same traffic and no change (the userspace datapath on a busy machine loses some)
        const control = await pingRounds((n) => n < 3);
        const drops0 = await policyDrops();
        const tStart = performance.now();
        let traffic = true;
        const pings = pingRounds(() => traffic);
        const watcher = (async () => {
          while (traffic) {
            gens.add(await readGenerations());
            await new Promise((r) => setTimeout(r, 100));
          }
        })();

        // 200 rule changes in pother (other1's and other2's policy): 100 adds, each deleted 8 adds later (never
        // before its add returned: 6 run at a time)
        const ruleOps: Array<() => Promise<void>> = [];
        const ruleBody = (i: number) => ({
          tenantName: T,
          policyName: 'pother',
          ruleId: `h${i}`,
          direction: i % 2 ? 'in' : 'out',
          priority: 1 + (i % 100),
          action: i % 3 ? 'deny' : 'allow',
          protocol: i % 2 ? 'tcp' : 'udp',
          port: 1000 + i,
          ...(i % 2 ? { fromIpAddress: `10.80.9.${i}` } : { toEndpointGroup: 'db' }),
        });
        for (let i = 0; i < 100; i++) {
          ruleOps.push(() => rest('POST', `rules/${T}:pother:h${i}`, ruleBody(i)));
          if (i >= 8) ruleOps.push(() => rest('DELETE', `rules/${T}:pother:h${i - 8}`));
        }
        for (let i = 92; i < 100; i++) ruleOps.push(() => rest('DELETE', `rules/${T}:pother:h${i}`));
        // 100 group changes: 96 policy attachments toggled (48 on each group) and 4 membership changes (o3 joins other2 and leaves, twice)
        const attach = (group: string) =>
          Array.from(
            { length: 48 },
            (_, i) => () =>
              rest('POST', `endpointGroups/${T}:${group}`, {
                tenantName: T,
                groupName: group,
                networkName: 'vl',
                policies: i % 2 ? ['pother'] : ['pother', 'pother2'],
              }),
          );
        const membership = [0, 1].flatMap(() => [
          () => runCtr('host2', 'o3', T, 'vl', '10.80.1.53', 'other2'),
          async () => void (await lab(['rm', 'o3'])),
        ]);
        const timed = async (ops: Array<() => Promise<void>>, width: number): Promise<number> => {
          const t0 = performance.now();
          let next = 0;
          await Promise.all(
            Array.from({ length: width }, async () => {
              while (next < ops.length) await ops[next++]!();
            }),
          );
          return since(t0);
        };
        const groupOps = [...attach('other1'), ...attach('other2')];
        assert.equal(ruleOps.length + groupOps.length + membership.length, 300);
        const [rulesMs, other1Ms, other2Ms, membershipMs] = await Promise.all([
          timed(ruleOps, 6),
          timed(groupOps.slice(0, 48), 1),
          timed(groupOps.slice(48), 1),
          timed(membership, 1),
        ]);
        const changesMs = since(tStart);
        // traffic goes on until both hosts' policy flows are settled (the last change realized)
        let last = '';
        await waitFor(
          "the pair's hosts settled",
          async () => {
            const now = await readGenerations();
            const same = now === last;
            last = now;
            return same;
          },
          { timeoutMs: 20_000, intervalMs: 500 },
        );
        traffic = false;
        const ping = await pings;
        await watcher;
        const drops1 = await policyDrops();
        const dropped = drops1.denied - drops0.denied;
        const invalid = drops1.invalid - drops0.invalid;
        client.child.kill('SIGINT'); // iperf3 ends the test; the server still reports every interval
        await client.done;
        const report = JSON.parse(await server.done) as { intervals?: Array<{ sum: { bytes: number; seconds: number } }> };
        const intervals = (report.intervals ?? []).filter((i) => i.sum.seconds >= 0.5);
        const rate = (p: { sent: number; received: number }) => (p.sent - p.received) / Math.max(1, p.sent);
        log(
          `hitless: 300 changes in ${changesMs} ms (rules ${rulesMs}, attachments ${other1Ms}/${other2Ms}, membership ${membershipMs}); ` +
            `${gens.size} policy generations seen on host1+host2; packets dropped by policy: ${dropped}, as invalid by conntrack: ${invalid}; ` +
            `ping ${ping.received}/${ping.sent} (rounds ${ping.rounds.join(' ')}; without changes ${control.received}/${control.sent}); ` +
            `stream KiB per second: ${intervals.map((i) => Math.round(i.sum.bytes / 1024)).join(' ')}`,
        );
        assert.ok(gens.size > 10, `the changes rewrote the pair's hosts' policy flows (${gens.size} generations)`);
        // which drop flows counted them (a later look tells a real drop from an accounting one)
        if (dropped > 0) log(`drop flows before: ${drops0.flows.join(' | ')}\n      after: ${drops1.flows.join(' | ')}`);
        assert.equal(dropped, 0, "packets dropped by policy on the pair's hosts during the changes");
        // conntrack's window checks drop a stray segment under load; a change that broke connection
        // tracking would drop a stream's worth (the stream's rate is checked below too)
        assert.ok(invalid <= 3, `packets conntrack found invalid during the changes: ${invalid}`);
        assert.ok(ping.sent >= 1000, `ping sent ${ping.sent}`);
        // Loss the pipeline causes is counted exactly above (policy and conntrack drops: 0). Pings the
        // userspace datapath itself loses on this busy 2-vCPU machine (CPU-starved port polling) come
        // with or without changes (the control window), so the changes may not add more than noise.
        assert.ok(
          rate(ping) <= 2 * rate(control) + 0.03,
          `5 ms ping lost ${ping.sent - ping.received} of ${ping.sent} during the changes, ${control.sent - control.received} of ${control.sent} without`,
        );
        assert.ok(intervals.length * 1000 >= changesMs, `the stream covered the changes (${intervals.length} s)`);
        assert.deepEqual(
          intervals.flatMap((i, k) => (i.sum.bytes > 0 ? [] : [k])),
          [],
          'seconds of the stream without a byte',
        );
      } finally {
        await removeRules(T, pair);
      }
    });
  });

  describe('restarts', () => {
    it('agent and OVS restarts keep enforcing: a denied probe every 50 ms never passes; allowed traffic comes back', async function () {
      this.timeout(180_000);
      const [w1, w2, d2, a1, a3, n1] = ['w1', 'w2', 'd2', 'a1', 'a3', 'n1'].map(ep) as [
        EndpointSpec,
        EndpointSpec,
        EndpointSpec,
        EndpointSpec,
        EndpointSpec,
        EndpointSpec,
      ];
      // enforced at host2 (ingress of d2) and at host1/host2 (egress of w1/w2)
      const rules: RuleSpec[] = [
        { policy: 'pdb', ruleId: 'noping', direction: 'in', action: 'deny', protocol: 'icmp', fromEndpointGroup: 'web' },
        { policy: 'pweb', ruleId: 'notcp', direction: 'out', action: 'deny', protocol: 'tcp', toNetwork: 'vx' },
      ];
      const allowed = [
        cell(w1, d2, 'tcp/80', 'pass'),
        cell(n1, d2, 'ping', 'pass'),
        cell(w1, n1, 'ping', 'pass'),
        cell(w2, a1, 'ping', 'pass'),
      ];
      const expected = [...allowed, cell(w1, d2, 'ping', 'deny'), cell(w1, a3, 'tcp/80', 'deny'), cell(w2, a1, 'tcp/80', 'deny')];
      await addRules(T, rules);
      try {
        await holds('the rules', expected);
        const pingDenied = spawned('ping', ['-i', '0.05', '-W', '1', '-q', d2.ip], ns('w1'));
        started.push(pingDenied.child);
        const stops = await Promise.all([
          agent('w1').loop({ ip: a3.ip, probe: 'tcp/80' }, 50),
          agent('w2').loop({ ip: a1.ip, probe: 'tcp/80' }, 50),
        ]);
        const recovery: string[] = [];
        for (const [host, what] of [
          ['host2', 'netplugin'],
          ['host1', 'netplugin'],
          ['host2', 'ovs'],
          ['host1', 'ovs'],
        ] as const) {
          const t0 = performance.now();
          await lab(['restart', host, what]);
          const restarted = since(t0);
          const ms = await holds(`allowed traffic after restarting ${host} ${what}`, allowed, 30_000);
          recovery.push(`${host} ${what}: restart ${restarted} ms, allowed cells held ${ms} ms later`);
        }
        pingDenied.child.kill('SIGINT');
        const out = await pingDenied.done;
        const counts = await Promise.all(stops.map((stop) => stop()));
        const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
        log(`restarts: ${recovery.join('; ')}`);
        log(
          `denied probes during the restarts: ping ${m?.[2] ?? '?'}/${m?.[1] ?? '?'} passed, tcp ${counts.map((c) => `${c.passed}/${c.sent}`).join(', ')}`,
        );
        // a ping every 50 ms through four restarts: at least a few seconds of probes (fewer on a quiet machine, where restarts are quick)
        assert.ok(m && Number(m[1]) > 40, `the denied ping ran (${out.trim()})`);
        assert.equal(Number(m[2]), 0, 'a denied ping passed during a restart');
        for (const c of counts) {
          assert.ok(c.sent > 40, `the denied tcp loop ran (${c.sent})`);
          assert.equal(c.passed, 0, 'a denied tcp connection passed during a restart');
        }
        await holds('the rules after the restarts', expected);
      } finally {
        await removeRules(T, rules);
      }
    });
  });
});
