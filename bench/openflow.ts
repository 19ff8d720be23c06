/**
 * OpenFlow benchmark: install N flows (default 100,000) into a fresh OVS bridge three ways and
 * count them afterwards: through our connection as one bundle (pipelined bundle-adds), through our
 * connection as plain pipelined flow_mods plus one barrier, and with
 * `ovs-ofctl -O OpenFlow13 --bundle add-flows` from a file (the reference). Also measures codec
 * encode/decode rates. Runs a private OVS in network namespace ofx-bench (needs root).
 * Each method runs `--rounds` times (default 3, order alternating); medians are reported.
 * Usage: npm run bench -- openflow [--flows N] [--rounds R]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { run as exec } from '../lib/exec';
import { addNetns, delNetns } from '../deploy/lab/netns';
import { OvsInstance, ovsCtl, startOvs, stopOvs } from '../deploy/lab/ovs-instance';
import { OfConnection, connectSwitch } from '../ovs/openflow';
import { decodeMessage, encodeMessage } from '../ovs/openflow/codec';
import { FlowMod, flowMod } from '../ovs/openflow/messages';
import { NetloomError } from '../lib/errors';

export const description = 'install 100k flows: our connection (bundle, pipelined) vs ovs-ofctl --bundle add-flows';

const NS = 'ofx-bench';
const DIR = '/tmp/nl-ofconn/bench';

/** Flow i: a distinct /32 destination in table 0, output to port 1. */
function benchFlow(i: number): FlowMod {
  const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
  return flowMod({
    tableId: 0,
    priority: 100,
    match: [
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: ip },
    ],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 1, maxLen: 0 }] }],
  });
}

function benchFlowText(i: number): string {
  return `table=0,priority=100,ip,nw_dst=10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff},actions=output:1`;
}

async function freshBridge(inst: OvsInstance, br: string): Promise<void> {
  await ovsCtl(inst, 'ovs-vsctl', [
    '--if-exists',
    'del-br',
    br,
    '--',
    'add-br',
    br,
    '--',
    'set',
    'bridge',
    br,
    'datapath_type=netdev',
    'protocols=OpenFlow13',
    'fail_mode=secure',
  ]);
}

async function countFlows(inst: OvsInstance, br: string): Promise<number> {
  const out = await ovsCtl(inst, 'ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', br]);
  const m = /flow_count=(\d+)/.exec(out);
  if (!m) throw new NetloomError('COMMAND_FAILED', `dump-aggregate ${br} printed no flow_count: ${out}`);
  return Number(m[1]);
}

async function connect(inst: OvsInstance, br: string): Promise<OfConnection> {
  return connectSwitch(`unix:${inst.runDir}/${br}.mgmt`, { timeoutMs: 10_000, requestTimeoutMs: 300_000, echoTimeoutMs: 120_000 });
}

interface Timing {
  seconds: number;
  flowsPerSec: number;
  counted: number;
}

async function viaOurBundle(inst: OvsInstance, n: number): Promise<Timing> {
  await freshBridge(inst, 'bra');
  const conn = await connect(inst, 'bra');
  try {
    // the input, typed messages, is prepared beforehand (as the file is for ovs-ofctl); encoding is timed
    const msgs: FlowMod[] = [];
    for (let i = 0; i < n; i++) msgs.push(benchFlow(i));
    const t0 = performance.now();
    await conn.bundle(msgs, { atomic: true, ordered: true, timeoutMs: 300_000 });
    const seconds = (performance.now() - t0) / 1000;
    const counted = await countFlows(inst, 'bra');
    return { seconds, flowsPerSec: n / seconds, counted };
  } finally {
    conn.close();
  }
}

async function viaOurPipeline(inst: OvsInstance, n: number): Promise<Timing & { errors: number }> {
  await freshBridge(inst, 'brb');
  const conn = await connect(inst, 'brb');
  try {
    const msgs: FlowMod[] = [];
    for (let i = 0; i < n; i++) msgs.push(benchFlow(i));
    const t0 = performance.now();
    for (const m of msgs) await conn.send(m);
    const r = await conn.barrier({ timeoutMs: 300_000 });
    const seconds = (performance.now() - t0) / 1000;
    const counted = await countFlows(inst, 'brb');
    return { seconds, flowsPerSec: n / seconds, counted, errors: r.errors.length };
  } finally {
    conn.close();
  }
}

async function viaOfctl(inst: OvsInstance, n: number): Promise<Timing> {
  await freshBridge(inst, 'brc');
  const file = `${DIR}/flows.txt`;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(benchFlowText(i));
  writeFileSync(file, `${lines.join('\n')}\n`);
  const t0 = performance.now();
  await exec('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', 'brc', file], { netns: NS, env: inst.env, timeoutMs: 300_000 });
  const seconds = (performance.now() - t0) / 1000;
  const counted = await countFlows(inst, 'brc');
  return { seconds, flowsPerSec: n / seconds, counted };
}

interface CodecRates {
  encodeMsgsPerSec: number;
  decodeMsgsPerSec: number;
  source: string;
}

/** Rates from the codec engineer's measureCodec (a realistic flow_mod mix), when that module exists. */
async function mixRates(): Promise<CodecRates | undefined> {
  let mod: { measureCodec?: () => Promise<Record<string, unknown>> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional module (bench/openflow-codec.ts), loaded only if present
    mod = require('./openflow-codec') as typeof mod;
  } catch {
    return undefined;
  }
  if (typeof mod.measureCodec !== 'function') return undefined;
  const r = await mod.measureCodec();
  const enc = Number(r.encodePerSec ?? r.encodeMsgsPerSec);
  const dec = Number(r.decodePerSec ?? r.decodeMsgsPerSec);
  if (!Number.isFinite(enc) || !Number.isFinite(dec)) return undefined;
  return {
    encodeMsgsPerSec: enc,
    decodeMsgsPerSec: dec,
    source: `measureCodec (bench/openflow-codec.ts, realistic mix, ${String(r.meanBytes ?? '?')} bytes/msg)`,
  };
}

