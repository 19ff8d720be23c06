/**
 * Dataplane benchmark: container to container throughput and latency (qperf tcp_bw + tcp_lat,
 * iperf3 one stream) over netloom's VLAN and VXLAN modes across two lab hosts (real agents with a
 * fabric file, containers plugged through `bin/netloom-cni`), beside a plain OVS netdev bridge with
 * one NORMAL flow (the fair reference: the same userspace datapath), a direct veth pair, a Linux
 * bridge and kernel VXLAN, and (for the topology) plain OVS NORMAL across two OVS instances.
 * Every path is measured once per round, in alternating order; medians of rounds are reported
 * with ratios against the plain OVS bridge (and against the two-instance one). The `-policy` netloom
 * paths are the same paths between containers whose group has a 100-rule policy (evaluated on
 * both hosts, allowing their traffic), rated against the same path without it (issue 12: at least
 * 0.9x bandwidth, at most 1.1x latency). `netloom-egress-nat` is a container to a server in the lab's
 * `tor` through its host's tenant gateway port with masquerade (docs/hostnet.md), rated against
 * `netloom-egress`, the same path routed without NAT (issue 14: the same goals). `netloom-service` is a
 * client on host1 to a service address with 3 providers on host2 (OVS select group + conntrack DNAT,
 * docs/services.md), rated against `netloom-service-direct`, the same path to a provider directly
 * (the same goals); with it, each round also measures the rate of new TCP connections through the
 * service and directly (a bounded connect loop, support/connect-loop.ts; goal at least 0.8x).
 * The OVS references run with userspace TSO as netloom's lab hosts do (`ovs-normal`,
 * `ovs-normal-2host`), and without it, tx checksum off in the namespaces (`-txoff`); each netloom
 * path is rated against the two-switch reference with its own offload settings (twoHostReference)
 * and against the veth pair. `ovs-vxlan-2host` is the two switches joined by OVS's own VXLAN
 * tunnel (NORMAL, offload settings as netloom-vxlan's): the netloom VXLAN paths are rated against
 * it too (vsOvsVxlan2Host), which leaves the tunnel's own cost out of the ratio. `--sweep`: instead
 * of the rounds above, per path and round one qperf tcp_bw + tcp_lat sweep over message sizes
 * 1 B..64 KiB, medians per size, written with two SVG charts to `--out` (support/dataplane-sweep.ts).
 * BGP mode (issue 16, support/bgp-paths.ts): `netloom-bgp` and `netloom-bgp-policy` (routed
 * containers, routes learned over BGP) rated against `kernel-routed` (vsKernelRouted).
 * Swarm mode (issue 20, support/swarm-lab.ts): `netloom-swarm` (two tasks of a swarm service on a
 * netloom network, the managed plugin, host1 to host2) beside `docker-overlay` (the same on Docker's
 * own overlay network: kernel VXLAN between the hosts' management addresses).
 * Around each tcp_lat (a qperf run of its own, after tcp_bw) the CPU that the path's ovs-vswitchd
 * processes spend per packet they forward is read from /proc (support/switch-cpu.ts): on this
 * userspace datapath a packet's latency is mostly that CPU (docs/benchmarks.md, issue 17). It is
 * `switchCpuUsPerPacket` per path and `switchCpu` in the ratios of two paths that both have it
 * (the host-to-host and tor paths of netloom and the OVS references; not the service paths).
 * Everything is removed afterwards, also on failure. Needs root.
 * `--no-tso`: the netloom lab's OVS without userspace TSO (the earlier setting, for comparison).
 * `--idle-ports N`: N idle ports on each switch of the two-switch references, ovs-vxlan-2host's
 * too (as many as the netloom hosts' other containers: every port costs the userspace datapath's
 * main loop a poll).
 * `--one-bridge`: the netloom lab's agents with --one-bridge (uplink and VTEP address on br-int, no br-phy).
 * `--pin-cpu N`: the paths' switches and the benchmark's qperf/iperf3 on CPU N (support/switch-cpu.ts):
 * latency ratios without the scheduler's placement, bandwidths of one CPU.
 * Usage: npm run bench -- dataplane [--seconds 1..5] [--rounds N] [--paths a,b,...] [--sweep [--out DIR]] [--no-tso] [--idle-ports N] [--one-bridge] [--pin-cpu N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { errorMessage } from '../lib/errors';
import {
  ALL_PATHS,
  formatTable,
  parseDataplaneArgs,
  POLICY_GOAL,
  POLICY_PATHS,
  NAT_PATHS,
  SERVICE_PATHS,
  CONNECTION_RATE_GOAL,
  formatRates,
  isSwarmPath,
  summarize,
  summarizeRates,
  type PathName,
  type RateSample,
  type Sample,
} from './support/dataplane-report';
import { CONNECT_LOOP } from './support/connect-loop';
import { NETLOOM_NET, OVERLAY_NET, SwarmBench, SWARM_BENCH_LAB } from './support/swarm-lab';
import { addKernelRoutedRatios, formatKernelRouted, isBgpPath } from './support/bgp-dataplane-report';
import { BgpBench, cleanupStaleBgp } from './support/bgp-paths';
import { takeRunLock } from './support/run-lock';
import { cleanupStaleNetloom, CONTAINERS, NetloomBench, POLICY_RULES, SERVICE } from './support/netloom-paths';
import { runIperf3, runQperf, runQperfSweep, stopAllServers, SWEEP_SIZES, type SweepPoint } from './support/perf-tools';
import { summarizeSweep, sweepCharts } from './support/dataplane-sweep';
import { pinToCpu, withSwitchCpu } from './support/switch-cpu';
import {
  cleanupStale,
  kernelVxlanPath,
  linuxBridgePath,
  ovsNormal2HostPath,
  ovsNormalPath,
  ovsVxlan2HostPath,
  vethPath,
  type BenchPath,
} from './support/reference-paths';

export const description =
  'container-to-container qperf/iperf3: netloom VLAN and VXLAN (with policy, egress NAT, a service) vs plain OVS NORMAL, veth, Linux bridge, kernel VXLAN; BGP mode vs kernel routing';

const REFERENCE_BUILDERS: Partial<Record<PathName, (idlePorts: number) => Promise<BenchPath>>> = {
  'ovs-normal': () => ovsNormalPath(),
  'ovs-normal-2host': (idle) => ovsNormal2HostPath(false, idle),
  'ovs-normal-txoff': () => ovsNormalPath(true),
  'ovs-normal-2host-txoff': (idle) => ovsNormal2HostPath(true, idle),
  'ovs-vxlan-2host': (idle) => ovsVxlan2HostPath(idle),
  veth: vethPath,
  'linux-bridge': linuxBridgePath,
  'kernel-vxlan': kernelVxlanPath,
};

const say = (s: string) => process.stdout.write(`${s}\n`);
/** one dataplane run at a time (bench/support/run-lock.ts) */
export const RUN_LOCK = '/tmp/nl-dataplane/run.lock';

