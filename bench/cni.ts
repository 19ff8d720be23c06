/**
 * CNI benchmark: latency of ADD and DEL (p50/p99) and sequential ADDs per second of our plugin
 * (`bin/netloom-cni`, POSIX sh + curl, talking to the agent-side handler with the veth backend:
 * the real work of plugging a container in, minus OVS) against the CNI reference `bridge` plugin
 * with host-local IPAM, in the same run. Both run in the namespace `cnibench-host` (through the
 * same `nsenter` wrapper, whose own cost is reported), container namespaces are `cnibench-c*`.
 * Plugins get a clean environment (no NODE_EXTRA_CA_CERTS). The agent runs warm in this process.
 * Goal: our ADD and DEL p50 at most 1.5x the reference's. Needs root.
 * Usage: npm run bench -- cni [--iterations N] [--burst K]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addNetns, delNetns } from '../deploy/lab/netns';
import { NetloomError } from '../lib/errors';
import { listenCni, type CniServer } from '../netplugin/cni/server';
import { VethBackend } from '../netplugin/cni/veth-backend';

export const description = 'CNI ADD/DEL latency and ADDs/s: bin/netloom-cni (+agent, veth backend) vs the reference bridge plugin';

const SHIM = resolve(__dirname, '../../bin/netloom-cni');
const BRIDGE = '/usr/lib/cni/bridge';
const DIR = '/tmp/nl-cni/bench';
const HOST_NS = 'cnibench-host';
const CTR_NS = 'cnibench-c';

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
function execPlugin(bin: string, env: Record<string, string>, stdin: string): Promise<Exec> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn('nsenter', [`--net=/run/netns/${HOST_NS}`, bin], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
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

async function mustRun(p: Plugin, command: string, id: string, ns: string): Promise<number> {
  const r = await execPlugin(p.bin, cniEnv(command, id, ns), p.conf);
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

function parseArgs(args: string[]): { iterations: number; burst: number } {
  const out = { iterations: 200, burst: 30 };
  for (let i = 0; i < args.length; i++) {
    const v = Number(args[i + 1]);
    if (args[i] === '--iterations' && Number.isInteger(v) && v > 0) out.iterations = v;
    else if (args[i] === '--burst' && Number.isInteger(v) && v > 0) out.burst = v;
    else throw new NetloomError('INVALID_ARGUMENT', `unknown or bad argument ${args[i] ?? ''} (usage: cni [--iterations N] [--burst K])`, { field: args[i] ?? '' });
    i++;
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const { iterations, burst } = parseArgs(args);
  if (process.getuid?.() !== 0) throw new NetloomError('PERMISSION_DENIED', 'the CNI benchmark needs root (network namespaces)');
  mkdirSync(DIR, { recursive: true });
  const nsNames = Array.from({ length: burst }, (_, i) => `${CTR_NS}${i}`);
  let srv: CniServer | undefined;
  const backend = new VethBackend({ subnet: '10.80.0.0/16', hostPrefix: 'nlb', hostNetns: HOST_NS });
  const ours: Plugin = {
    label: 'netloom-cni',
    bin: SHIM,
    conf: JSON.stringify({ cniVersion: '1.1.0', name: 'nlbench', type: 'netloom-cni', agentSocket: `${DIR}/agent.sock`, tenant: 'bench' }),
  };
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
  const plugins = [ours, bridge];
  try {
    await addNetns(HOST_NS);
    for (const n of nsNames) await addNetns(n);
    srv = await listenCni(`${DIR}/agent.sock`, { backend });

    // baseline: the nsenter wrapper itself, and the shim's own round trip (STATUS: no backend work)
    const wrapper: number[] = [];
    const shimOnly: number[] = [];
    for (let i = 0; i < 30; i++) {
      wrapper.push((await execPlugin('/bin/true', {}, '')).ms);
      shimOnly.push((await execPlugin(SHIM, { CNI_COMMAND: 'STATUS' }, ours.conf)).ms);
    }

    // warm-up (not counted), then alternating ADD/DEL pairs into the same container namespace
    const samples = new Map(plugins.map((p) => [p.label, { add: [] as number[], del: [] as number[] }]));
    const ctr = nsNames[0] ?? `${CTR_NS}0`;
    for (let i = 0; i < 10 + iterations; i++) {
      for (const p of i % 2 === 0 ? plugins : [...plugins].reverse()) {
        const id = `bench${i}`;
        const add = await mustRun(p, 'ADD', id, ctr);
        const del = await mustRun(p, 'DEL', id, ctr);
        if (i < 10) continue;
        samples.get(p.label)?.add.push(add);
        samples.get(p.label)?.del.push(del);
      }
    }

    // sequential ADDs/s: `burst` ADDs back to back into distinct namespaces, then DEL them all
    const perSec = new Map<string, number>();
    for (const p of plugins) {
      const t0 = performance.now();
      for (let i = 0; i < burst; i++) await mustRun(p, 'ADD', `burst${i}`, nsNames[i] ?? ctr);
      perSec.set(p.label, burst / ((performance.now() - t0) / 1000));
      for (let i = 0; i < burst; i++) await mustRun(p, 'DEL', `burst${i}`, nsNames[i] ?? ctr);
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
    const o = figures[ours.label] as PluginFigures;
    const b = figures[bridge.label] as PluginFigures;
    const ratio = Math.round((o.addP50 / b.addP50) * 100) / 100;
    const delRatio = Math.round((o.delP50 / b.delP50) * 100) / 100;
    const goalMet = ratio <= 1.5 && delRatio <= 1.5;
    const lines = [
      `CNI ADD/DEL, ${iterations} iterations each (after 10 warm-up), ADDs/s over ${burst} sequential ADDs; ms, wall time of the plugin process`,
      `${'plugin'.padEnd(28)}${'ADD p50'.padStart(9)}${'ADD p99'.padStart(9)}${'DEL p50'.padStart(9)}${'DEL p99'.padStart(9)}${'ADDs/s'.padStart(9)}`,
      ...plugins.map((p) => {
        const f = figures[p.label] as PluginFigures;
        const name = p === ours ? 'netloom-cni (+agent, veth)' : 'bridge + host-local';
        return `${name.padEnd(28)}${String(f.addP50).padStart(9)}${String(f.addP99).padStart(9)}${String(f.delP50).padStart(9)}${String(f.delP99).padStart(9)}${String(f.addsPerSec).padStart(9)}`;
      }),
      `nsenter wrapper alone: p50 ${r1(pct(wrapper, 50))} ms (included in every figure above); netloom-cni STATUS round trip (shim + agent, no backend work): p50 ${r1(pct(shimOnly, 50))} ms`,
      `p50 ratio netloom-cni / bridge: ADD ${ratio}, DEL ${delRatio} (goal <= 1.5: ${goalMet ? 'met' : 'NOT met'}); load average at the end: ${loadavg()[0]?.toFixed(1)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'cni',
        iterations,
        burst,
        netloomCni: o,
        bridge: b,
        nsenterP50: r1(pct(wrapper, 50)),
        shimStatusP50: r1(pct(shimOnly, 50)),
        addP50Ratio: ratio,
        delP50Ratio: delRatio,
        goalMet,
        loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      })}\n`,
    );
  } finally {
    for (const a of backend.list()) await execPlugin(SHIM, cniEnv('DEL', a.containerId, CTR_NS + '0'), ours.conf).catch(() => undefined);
    await srv?.close();
    for (const n of nsNames) await delNetns(n);
    await delNetns(HOST_NS);
    rmSync(DIR, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
