/**
 * CNI benchmark: latency of ADD and DEL (p50/p99) and sequential ADDs per second of our plugin
 * (the compiled `dist/bin/netloom-cni`, or with `--shim sh` the POSIX sh shim `bin/netloom-cni`) against the CNI reference `bridge` plugin with host-local
 * IPAM, in the same run, alternating. Two targets for our plugin:
 * - `agent` (default): the real thing. A lab host (`netloom-lab` lab `cnib`: its own OVS, etcd,
 *   netmaster, and the host's netplugin agent); every ADD allocates the endpoint in netmaster
 *   (etcd), plumbs the veth, plugs it into br-int and waits for its flows.
 * - `veth`: the agent-side CNI handler served in this process with the veth backend: the plumbing
 *   alone, minus the control plane and OVS.
 * Both plugins run in the same host namespace through the same `nsenter` wrapper (whose own cost
 * is reported), with a clean environment (no NODE_EXTRA_CA_CERTS); container namespaces are
 * `cnibench-c*`. Goal: our ADD and DEL p50 at most 1.5x the reference's. Needs root.
 * `--netmaster-stopped` (agent target): netmaster is stopped after the host has an address block
 * (issue 15), so every measured ADD and DEL is the agent's alone; registrations wait for netmaster.
 * Each round also posts the same ADD and DEL straight to the agent's socket from this process: the
 * difference is the plugin's own share (its process starts, the wrapper). `--shim sh` measures the
 * POSIX sh shim instead of the compiled plugin (dist/bin/netloom-cni, the default once built).
 * Usage: npm run bench -- cni [--target agent|veth] [--iterations N] [--burst K] [--netmaster-stopped] [--shim compiled|sh]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { labDown, labStopNetmaster, labUp } from '../deploy/lab/lab';
import { addNetns, delNetns } from '../deploy/lab/netns';
import { agentPaths } from '../deploy/lab/plan';
import { postCni } from './support/cni-direct';
import { reconcileProfile, scrapeAgentMetrics, type MetricSample, type ReconcileProfile } from './support/agent-profile';
import { run as runCommand } from '../lib/exec';
import { NetloomError } from '../lib/errors';
import { listenCni, type CniServer } from '../netplugin/cni/server';
import { VethBackend } from '../tools/veth-cni-backend';

export const description =
  'CNI ADD/DEL latency and ADDs/s: netloom-cni through the real agent (or --target veth) vs the reference bridge plugin';

/** the plugin a runtime would run: the compiled one (deploy/install.sh builds it), or the sh shim (`--shim sh`) */
const SHIM_SH = resolve(__dirname, '../../bin/netloom-cni');
const SHIM_COMPILED = resolve(__dirname, '../bin/netloom-cni');
const BRIDGE = '/usr/lib/cni/bridge';
const DIR = '/tmp/nl-cni/bench';
/** the veth target's host namespace; the agent target uses the lab host's */
const VETH_HOST_NS = 'cnibench-host';
const CTR_NS = 'cnibench-c';
const LAB = 'cnib';
const BIN = resolve(__dirname, '../../bin');

interface Plugin {
  label: string;
  bin: string;
  conf: string;
}

interface Exec {
  ms: number;
  code: number;
  stdout: string;
}

/** Run a plugin (through `nsenter` into the host namespace) with a clean CNI environment. */
function execPlugin(hostNs: string, bin: string, env: Record<string, string>, stdin: string): Promise<Exec> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, bin], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // a plugin may exit without reading stdin
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ ms: performance.now() - t0, code: code ?? -1, stdout: stdout + stderr });
    });
    child.stdin.end(stdin);
  });
}

function cniEnv(command: string, id: string, ns: string): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
}

async function mustRun(hostNs: string, p: Plugin, command: string, id: string, ns: string): Promise<number> {
  const r = await execPlugin(hostNs, p.bin, cniEnv(command, id, ns), p.conf);
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `${p.label} ${command} ${id}: exit ${r.code}: ${r.stdout.slice(0, 500)}`);
  return r.ms;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

interface PluginFigures {
  addP50: number;
  addP99: number;
  delP50: number;
  delP99: number;
  addsPerSec: number;
}

type Target = 'agent' | 'veth';

type ShimKind = 'compiled' | 'sh';

interface BenchArgs {
  iterations: number;
  burst: number;
  target: Target;
  netmasterStopped: boolean;
  shim: ShimKind;
}