/** Encode/decode rates of this benchmark's own (simple) flow_mods. */
function benchFlowRates(n: number): CodecRates {
  const msgs: FlowMod[] = [];
  for (let i = 0; i < n; i++) msgs.push(benchFlow(i));
  for (let i = 0; i < Math.min(2000, n); i++) decodeMessage(encodeMessage(msgs[i] as FlowMod)); // warm-up
  let enc = 0;
  let dec = 0;
  let size = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const bufs = msgs.map((m) => encodeMessage(m));
    const t1 = performance.now();
    for (const b of bufs) decodeMessage(b);
    const t2 = performance.now();
    enc = Math.max(enc, n / ((t1 - t0) / 1000));
    dec = Math.max(dec, n / ((t2 - t1) / 1000));
    size = bufs[0]?.length ?? 0;
  }
  return { encodeMsgsPerSec: enc, decodeMsgsPerSec: dec, source: `this benchmark's flow_mods, best of 3 (${size} bytes/msg)` };
}

function parseArgs(args: string[]): { flows: number; rounds: number } {
  let flows = 100_000;
  let rounds = 3;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--flows') flows = Number(args[++i]);
    else if (args[i] === '--rounds') rounds = Number(args[++i]);
    else throw new NetloomError('INVALID_ARGUMENT', `unknown argument ${args[i]}`, { field: 'args' });
  }
  if (!(Number.isInteger(flows) && flows > 0 && flows <= 1_000_000))
    throw new NetloomError('INVALID_ARGUMENT', 'flows must be 1..1000000', { field: 'flows' });
  if (!(Number.isInteger(rounds) && rounds > 0 && rounds <= 20))
    throw new NetloomError('INVALID_ARGUMENT', 'rounds must be 1..20', { field: 'rounds' });
  return { flows, rounds };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function run(args: string[]): Promise<void> {
  const { flows, rounds } = parseArgs(args);
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  await stopOvs(DIR);
  await delNetns(NS);
  rmSync(DIR, { recursive: true, force: true });
  await addNetns(NS);
  try {
    const inst = await startOvs(DIR, NS);
    const simple = benchFlowRates(Math.min(flows, 100_000));
    const mix = await mixRates();
    const codec = mix ?? simple;
    for (const c of mix ? [mix, simple] : [simple])
      say(`codec: encode ${Math.round(c.encodeMsgsPerSec)} msgs/s, decode ${Math.round(c.decodeMsgsPerSec)} msgs/s: ${c.source}`);
    const rates = { ofctl: [] as number[], bundle: [] as number[], pipe: [] as number[] };
    const pad = (s: string): string => s.padEnd(30);
    for (let r = 1; r <= rounds; r++) {
      // alternate the order so that neither method always runs on a warmer switch
      const order = r % 2 === 1 ? (['ofctl', 'bundle', 'pipe'] as const) : (['pipe', 'bundle', 'ofctl'] as const);
      for (const what of order) {
        const t =
          what === 'ofctl'
            ? await viaOfctl(inst, flows)
            : what === 'bundle'
              ? await viaOurBundle(inst, flows)
              : await viaOurPipeline(inst, flows);
        if (t.counted !== flows) throw new NetloomError('INTERNAL', `${what}: expected ${flows} flows on the bridge, counted ${t.counted}`);
        const label = { ofctl: 'ovs-ofctl --bundle add-flows:', bundle: 'ours, one bundle:', pipe: 'ours, pipelined + barrier:' }[what];
        say(
          `round ${r} ${pad(label)} ${flows} flows in ${t.seconds.toFixed(2)} s = ${Math.round(t.flowsPerSec)} flows/s (counted ${t.counted})`,
        );
        rates[what].push(t.flowsPerSec);
      }
    }
    const ofctl = median(rates.ofctl);
    const bundle = median(rates.bundle);
    const pipe = median(rates.pipe);
    const ratio = bundle / ofctl;
    say(
      `median of ${rounds}: ovs-ofctl ${Math.round(ofctl)} flows/s, ours bundle ${Math.round(bundle)} flows/s, ours pipelined ${Math.round(pipe)} flows/s`,
    );
    say(`ratio ours(bundle)/ovs-ofctl: ${ratio.toFixed(2)}x (goal >= 1.0x)`);
    say(
      JSON.stringify({
        benchmark: 'openflow',
        flows,
        rounds,
        ours_bundle_flows_per_s: Math.round(bundle),
        ours_pipelined_flows_per_s: Math.round(pipe),
        ofctl_bundle_flows_per_s: Math.round(ofctl),
        ratio: Number(ratio.toFixed(3)),
        pipelined_ratio: Number((pipe / ofctl).toFixed(3)),
        encode_msgs_per_s: Math.round(codec.encodeMsgsPerSec),
        decode_msgs_per_s: Math.round(codec.decodeMsgsPerSec),
        codec_source: mix ? 'measureCodec' : 'bench-flows',
        bench_flow_encode_msgs_per_s: Math.round(simple.encodeMsgsPerSec),
        bench_flow_decode_msgs_per_s: Math.round(simple.decodeMsgsPerSec),
      }),
    );
  } finally {
    await stopOvs(DIR);
    await delNetns(NS);
    rmSync(DIR, { recursive: true, force: true });
  }
}
