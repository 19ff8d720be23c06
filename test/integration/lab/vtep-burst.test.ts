/**
 * Hosts joining in a burst, on real components: a lab of 2 hosts (real OVS, netmaster, netplugin,
 * CNI), then 40 endpoints of hosts that do not exist appear at once over REST, each host with a
 * VTEP of its own in the underlay subnet that nobody answers (as while a rack is still coming up).
 * Each agent warms every new VTEP (agent/vtep-warmup.ts): every one of the 40 is asked for on the
 * underlay (an ARP request from host1's VTEP address), host1's agent never runs more than
 * MAX_PROBES_IN_FLIGHT probes at once (it started 40 at once, and kept them going for 20 s, before),
 * and the containers of the two real hosts keep reaching each other.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { planLab } from '../../../deploy/lab/plan';
import { labRestCredentials } from '../../../deploy/lab/pki';
import type { LabStatus } from '../../../deploy/lab/lab';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { restRequest } from '../../../lib/rest-request';
import { MAX_PROBES_IN_FLIGHT } from '../../../netplugin/agent/vtep-warmup';
import { labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tvbst';
const lab = labCli(LAB);
const GHOSTS = 40;

describe('hosts joining in a burst: VTEP warm-up (lab: 2 hosts)', function () {
  this.timeout(60_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1 });
  const nm = plan.netmasters[0]!.url;
  const netctl = netctlCli(nm);
  const ctrNs = (c: string) => `${plan.prefix}c-${c}`;
  const host1 = plan.hosts.find((h) => h.name === 'host1')!;
  const subnet = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(plan.dataSubnet)![1]!;
  // hosts take .1-.50, the tor .254: .150-.189 answer to nobody
  const ghostVteps = Array.from({ length: GHOSTS }, (_, i) => `${subnet}.${150 + i}`);
  let status: LabStatus;
  let capture: ChildProcess | undefined;

  async function ping(netns: string, ip: string): Promise<boolean> {
    const r = await run('ping', ['-c', '1', '-W', '1', '-q', ip], { netns, allowFailure: true, timeoutMs: 10_000 });
    return r.code === 0;
  }

  /** The warm-up probes (`ping -c 1 -W 0.3 -q VTEP`) that `pid` runs now towards the ghost VTEPs. */
  async function probesOf(pid: number): Promise<number> {
    const r = await run('ps', ['-o', 'args=', '--ppid', String(pid)], { allowFailure: true });
    return r.stdout.split('\n').filter((l) => {
      const m = /^ping -c 1 -W 0\.3 -q (\S+)$/.exec(l.trim());
      return m !== null && ghostVteps.includes(m[1]!);
    }).length;
  }

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2']);
    status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    await netctl(['tenant', 'create', 'tb']);
    await netctl(['net', 'create', '-t', 'tb', '-e', 'vxlan', '-s', '10.51.1.0/24', '-g', '10.51.1.1', 'web']);
    for (const [host, name, ip] of [
      ['host1', 'b1', '10.51.1.10'],
      ['host2', 'b2', '10.51.1.11'],
    ] as const) {
      const r = await lab(['run', host, name, '--tenant', 'tb', '--network', 'web', '--ip', ip]);
      assert.equal(r.stdout.trim().split('\t')[2], ip, `${name} got its address`);
    }
    await waitFor('b1 reaches b2', async () => ((await ping(ctrNs('b1'), '10.51.1.11')) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
  });

  after(async function () {
    this.timeout(120_000);
    if (capture && capture.exitCode === null && capture.signalCode === null) capture.kill('SIGTERM');
    await lab(['down'], true, 120_000);
  });

  it(`probes each of ${GHOSTS} new VTEPs on the underlay, at most ${MAX_PROBES_IN_FLIGHT} at a time, and traffic goes on`, async function () {
    this.timeout(120_000);
    const agentPid = status.hosts.find((h) => h.name === 'host1')?.agent?.pid;
    assert.ok(agentPid, "host1's agent runs");
    // ARP requests on host1's side of the underlay: the warm-up's probes on the wire
    const asked = new Set<string>();
    capture = spawn('ip', ['netns', 'exec', plan.underlayNetns, 'tcpdump', '-l', '-n', '-i', host1.dataPeer, 'arp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: capture.stdout! }).on('line', (line) => {
      const m = /Request who-has (\S+) tell (\S+?),/.exec(line);
      if (m && m[2] === host1.dataIp && ghostVteps.includes(m[1]!)) asked.add(m[1]!);
    });
    let listening = false;
    createInterface({ input: capture.stderr! }).on('line', (line) => (listening ||= line.startsWith('listening on')));
    await waitFor('tcpdump listens', async () => (listening ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    const credentials = labRestCredentials(plan);
    await Promise.all(
      ghostVteps.map(async (vtepIP, i) => {
        const host = `ghost${i}`;
        const r = await restRequest(`${nm}/api/v1/endpoints/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          credentials,
          body: JSON.stringify({ tenantName: 'tb', networkName: 'web', homingHost: host, vtepIP, containerID: `${host}-c` }),
        });
        assert.ok(r.ok, `endpoint of ${host}: ${r.status} ${r.text}`);
      }),
    );
    let most = 0;
    await waitFor(
      `an ARP request for each of the ${GHOSTS} new VTEPs from host1`,
      async () => {
        most = Math.max(most, await probesOf(agentPid));
        return asked.size === GHOSTS ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 20 },
    );
    assert.ok(most > 0, 'the probes were seen running');
    assert.ok(most <= MAX_PROBES_IN_FLIGHT, `host1's agent ran ${most} probes at once`);
    assert.ok(await ping(ctrNs('b1'), '10.51.1.11'), 'b1 still reaches b2');
  });
});
