/**
 * Micro-benchmark of the OpenFlow 1.3 codec: encode and decode rates (messages per second) of a
 * realistic flow_mod mix as a container network agent installs it (per-endpoint MAC/IP flows,
 * VLAN and VXLAN tunnel flows, conntrack, conjunctive policy, learn-based affinity, groups of
 * registers). The connection engineer's bench runner calls `measureCodec()`; running this file
 * directly prints the figures.
 */
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage } from '../ovs/openflow/codec';
import type { FlowMod } from '../ovs/openflow/messages';
import { parseFlow } from '../tools/openflow-text/flow-text';

/** One template per kind of flow; `{n}` is replaced by a per-flow number, `{h}` by it in hex. */
const TEMPLATES = [
  'table=0,priority=100,in_port={n},dl_src=02:00:00:00:0a:{h},actions=load:{n}->NXM_NX_REG0[0..15],push_vlan:0x8100,set_field:4196->vlan_vid,goto_table:1',
  'table=1,priority=100,dl_vlan=100,dl_dst=02:00:00:00:0a:{h},actions=pop_vlan,output:{n}',
  'table=1,priority=100,ip,reg0={n},nw_dst=10.1.{n}.0/24,actions=set_field:{n}->tun_id,set_field:192.168.0.{n}->tun_dst,output:10',
  'table=2,priority=200,ip,ct_state=-trk,actions=ct(table=3,zone=NXM_NX_REG6[0..15])',
  'table=3,priority=200,ip,ct_state=+trk+new,tcp,nw_dst=10.1.0.{n},tp_dst=80,actions=ct(commit,zone={n},exec(set_field:{n}->ct_mark)),goto_table:4',
  'table=3,priority=150,ip,ct_state=+trk+est,ct_zone={n},actions=goto_table:4',
  'table=4,priority=300,ip,nw_src=10.2.{n}.0/24,actions=conjunction({n},1/2)',
  'table=4,priority=300,tcp,tp_dst={n},actions=conjunction({n},2/2)',
  'table=4,priority=300,conj_id={n},ip,actions=resubmit(,5)',
  'table=5,priority=100,tcp,nw_dst=10.3.0.{n},tp_dst=443,actions=learn(table=6,idle_timeout=60,priority=100,eth_type=0x800,nw_proto=6,NXM_OF_IP_SRC[],NXM_OF_TCP_SRC[],load:NXM_NX_REG1[]->NXM_NX_REG1[]),group:{n}',
];

function realisticMix(count: number): FlowMod[] {
  const out: FlowMod[] = [];
  for (let i = 0; out.length < count; i++) {
    const t = TEMPLATES[i % TEMPLATES.length]!;
    const n = (i % 250) + 1;
    const fm = parseFlow(t.replace(/\{n\}/g, String(n)).replace(/\{h\}/g, n.toString(16).padStart(2, '0')));
    fm.xid = i + 1;
    out.push(fm);
  }
  return out;
}

export interface CodecRates {
  encodePerSec: number;
  decodePerSec: number;
  /** mean encoded size of the mix, bytes */
  meanBytes: number;
}

/** Encode and decode rates of the flow_mod mix (best of `rounds` runs of `count` messages). */
export async function measureCodec(opts: { count?: number; rounds?: number } = {}): Promise<CodecRates> {
  const count = opts.count ?? 50_000;
  const rounds = opts.rounds ?? 5;
  const msgs = realisticMix(count);
  let encoded: Buffer[] = [];
  for (let i = 0; i < Math.min(20_000, count); i++) decodeMessage(encodeMessage(msgs[i]!)); // warm-up (JIT)
  let bestEnc = 0;
  let bestDec = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    encoded = msgs.map(encodeMessage);
    bestEnc = Math.max(bestEnc, count / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    for (const b of encoded) decodeMessage(b);
    bestDec = Math.max(bestDec, count / ((performance.now() - t0) / 1000));
    await new Promise((res) => setImmediate(res));
  }
  const meanBytes = encoded.reduce((s, b) => s + b.length, 0) / encoded.length;
  return { encodePerSec: Math.round(bestEnc), decodePerSec: Math.round(bestDec), meanBytes: Math.round(meanBytes) };
}

if (require.main === module) {
  void measureCodec().then((r) => console.log(JSON.stringify(r)));
}
