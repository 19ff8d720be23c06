/**
 * QoS from netprofiles on real OVS with real traffic (lab `qos`: two hosts, a VXLAN network, the
 * real agents fed by a fabric file, containers plugged by the real CNI shim). qa (host1) is in a
 * group with a netprofile, qb (host2) in none, so what qa sends passes only qa's egress meter and
 * what it receives only qa's ingress meter. iperf3 (2 s after 1 s omitted) in each direction: UDP
 * offered at twice the rate arrives within 10% of the profile's rate, and TCP gets within 30% below
 * it (a policer's drops cost TCP a few percent; docs/benchmarks.md); a profile change (20 -> 40
 * Mbit/s) and a detach act live, on the same port; tcpdump on host1's underlay NIC shows the DSCP
 * on the inner and outer header.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { startCapture } from '../../support/capture';
import { pingEventually, tcpTransfer } from '../../support/traffic';
import { AgentLab, Ctr, hostState, Scenario } from './support';

const QA: Ctr = { name: 'qa', host: 'host1', tenant: 'tq', network: 'qnet', ip: '10.61.1.1', mac: '02:00:00:61:01:01' };
const QB: Ctr = { name: 'qb', host: 'host2', tenant: 'tq', network: 'qnet', ip: '10.61.1.2', mac: '02:00:00:61:01:02' };
const SC: Scenario = {
  encap: 'vxlan',
  tenants: [{ name: 'tq', vrfId: 1, ctZone: 1 }],
  networks: [{ tenant: 'tq', name: 'qnet', tag: 6101, subnet: '10.61.1.0/24', gateway: '10.61.1.254', networkId: 1 }],
  containers: [QA, QB],
};
/** DSCP 46 (EF) is TOS byte 0xb8 */
const DSCP = 46;
const IPERF_PORT = 5361;

interface Profile {
  bandwidthKbps: number;
  burstKb: number;
  dscp: number;
}

/** The fabric's state with qa in group tq:gold, which has `profile` (none: the group has no profile). */
function stateWith(lab: AgentLab, profile: Profile | undefined): unknown {
  const s = hostState(lab.plan, SC) as { endpoints: Array<Record<string, unknown>> } & Record<string, unknown>;
  return {
    ...s,
    groups: [{ key: 'tq:gold', tenant: 'tq', name: 'gold', network: 'tq:qnet', groupId: 7, netProfile: profile ? 'p' : '' }],
    profiles: profile ? [{ key: 'tq:p', tenant: 'tq', name: 'p', ...profile }] : [],
    endpoints: s.endpoints.map((e) => (e.id === `ep-${QA.name}` ? { ...e, group: 'tq:gold' } : e)),
  };
}

/** Mbit/s that arrived: TCP, or UDP offered at `udpMbps`. */
async function mbps(lab: AgentLab, reverse: boolean, udpMbps?: number): Promise<number> {
  const r = await tcpTransfer(lab.ns(QA), lab.ns(QB), QB.ip, {
    seconds: 2,
    omitSeconds: 1,
    port: IPERF_PORT,
    reverse,
    ...(udpMbps ? { udpBitsPerSecond: udpMbps * 1e6 } : {}),
  });
  assert.ok(r.ok, `iperf3 ${reverse ? 'qb -> qa' : 'qa -> qb'} failed: ${r.error ?? ''}`);
  return r.bitsPerSecond / 1e6;
}

function within(got: number, want: number, below: number, above: number, what: string): void {
  assert.ok(
    got >= want * (1 - below) && got <= want * (1 + above),
    `${what}: ${got.toFixed(1)} Mbit/s, not within -${below * 100}%/+${above * 100}% of ${want}`,
  );
}

/** Both directions at `rate` Mbit/s: UDP within 10%, TCP within 30% below to 10% above. */
async function limitedTo(lab: AgentLab, rate: number): Promise<void> {
  for (const reverse of [false, true]) {
    const what = reverse ? 'qb -> qa (ingress meter)' : 'qa -> qb (egress meter)';
    within(await mbps(lab, reverse, 2 * rate), rate, 0.1, 0.1, `${what}, UDP`);
    // TCP through a drop-only policer loses a few percent more on a busy machine (retransmits after drops)
    within(await mbps(lab, reverse), rate, 0.3, 0.1, `${what}, TCP`);
  }
}

