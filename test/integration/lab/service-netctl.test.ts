/**
 * A serviceLB end to end, as a user makes it (lab `tsvc`: 3 hosts, etcd, netmaster and the
 * agents started by `netloom-lab up`): a VXLAN network made with netctl, a client and three
 * providers labelled app=web started with `netloom-lab run --label app=web` (the real CNI plugin,
 * labels in the netconf's args.cni.labels), `netctl service create ... -l app=web -p 80:8080:TCP` (address allocated by
 * netmaster). Then real traffic: connections to the service's address reach all three providers,
 * `netctl service inspect` shows the providers with the agents' connection counters, and a
 * service whose selector matches nobody refuses at once.
 */
import { strict as assert } from 'node:assert';
import { planLab } from '../../../deploy/lab/plan';
import { waitFor } from '../../../lib/clock';
import { labCli, netctlCli } from '../../support/lab-cli';
import { ProbeAgent, type ProbeResult } from '../../support/policy-probe';

const LAB = 'tsvc';
const lab = labCli(LAB);
const TARGET = 8072;
const log = (msg: string) => console.log(`      [service-netctl] ${msg}`);

interface Ctr {
  name: string;
  host: string;
  ip: string;
  labels: Record<string, string>;
}
const C1: Ctr = { name: 'c1', host: 'host1', ip: '10.72.1.10', labels: { app: 'client' } };
const PROVIDERS: Ctr[] = [
  { name: 'p1', host: 'host1', ip: '10.72.1.11', labels: { app: 'web', tier: 'front' } },
  { name: 'p2', host: 'host2', ip: '10.72.1.12', labels: { app: 'web' } },
  { name: 'p3', host: 'host3', ip: '10.72.1.13', labels: { app: 'web' } },
];

interface Inspect {
  Oper: { serviceIP: string; numProviders: number; providers: Array<{ ipAddress: string; connections?: number; homingHost: string }> };
}

describe('serviceLB end to end: netctl, netmaster, agents, real traffic (lab: 3 hosts)', function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1 });
  const netctl = netctlCli(plan.netmasters[0]!.url);
  const ns = (c: Ctr) => `${plan.prefix}c-${c.name}`;
  const agents: ProbeAgent[] = [];
  let client: ProbeAgent;

  /** `netloom-lab run` with the container's labels (`--label k=v`: the netconf's args.cni.labels). */
  async function plug(c: Ctr): Promise<void> {
    const labels = Object.entries(c.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const r = await lab(['run', c.host, c.name, '--tenant', 'ts', '--network', 'snet', '--ip', c.ip, ...labels]);
    assert.equal(r.stdout.trim().split('\t')[2], c.ip, `${c.name} got its address`);
  }

  async function inspect(name: string): Promise<Inspect> {
    return JSON.parse((await netctl(['service', 'inspect', '-t', 'ts', name])).stdout) as Inspect;
  }

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '3'], false, 180_000);
    await netctl(['tenant', 'create', 'ts']);
    await netctl(['net', 'create', '-t', 'ts', '-e', 'vxlan', '-s', '10.72.1.0/24', '-g', '10.72.1.254', 'snet']);
    for (const c of [C1, ...PROVIDERS]) await plug(c);
    client = await ProbeAgent.start(ns(C1), 'c1', [], []);
    agents.push(client);
    for (const p of PROVIDERS) agents.push(await ProbeAgent.start(ns(p), p.name, [TARGET], []));
    await netctl(['service', 'create', '-t', 'ts', '-s', 'snet', '-l', 'app=web', '-p', `80:${TARGET}:TCP`, 'web']);
    await netctl(['service', 'create', '-t', 'ts', '-s', 'snet', '-l', 'app=nobody', '-p', '80:80:TCP', 'none']);
  });

  after(async function () {
    this.timeout(120_000);
    for (const a of agents) await a.stop();
    await lab(['down'], true, 120_000);
  });

  it('spreads connections to the allocated address over the three providers; inspect shows them with counters', async () => {
    const svc = await inspect('web');
    const ip = svc.Oper.serviceIP;
    assert.match(ip, /^10\.72\.1\.\d+$/, 'an address of the network');
    assert.equal(svc.Oper.numProviders, 3);
    let results: ProbeResult[] = [];
    await waitFor(
      'the service answers on every host (the agents have applied it)',
      async () => {
        results = await client.probe(
          Array.from({ length: 150 }, () => ({ ip, probe: 'tcp/80' })),
          3000,
        );
        return results.every((r) => r.ok);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const spread: Record<string, number> = {};
    for (const r of results) spread[r.who ?? '?'] = (spread[r.who ?? '?'] ?? 0) + 1;
    log(`150 connections to ${ip}: ${JSON.stringify(spread)}`);
    for (const p of PROVIDERS) assert.ok((spread[p.name] ?? 0) >= 20, `${p.name} got ${spread[p.name] ?? 0} of 150`);
    let last: Inspect | undefined;
    await waitFor(
      'the connections counted in inspect (heartbeats)',
      async () => {
        last = await inspect('web');
        return last.Oper.providers.reduce((a, p) => a + (p.connections ?? 0), 0) >= 150;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(last?.Oper.providers)}`);
    });
    log(`inspect: ${JSON.stringify(last?.Oper.providers.map((p) => [p.ipAddress, p.homingHost, p.connections]))}`);
  });

  it('a service whose selector matches nobody refuses at once', async () => {
    const ip = (await inspect('none')).Oper.serviceIP;
    const results = await client.probe(
      Array.from({ length: 3 }, () => ({ ip, probe: 'tcp/80' })),
      3000,
    );
    log(`refused in ${results.map((r) => r.ms).join(', ')} ms`);
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.ok((r.ms ?? Infinity) < 500, `refused, not timed out (${r.ms ?? '?'} ms)`);
    }
  });
});