function parseArgs(args: string[]): BenchArgs {
  const out: BenchArgs = {
    iterations: 200,
    burst: 30,
    target: 'agent',
    netmasterStopped: false,
    shim: existsSync(SHIM_COMPILED) ? 'compiled' : 'sh',
  };
  for (let i = 0; i < args.length; i++) {
    const v = Number(args[i + 1]);
    if (args[i] === '--netmaster-stopped') {
      out.netmasterStopped = true;
      continue;
    }
    if (args[i] === '--iterations' && Number.isInteger(v) && v > 0) out.iterations = v;
    else if (args[i] === '--burst' && Number.isInteger(v) && v > 0) out.burst = v;
    else if (args[i] === '--target' && (args[i + 1] === 'agent' || args[i + 1] === 'veth')) out.target = args[i + 1] as Target;
    else if (args[i] === '--shim' && (args[i + 1] === 'compiled' || args[i + 1] === 'sh')) out.shim = args[i + 1] as ShimKind;
    else
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `unknown or bad argument ${args[i] ?? ''} (usage: cni [--target agent|veth] [--iterations N] [--burst K] [--netmaster-stopped] [--shim compiled|sh])`,
        { field: args[i] ?? '' },
      );
    i++;
  }
  if (out.shim === 'compiled' && !existsSync(SHIM_COMPILED))
    throw new NetloomError('NOT_FOUND', `${SHIM_COMPILED} is not built (deploy/install.sh builds it)`, { field: '--shim' });
  if (out.netmasterStopped && out.target !== 'agent')
    throw new NetloomError('INVALID_ARGUMENT', '--netmaster-stopped needs --target agent', { field: '--netmaster-stopped' });
  return out;
}

/** What our plugin talks to: where its socket is, which host namespace, how to tear it down. */
interface OurSide {
  hostNs: string;
  socket: string;
  label: string;
  /** the agent's metrics address inside hostNs (the agent target) */
  metricsListen?: string;
  /** netconf keys naming the network */
  network: Record<string, string>;
  /** a container kept plugged in the network during the measurement (a host in service) */
  resident?: string;
  /** stop the control plane (the agent keeps serving from its address blocks) */
  stopNetmaster?: () => Promise<void>;
  close(): Promise<void>;
}