describe('QoS from netprofiles on OVS (real traffic)', function () {
  this.timeout(120_000);
  const lab = new AgentLab('qos');

  /** qa's OVSDB interface (uuid and ofport): the same row all along means no re-plug. */
  async function qaPort(): Promise<string> {
    const h = lab.host('host1');
    const r = await run('ovs-vsctl', ['--bare', '--columns=_uuid,ofport', 'find', 'Interface', `external_ids:iface-id=ep-${QA.name}`], {
      netns: h.netns,
      env: { ...process.env, OVS_RUNDIR: `${h.ovsDir}/run` },
    });
    return r.stdout.trim().split(/\s+/).join(' ');
  }

  const meters = (): Promise<string> => lab.ofctl('host1', ['dump-meters', 'br-int']);

  before(async function () {
    this.timeout(180_000);
    await lab.up(2);
    lab.writeState(stateWith(lab, { bandwidthKbps: 20_000, burstKb: 625, dscp: DSCP })); // 625 kbytes: 5000 kbit, 250 ms
    await Promise.all([lab.startAgent('host1'), lab.startAgent('host2')]);
    for (const c of SC.containers) await lab.plug(c);
    assert.ok(await pingEventually(lab.ns(QA), QB.ip), 'qa reaches qb');
  });

  after(async function () {
    this.timeout(60_000);
    await lab.teardown();
  });

  it('limits what the endpoint sends and what it receives to the profile bandwidth (20 Mbit/s)', async () => {
    assert.match(await meters(), /rate=20000 burst_size=5000/);
    await limitedTo(lab, 20);
  });

  it('marks the DSCP on the inner and the outer (VXLAN) header on the underlay', async () => {
    const h1 = lab.host('host1');
    const cap = await startCapture(h1.netns, ['-i', 'eth1', '-n', '-v', '-c', '2', `udp port 4789 and src host ${h1.dataIp}`], {
      maxSeconds: 15,
    });
    let captured = false;
    void cap.output.then(() => (captured = true));
    for (let i = 0; i < 20 && !captured; i++) await run('ping', ['-c', '1', '-W', '1', QB.ip], { netns: lab.ns(QA), allowFailure: true });
    const out = await cap.output;
    // one packet per block: a line starting with the timestamp, then its decoded headers
    const echo = out.split(/\n(?=\d)/).find((p) => /ICMP echo request/.test(p));
    assert.ok(echo, `an echo request from qa crossed the underlay:\n${out}`);
    assert.match(echo, /VXLAN.*vni 6101/s);
    const tos = [...echo.matchAll(/tos (0x[0-9a-f]+)/g)].map((m) => m[1]);
    assert.deepEqual(tos, ['0xb8', '0xb8'], `outer then inner header carry DSCP ${DSCP}:\n${echo}`);
  });

  it('applies a profile change live: the meters are modified, the port is not re-plugged', async () => {
    const port = await qaPort();
    lab.writeState(stateWith(lab, { bandwidthKbps: 40_000, burstKb: 1250, dscp: DSCP }));
    await waitFor('the meters at 40 Mbit/s', async () => /rate=40000 burst_size=10000/.test(await meters()), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    assert.equal(await qaPort(), port, 'same interface row and ofport');
    await limitedTo(lab, 40);
  });

  it('an agent restart reads the meters on the switch and keeps them (not re-added)', async () => {
    const stats = async (): Promise<Map<string, number>> =>
      new Map(
        [...(await lab.ofctl('host1', ['meter-stats', 'br-int'])).matchAll(/meter:(\d+) .*?duration:([\d.]+)s/g)].map((m) => [
          m[1]!,
          Number(m[2]),
        ]),
      );
    const generation = async (): Promise<string> =>
      [
        ...new Set(
          [...(await lab.ofctl('host1', ['dump-flows', 'br-int'])).matchAll(/cookie=0x([0-9a-f]+)/g)].map((m) =>
            m[1]!.padStart(16, '0').slice(4, 8),
          ),
        ),
      ].join(' ');
    const before = await stats();
    const gen = await generation();
    assert.equal(before.size, 2, 'qa egress and ingress meters');
    await lab.stopAgent('host1');
    await lab.startAgent('host1');
    await waitFor('the restarted agent to take the switch over', async () => (await generation()) !== gen, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const after = await stats();
    assert.deepEqual([...after.keys()], [...before.keys()]);
    for (const [id, d] of after) assert.ok(d >= before.get(id)!, `meter ${id} was re-created (duration ${before.get(id)} s -> ${d} s)`);
    assert.match(await meters(), /rate=40000 burst_size=10000/);
  });

  it('detaching the profile removes the meters and the limit, live', async () => {
    const port = await qaPort();
    lab.writeState(stateWith(lab, undefined));
    await waitFor('no meter left', async () => !/meter=/.test(await meters()), { timeoutMs: 10_000, intervalMs: 50 });
    assert.doesNotMatch(await lab.ofctl('host1', ['dump-flows', 'br-int']), /meter:/);
    assert.equal(await qaPort(), port);
    const free = await mbps(lab, false);
    assert.ok(free > 60, `qa -> qb unlimited: ${free.toFixed(1)} Mbit/s`);
    assert.ok(await pingEventually(lab.ns(QA), QB.ip));
  });
});