export async function run(args: string[]): Promise<void> {
  const opts = parseDataplaneArgs(args);
  const load0 = loadavg()[0] ?? 0;
  say(
    `dataplane: paths ${opts.paths.join(', ')}; qperf -t ${opts.seconds} per test, iperf3 -t ${opts.iperfSeconds}, ${opts.rounds} round(s); load average ${load0.toFixed(2)}`,
  );
  // before removing what an earlier run left: a run still going is not an earlier run's leftovers
  const releaseLock = takeRunLock(RUN_LOCK, 'dataplane benchmark');
  // only what this run builds: a BGP-only run leaves the other paths' namespaces alone
  const wantReference = opts.paths.some((p) => REFERENCE_BUILDERS[p]);
  if (wantReference) await cleanupStale();
  const wantNetloom = opts.paths.some((p) => p.startsWith('netloom-') && !isBgpPath(p) && !isSwarmPath(p));
  const wantSwarm = opts.paths.some(isSwarmPath);
  const swarm = new SwarmBench();
  if (wantNetloom) await cleanupStaleNetloom();
  const wantBgp = opts.paths.some(isBgpPath);
  const wantOvsPolicy = opts.paths.some((p) => p.endsWith('-policy') && !isBgpPath(p));
  if (wantBgp) await cleanupStaleBgp();
  const bgp = new BgpBench();
  const paths: BenchPath[] = [];
  const netloom = new NetloomBench();
  const samples = new Map<PathName, Sample[]>();
  const sweeps = new Map<PathName, SweepPoint[][]>();
  const t0 = Date.now();
  let policyEvidence: Awaited<ReturnType<NetloomBench['policyEvidence']>> | null = null;
  const wantService = opts.paths.includes('netloom-service');
  const rates: RateSample[] = [];
  let serviceEvidence: Record<string, number> | null = null;
  let bgpPolicyEvidence: Awaited<ReturnType<BgpBench['policyEvidence']>> | null = null;
  let cleaning: Promise<void> | undefined;
  const cleanupAll = (): Promise<void> =>
    (cleaning ??= (async () => {
      await stopAllServers();
      for (const p of paths) await p.cleanup().catch((e: unknown) => say(`cleanup of ${p.name}: ${errorMessage(e)}`));
      if (wantReference) await cleanupStale().catch((e: unknown) => say(`cleanup: ${errorMessage(e)}`));
      if (wantBgp) await bgp.teardown().catch((e: unknown) => say(`bgp teardown: ${errorMessage(e)}`));
      if (wantNetloom) await netloom.teardown().catch((e: unknown) => say(`netloom teardown: ${errorMessage(e)}`));
      if (wantSwarm) await swarm.teardown().catch((e: unknown) => say(`swarm teardown: ${errorMessage(e)}`));
      releaseLock();
    })());
  // interrupted (Ctrl-C, a test's timeout): clean up before exiting, as on failure
  const onSignal = (sig: NodeJS.Signals): void => {
    say(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (wantNetloom) {
      const t = Date.now();
      const plugged = await netloom.up({ userspaceTso: !opts.noTso, oneBridge: opts.oneBridge, paths: opts.paths });
      say(
        `netloom lab tdp: 2 hosts, 2 agents, ${plugged.length} of ${CONTAINERS.length} containers (those of the paths measured) plugged through bin/netloom-cni in ${Date.now() - t} ms`,
      );
      paths.push(...netloom.paths().filter((p) => opts.paths.includes(p.name as PathName)));
    }
    if (wantBgp) {
      const t = Date.now();
      await bgp.up({ netloom: opts.paths.some((p) => p.startsWith('netloom-bgp')), kernel: opts.paths.includes('kernel-routed') });
      say(
        `bgp lab tdbgp: 6 hosts (netloom on host1, host2 and, for the policy pair, host5, host6; kernel-routed on host3, host4), BIRD on the tor, ready in ${Date.now() - t} ms`,
      );
      paths.push(...bgp.paths().filter((p) => opts.paths.includes(p.name as PathName)));
    }
    if (wantSwarm) {
      const t = Date.now();
      await swarm.up(2);
      if (opts.paths.includes('netloom-swarm')) paths.push(await swarm.taskPath('netloom-swarm', 'swdpn', NETLOOM_NET, 'swdpn'));
      if (opts.paths.includes('docker-overlay')) paths.push(await swarm.taskPath('docker-overlay', 'swdpo', OVERLAY_NET, 'swdpo'));
      say(
        `swarm lab ${SWARM_BENCH_LAB}: 2 hosts in swarm mode (${swarm.plugin}), a service of 2 tasks per network, ready in ${Date.now() - t} ms`,
      );
    }
    for (const name of opts.paths) {
      const build = REFERENCE_BUILDERS[name];
      if (build) paths.push(await build(opts.idlePorts));
    }
    paths.sort((a, b) => ALL_PATHS.indexOf(a.name as PathName) - ALL_PATHS.indexOf(b.name as PathName));
    if (opts.pinCpu !== null) {
      const pinned = await pinToCpu(opts.pinCpu, paths);
      say(`pinned to CPU ${opts.pinCpu}: this process and what it starts, and ${pinned.length - 1} ovs-vswitchd (every thread)`);
    }
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? paths : [...paths].reverse();
      for (const p of order) {
        if (opts.sweep) {
          const t = Date.now();
          const points = await runQperfSweep(p.clientNs, p.serverNs, p.serverIp, opts.seconds, p.qperfDataPort);
          sweeps.set(p.name as PathName, [...(sweeps.get(p.name as PathName) ?? []), points]);
          const at = (n: number) => points.find((x) => x.msgSize === n);
          say(
            `  round ${r + 1} ${p.name}: sweep of ${points.length} sizes in ${((Date.now() - t) / 1000).toFixed(0)} s; 64 KiB tcp_bw ${((at(65536)?.tcpBwBps ?? 0) / 1e9).toFixed(3)} Gbit/s, 1 B tcp_lat ${(at(1)?.tcpLatUs ?? 0).toFixed(1)} us`,
          );
          continue;
        }
        // the switches' CPU per packet around the tcp_lat run (the last attempt's, when qperf retried)
        const probe: { cpu: number | null } = { cpu: null };
        const q = await runQperf(p.clientNs, p.serverNs, p.serverIp, opts.seconds, p.qperfDataPort, async (client) => {
          const m = await withSwitchCpu(p, client);
          probe.cpu = m.cpuUsPerPacket;
          return m.result;
        });
        const cpu = probe.cpu;
        const bps = await runIperf3(p.clientNs, p.serverNs, p.serverIp, opts.iperfSeconds, p.listenAny);
        const list = samples.get(p.name as PathName) ?? [];
        list.push({ tcpBwBps: q.tcpBwBps, tcpLatUs: q.tcpLatUs, iperf3Bps: bps, switchCpuUsPerPacket: cpu });
        samples.set(p.name as PathName, list);
        const cpuText = cpu === null ? '' : `, switch CPU ${cpu.toFixed(1)} us/packet`;
        say(
          `  round ${r + 1} ${p.name}: tcp_bw ${(q.tcpBwBps / 1e9).toFixed(3)} Gbit/s, tcp_lat ${q.tcpLatUs.toFixed(1)} us${cpuText}, iperf3 ${(bps / 1e9).toFixed(3)} Gbit/s`,
        );
      }
      if (wantService && !opts.sweep) {
        // service and direct back to back, alternating which goes first
        const x = await netloom.connectionRates(r % 2 === 0);
        const pick = (y: typeof x.service) => ({ perSecond: y.perSecond, ok: y.ok, failed: y.failed });
        rates.push({ service: pick(x.service), direct: pick(x.direct) });
        const err = x.service.firstError ?? x.direct.firstError;
        say(
          `  round ${r + 1} connections: service ${x.service.perSecond.toFixed(0)}/s (${x.service.ok} ok, ${x.service.failed} failed), direct ${x.direct.perSecond.toFixed(0)}/s (${x.direct.ok} ok, ${x.direct.failed} failed)${err ? `; first failure: ${err}` : ''}`,
        );
      }
    }
    if (wantService) {
      serviceEvidence = await netloom.serviceEvidence();
      say(`service: new connections per provider in host1's serviceDnat flows: ${JSON.stringify(serviceEvidence)}`);
    }
    if (wantOvsPolicy) {
      policyEvidence = await netloom.policyEvidence();
      say(
        `policy: ${policyEvidence.host2IngressAllowPackets} packets allowed by the group rule in host2's ingressPolicy; ${policyEvidence.host1EgressPolicyFlows} egress rule flows on host1`,
      );
    }
    if (opts.paths.includes('netloom-bgp-policy')) {
      bgpPolicyEvidence = await bgp.policyEvidence();
      say(
        `bgp policy: the server host's inet netloom_policy has ${bgpPolicyEvidence.serverHostPolicyRules} rule lines, ${bgpPolicyEvidence.serverHostLinesNamingServer} naming the server; the plain pair's hosts are ${bgpPolicyEvidence.plainHostsStateless ? '' : 'NOT '}stateless`,
      );
    }
  } finally {
    await cleanupAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const load1 = loadavg()[0] ?? 0;
  if (opts.sweep) {
    writeSweep(opts, summarizeSweep(sweeps), { start: load0, end: load1 }, Date.now() - t0);
    return;
  }
  const figures = summarize(samples);
  say('');
  say(`medians of ${opts.rounds} round(s); ratios against ovs-normal (bandwidth: higher is better, latency: lower is better)`);
  say(formatTable(figures));
  const bgpCheck = addKernelRoutedRatios(figures);
  const bgpTable = formatKernelRouted(bgpCheck);
  if (bgpTable) say(`\n${bgpTable}`);
  const rateFigures = summarizeRates(rates);
  if (rateFigures) say(`\n${formatRates(rateFigures)}`);
  say(`load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  say(
    JSON.stringify({
      benchmark: 'dataplane',
      seconds: opts.seconds,
      iperfSeconds: opts.iperfSeconds,
      netloomUserspaceTso: !opts.noTso,
      netloomOneBridge: opts.oneBridge,
      referenceIdlePorts: opts.idlePorts,
      pinCpu: opts.pinCpu,
      rounds: opts.rounds,
      loadAverage1m: { start: Number(load0.toFixed(2)), end: Number(load1.toFixed(2)) },
      paths: figures,
      policy: wantOvsPolicy
        ? {
            rules: POLICY_RULES,
            goal: { bandwidthAtLeast: POLICY_GOAL.bandwidth, latencyAtMost: POLICY_GOAL.latency },
            vsNoPolicy: Object.fromEntries(POLICY_PATHS.map(([n]) => [n, figures[n]?.vsNoPolicy ?? null])),
            evidence: policyEvidence,
          }
        : null,
      nat: opts.paths.includes('netloom-egress-nat')
        ? {
            goal: { bandwidthAtLeast: POLICY_GOAL.bandwidth, latencyAtMost: POLICY_GOAL.latency },
            vsNoNat: Object.fromEntries(NAT_PATHS.map(([n]) => [n, figures[n]?.vsNoNat ?? null])),
          }
        : null,
      bgp: wantBgp ? { vsKernelRouted: bgpCheck, policyEvidence: bgpPolicyEvidence } : null,
      service: wantService
        ? {
            ip: SERVICE.ip,
            providers: CONTAINERS.filter((c) => c.provider).length,
            goal: {
              bandwidthAtLeast: POLICY_GOAL.bandwidth,
              latencyAtMost: POLICY_GOAL.latency,
              connectionRateAtLeast: CONNECTION_RATE_GOAL,
            },
            vsDirect: Object.fromEntries(SERVICE_PATHS.map(([n]) => [n, figures[n]?.vsDirect ?? null])),
            connectLoop: CONNECT_LOOP,
            connectionRate: rateFigures,
            evidence: serviceEvidence,
          }
        : null,
    }),
  );
}

/** The sweep's JSON and its two charts in `opts.out`, and the JSON line on stdout. */
function writeSweep(
  opts: ReturnType<typeof parseDataplaneArgs>,
  figs: ReturnType<typeof summarizeSweep>,
  load: { start: number; end: number },
  ms: number,
): void {
  const when = new Date().toISOString().slice(0, 10);
  const json = {
    benchmark: 'dataplane-sweep',
    date: when,
    secondsPerSize: opts.seconds,
    rounds: opts.rounds,
    referenceIdlePorts: opts.idlePorts,
    netloomOneBridge: opts.oneBridge,
    pinCpu: opts.pinCpu,
    msgSizes: SWEEP_SIZES,
    loadAverage1m: { start: Number(load.start.toFixed(2)), end: Number(load.end.toFixed(2)) },
    paths: figs,
  };
  const charts = sweepCharts(figs, `${when}, ${opts.rounds} round(s), qperf -t ${opts.seconds}, load ${load.start.toFixed(1)}`);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(`${opts.out}/dataplane-sweep.json`, `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(`${opts.out}/dataplane-sweep-bandwidth.svg`, charts.bandwidth);
  writeFileSync(`${opts.out}/dataplane-sweep-latency.svg`, charts.latency);
  say(`sweep: ${opts.out}/dataplane-sweep.json, dataplane-sweep-bandwidth.svg, dataplane-sweep-latency.svg; ${(ms / 1000).toFixed(1)} s`);
  say(`load average ${load.start.toFixed(2)} at start, ${load.end.toFixed(2)} at end`);
  say(JSON.stringify(json));
}