async function netctl(url: string, args: string[]): Promise<void> {
  const r = await runCommand(`${BIN}/netctl`, ['--netmaster', url, ...args], { allowFailure: true });
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `netctl ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
}

/** The agent target: a one-host lab with netmaster and the host's agent, a tenant and a network. */
async function agentSide(): Promise<OurSide> {
  process.stderr.write(`bringing up lab ${LAB} (1 host, etcd, netmaster, netplugin)...\n`);
  const state = await labUp({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1, agents: true });
  const url = state.plan.netmasters[0]?.url ?? '';
  const host = state.plan.hosts[0];
  if (!host || url === '') throw new NetloomError('INTERNAL', 'lab without host or netmaster');
  await netctl(url, ['tenant', 'create', 'bench']);
  await netctl(url, ['net', 'create', '-t', 'bench', '-s', '10.80.0.0/16', '-g', '10.80.0.1', '--encap', 'vxlan', 'nlbench']);
  return {
    hostNs: host.netns,
    metricsListen: agentPaths(state.plan, host.name).metricsListen,
    socket: agentPaths(state.plan, host.name).cniSocket,
    label: 'netloom-cni (agent, OVS, netmaster)',
    network: { tenant: 'bench', network: 'nlbench' },
    resident: `${CTR_NS}res`,
    stopNetmaster: () => labStopNetmaster(LAB, state.plan.netmasters[0]?.name ?? 'netmaster1'),
    close: async () => {
      await labDown(LAB);
    },
  };
}

/** The veth target: the CNI handler in this process with the veth backend, no OVS, no netmaster. */
async function vethSide(): Promise<OurSide> {
  await addNetns(VETH_HOST_NS);
  const socket = `${DIR}/agent.sock`;
  const backend = new VethBackend({ subnet: '10.80.0.0/16', hostPrefix: 'nlb', hostNetns: VETH_HOST_NS });
  let srv: CniServer | undefined;
  try {
    srv = await listenCni(socket, { backend });
  } catch (e) {
    await delNetns(VETH_HOST_NS);
    throw e;
  }
  const server = srv;
  return {
    hostNs: VETH_HOST_NS,
    socket,
    label: 'netloom-cni (veth backend)',
    network: { tenant: 'bench' },
    close: async () => {
      await server.close();
      await delNetns(VETH_HOST_NS);
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const { iterations, burst, target, netmasterStopped, shim } = parseArgs(args);
  const SHIM = shim === 'compiled' ? SHIM_COMPILED : SHIM_SH;
  if (process.getuid?.() !== 0) throw new NetloomError('PERMISSION_DENIED', 'the CNI benchmark needs root (network namespaces)');
  mkdirSync(DIR, { recursive: true });
  const nsNames = Array.from({ length: burst }, (_, i) => `${CTR_NS}${i}`);
  let side: OurSide | undefined;
  const made: string[] = [];
  let ours: Plugin | undefined;
  const bridge: Plugin = {
    label: 'bridge',
    bin: BRIDGE,
    conf: JSON.stringify({
      cniVersion: '1.0.0',
      name: 'brbench',
      type: 'bridge',
      bridge: 'cnibr0',
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', subnet: '10.81.0.0/16', dataDir: `${DIR}/ipam`, routes: [{ dst: '0.0.0.0/0' }] },
    }),
  };
  try {
    side = target === 'agent' ? await agentSide() : await vethSide();
    const hostNs = side.hostNs;
    const socket = side.socket;
    const us: Plugin = {
      label: 'netloom-cni',
      bin: SHIM,
      conf: JSON.stringify({ cniVersion: '1.1.0', name: 'nlbench', type: 'netloom-cni', agentSocket: side.socket, ...side.network }),
    };
    ours = us;
    const plugins = [us, bridge];
    for (const n of [...nsNames, ...(side.resident ? [side.resident] : [])]) {
      await addNetns(n);
      made.push(n);
    }
    if (side.resident) await mustRun(hostNs, us, 'ADD', 'resident', side.resident);
    if (netmasterStopped) {
      // the resident's ADD made the host carry the network; these claim its first block
      for (let i = 0; i < 3; i++) {
        await mustRun(hostNs, us, 'ADD', 'preblock', nsNames[0] ?? `${CTR_NS}0`);
        await mustRun(hostNs, us, 'DEL', 'preblock', nsNames[0] ?? `${CTR_NS}0`);
      }
      await side.stopNetmaster?.();
    }

    // baseline: the nsenter wrapper itself, and the shim's own round trip (STATUS: no backend work)
    const wrapper: number[] = [];
    const shimOnly: number[] = [];
    for (let i = 0; i < 30; i++) {
      wrapper.push((await execPlugin(hostNs, '/bin/true', {}, '')).ms);
      shimOnly.push((await execPlugin(hostNs, SHIM, { CNI_COMMAND: 'STATUS' }, us.conf)).ms);
    }

    // warm-up (not counted), then alternating ADD/DEL pairs into the same container namespace; each
    // round also posts an ADD and a DEL straight to the agent's socket (no program started: the
    // difference to the plugin's figures is the plugin's own share, wrapper included)
    const samples = new Map(plugins.map((p) => [p.label, { add: [] as number[], del: [] as number[] }]));
    const direct = { add: [] as number[], del: [] as number[] };
    const post = async (command: string, id: string): Promise<number> => {
      const r = await postCni(socket, cniEnv(command, id, ctr), us.conf);
      if (r.status !== 200) throw new NetloomError('COMMAND_FAILED', `direct ${command} ${id}: HTTP ${r.status}: ${r.body.slice(0, 500)}`);
      return r.ms;
    };
    const ctr = nsNames[0] ?? `${CTR_NS}0`;
    const scrape = (): Promise<MetricSample | undefined> =>
      side?.metricsListen ? scrapeAgentMetrics(hostNs, side.metricsListen) : Promise.resolve(undefined);
    let before: MetricSample | undefined;
    for (let i = 0; i < 10 + iterations; i++) {
      if (i === 10) before = await scrape();
      for (const p of i % 2 === 0 ? plugins : [...plugins].reverse()) {
        const id = `bench${i}`;
        const add = await mustRun(hostNs, p, 'ADD', id, ctr);
        const del = await mustRun(hostNs, p, 'DEL', id, ctr);
        if (i < 10) continue;
        samples.get(p.label)?.add.push(add);
        samples.get(p.label)?.del.push(del);
      }
      const add = await post('ADD', `direct${i}`);
      const del = await post('DEL', `direct${i}`);
      if (i < 10) continue;
      direct.add.push(add);
      direct.del.push(del);
    }

    // the agent served four requests per round: our plugin's ADD and DEL, and the direct ones
    const after = await scrape();
    const profile: ReconcileProfile | undefined = before && after ? reconcileProfile(before, after, iterations * 4) : undefined;

    // sequential ADDs/s: `burst` ADDs back to back into distinct namespaces, then DEL them all
    const perSec = new Map<string, number>();
    for (const p of plugins) {
      const t0 = performance.now();
      for (let i = 0; i < burst; i++) await mustRun(hostNs, p, 'ADD', `burst${i}`, nsNames[i] ?? ctr);
      perSec.set(p.label, burst / ((performance.now() - t0) / 1000));
      for (let i = 0; i < burst; i++) await mustRun(hostNs, p, 'DEL', `burst${i}`, nsNames[i] ?? ctr);
    }

    const figures: Record<string, PluginFigures> = {};
    for (const p of plugins) {
      const s = samples.get(p.label) ?? { add: [], del: [] };
      figures[p.label] = {
        addP50: r1(pct(s.add, 50)),
        addP99: r1(pct(s.add, 99)),
        delP50: r1(pct(s.del, 50)),
        delP99: r1(pct(s.del, 99)),
        addsPerSec: r1(perSec.get(p.label) ?? NaN),
      };
    }
    const o = figures[us.label] as PluginFigures;
    const b = figures[bridge.label] as PluginFigures;
    const ratio = Math.round((o.addP50 / b.addP50) * 100) / 100;
    const delRatio = Math.round((o.delP50 / b.delP50) * 100) / 100;
    const goalMet = ratio <= 1.5 && delRatio <= 1.5;
    // the address-block issue's goal: the ADD as fast as the reference plugin's
    const addGoalMet = ratio <= 1.0;
    const lines = [
      `CNI ADD/DEL, ${iterations} iterations each (after 10 warm-up), ADDs/s over ${burst} sequential ADDs; ms, wall time of the plugin process${netmasterStopped ? '; netmaster STOPPED' : ''}`,
      `${'plugin'.padEnd(38)}${'ADD p50'.padStart(9)}${'ADD p99'.padStart(9)}${'DEL p50'.padStart(9)}${'DEL p99'.padStart(9)}${'ADDs/s'.padStart(9)}`,
      ...plugins.map((p) => {
        const f = figures[p.label] as PluginFigures;
        const name = p === us ? (side?.label ?? '') : 'bridge + host-local';
        return `${name.padEnd(38)}${String(f.addP50).padStart(9)}${String(f.addP99).padStart(9)}${String(f.delP50).padStart(9)}${String(f.delP99).padStart(9)}${String(f.addsPerSec).padStart(9)}`;
      }),
      `nsenter wrapper alone: p50 ${r1(pct(wrapper, 50))} ms (included in every figure above); netloom-cni STATUS round trip (${shim} plugin + agent, no backend work): p50 ${r1(pct(shimOnly, 50))} ms`,
      `the same ADD/DEL posted straight to the agent's socket (no program started): ADD p50 ${r1(pct(direct.add, 50))}, DEL p50 ${r1(pct(direct.del, 50))}; the ${shim} plugin's share of an ADD (wrapper included): ${r1(o.addP50 - pct(direct.add, 50))} ms`,
      `p50 ratio netloom-cni / bridge: ADD ${ratio}, DEL ${delRatio} (goal <= 1.5: ${goalMet ? 'met' : 'NOT met'}; ADD <= 1.0: ${addGoalMet ? 'met' : 'NOT met'}); load average at the end: ${loadavg()[0]?.toFixed(1)}`,
      ...(profile
        ? [
            `agent reconciles per ADD or DEL: ${profile.runsPerCycle} runs of ${profile.meanRunMs} ms mean; asked by ${JSON.stringify(profile.triggersPerCycle)}; phase means (ms) ${JSON.stringify(profile.phaseMeanMs)}`,
            `agent-side ADD, mean ms from its start until each step finished: ${JSON.stringify(profile.addStepMeanMs)}; requests in the agent, mean ms: ${JSON.stringify(profile.requestMeanMs)}`,
          ]
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'cni',
        target,
        netmasterStopped,
        iterations,
        burst,
        netloomCni: o,
        bridge: b,
        shim,
        nsenterP50: r1(pct(wrapper, 50)),
        shimStatusP50: r1(pct(shimOnly, 50)),
        directAddP50: r1(pct(direct.add, 50)),
        directDelP50: r1(pct(direct.del, 50)),
        shimShareAddMs: r1(o.addP50 - pct(direct.add, 50)),
        addP50Ratio: ratio,
        delP50Ratio: delRatio,
        goalMet,
        addGoalMet,
        ...(profile ? { agentReconciles: profile } : {}),
        loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      })}\n`,
    );
  } finally {
    // DEL whatever an interrupted run left plugged (DEL is idempotent), then the namespaces
    if (side && ours) {
      const leftovers: Array<[string, string]> = [
        ['resident', side.resident ?? ''],
        ...nsNames.map((n, i): [string, string] => [`burst${i}`, n]),
      ];
      for (const [id, ns] of leftovers)
        if (ns !== '') await execPlugin(side.hostNs, ours.bin, cniEnv('DEL', id, ns), ours.conf).catch(() => undefined);
      for (const [id, ns] of leftovers)
        if (ns !== '') await execPlugin(side.hostNs, bridge.bin, cniEnv('DEL', id, ns), bridge.conf).catch(() => undefined);
    }
    for (const n of made) await delNetns(n);
    await side?.close();
    rmSync(DIR, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
