/**
 * Pure pieces of the dataplane benchmark: its options (parsed and checked), medians of rounds,
 * ratios against the reference path (plain OVS NORMAL on the same userspace datapath) and the
 * printed table. No I/O.
 */
import { NetloomError } from '../../lib/errors';
import { BGP_PATHS } from './bgp-dataplane-report';

/** swarm mode (bench/support/swarm-lab.ts): two tasks of a service on a netloom network, and on Docker's own overlay */
export const SWARM_PATHS = ['netloom-swarm', 'docker-overlay'] as const;
export function isSwarmPath(p: string): boolean {
  return (SWARM_PATHS as readonly string[]).includes(p);
}
export const ALL_PATHS = [
  'netloom-vlan',
  'netloom-vxlan',
  'netloom-vlan-policy',
  'netloom-vxlan-policy',
  'netloom-egress',
  'netloom-egress-nat',
  'netloom-service',
  'netloom-service-direct',
  'ovs-normal',
  'ovs-normal-2host',
  'ovs-normal-txoff',
  'ovs-normal-2host-txoff',
  'ovs-vxlan-2host',
  'veth',
  'linux-bridge',
  'kernel-vxlan',
  ...BGP_PATHS,
  ...SWARM_PATHS,
] as const;
export type PathName = (typeof ALL_PATHS)[number];
export const REFERENCE_PATH: PathName = 'ovs-normal';
/** the same NORMAL switching over two OVS instances in a row: netloom's cross-host topology */
export const TWO_HOST_PATH: PathName = 'ovs-normal-2host';
/** the physical limit of the machine: a veth pair */
export const VETH_PATH: PathName = 'veth';
/**
 * The two-switch reference with a path's own offload settings (vsOvsNormal2Host): netloom's VXLAN
 * containers keep tx checksum off (OVS 3.1 drops offloaded segments at tunnel ports), so theirs is
 * the reference without TSO and with tx off; every other path's has TSO like netloom's VLAN ones.
 */
export function twoHostReference(name: PathName): PathName {
  // tx checksum off in the containers: VXLAN paths (netloom's and OVS's own), and Docker's (CNM) containers (netplugin keeps the workaround there)
  return /^(netloom-(vxlan|egress|service|swarm)|ovs-vxlan-2host)/.test(name) ? 'ovs-normal-2host-txoff' : TWO_HOST_PATH;
}
/**
 * The same two switches with a VXLAN tunnel port each (NORMAL, TSO and tx as netloom-vxlan's):
 * the tunnel's own cost without netloom's pipeline. Rates the netloom VXLAN paths (vsOvsVxlan2Host).
 */
export const VXLAN_2HOST_PATH: PathName = 'ovs-vxlan-2host';
/** the netloom paths whose packets cross a VXLAN tunnel and so are rated against VXLAN_2HOST_PATH */
export function isNetloomVxlanPath(name: PathName): boolean {
  return /^netloom-vxlan/.test(name);
}
/** a path with the 100-rule policy and the same path without it */
export const POLICY_PATHS: ReadonlyArray<[PathName, PathName]> = [
  ['netloom-vlan-policy', 'netloom-vlan'],
  ['netloom-vxlan-policy', 'netloom-vxlan'],
];
/** a container to the tor through its host's gateway port with masquerade, and the same path routed without NAT */
export const NAT_PATHS: ReadonlyArray<[PathName, PathName]> = [['netloom-egress-nat', 'netloom-egress']];
/** a client to a service address with 3 providers, and the same path directly to a provider */
export const SERVICE_PATHS: ReadonlyArray<[PathName, PathName]> = [['netloom-service', 'netloom-service-direct']];
/** issue 14: new TCP connections per second through a service against directly to its providers, at least */
export const CONNECTION_RATE_GOAL = 0.8;
/** the issue's goal for a path with policy (or NAT) against the same without: bandwidth at least, latency at most */
export const POLICY_GOAL = { bandwidth: 0.9, latency: 1.1 } as const;

export interface DataplaneOptions {
  /** qperf -t per test (1..5) */
  seconds: number;
  /** iperf3 -t (1..3, at most `seconds`) */
  iperfSeconds: number;
  rounds: number;
  paths: PathName[];
  /** qperf -oo msg_size:1:64K:*2 per path instead of the single-size rounds, charts written to `out` */
  sweep: boolean;
  /** where --sweep writes its JSON and SVG charts */
  out: string;
  /** the netloom lab's OVS without userspace TSO (every container then keeps tx checksum off): the earlier setting */
  noTso: boolean;
  /**
   * idle veth ports added to each switch of the two-switch references: the userspace datapath's
   * main loop polls every port on each pass, so a like-with-like reference has as many as
   * netloom's lab hosts (docs/benchmarks.md, issue 17)
   */
  idlePorts: number;
  /** the netloom lab's agents with --one-bridge: the uplink and the VTEP address on br-int, no br-phy */
  oneBridge: boolean;
  /**
   * pin every switch of the measured paths (all its threads) and the benchmark's own processes
   * (qperf, iperf3) to this CPU before measuring, or null: the ratios then follow the CPU each
   * switch spends per packet, without the scheduler's placement (±20 % between runs on 2 vCPUs);
   * bandwidths are then those of one CPU
   */
  pinCpu: number | null;
}

export const DEFAULT_SWEEP_OUT = 'docs/dataplane-sweep';

function intOpt(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new NetloomError('INVALID_ARGUMENT', `--${name} must be an integer from ${min} to ${max}, got ${v ?? 'nothing'}`, {
      field: name,
    });
  }
  return n;
}

/** `[--seconds N] [--rounds N] [--paths a,b,...] [--sweep [--out DIR]] [--no-tso] [--idle-ports N] [--one-bridge] [--pin-cpu N]` */
export function parseDataplaneArgs(args: readonly string[]): DataplaneOptions {
  let seconds = 5;
  let rounds = 3;
  let paths: PathName[] = [...ALL_PATHS];
  let sweep = false;
  let noTso = false;
  let oneBridge = false;
  let idlePorts = 0;
  let pinCpu: number | null = null;
  let out = DEFAULT_SWEEP_OUT;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '--sweep' || a === '--no-tso' || a === '--one-bridge') {
      if (a === '--sweep') sweep = true;
      else if (a === '--no-tso') noTso = true;
      else oneBridge = true;
      continue;
    }
    if (a === '--out') {
      if (!v || v.startsWith('--')) throw new NetloomError('INVALID_ARGUMENT', '--out needs a directory', { field: 'out' });
      out = v;
    } else if (a === '--seconds') seconds = intOpt('seconds', v, 1, 5);
    else if (a === '--rounds') rounds = intOpt('rounds', v, 1, 20);
    else if (a === '--idle-ports') idlePorts = intOpt('idle-ports', v, 0, 32);
    else if (a === '--pin-cpu') pinCpu = intOpt('pin-cpu', v, 0, 1023);
    else if (a === '--paths') {
      const list = (v ?? '').split(',').filter((s) => s !== '');
      const bad = list.filter((p) => !(ALL_PATHS as readonly string[]).includes(p));
      if (list.length === 0 || bad.length > 0) {
        throw new NetloomError(
          'INVALID_ARGUMENT',
          `--paths must be a comma list of ${ALL_PATHS.join(', ')}; bad: ${bad.join(',') || '(empty)'}`,
          { field: 'paths' },
        );
      }
      paths = ALL_PATHS.filter((p) => list.includes(p));
    } else
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `unknown option ${a ?? ''} (known: --seconds, --rounds, --paths, --sweep, --out, --no-tso, --idle-ports, --one-bridge, --pin-cpu)`,
        {
          field: 'args',
        },
      );
    i++;
  }
  return { seconds, iperfSeconds: Math.min(3, seconds), rounds, paths, sweep, out, noTso, idlePorts, oneBridge, pinCpu };
}

export interface Sample {
  tcpBwBps: number;
  tcpLatUs: number;
  iperf3Bps: number;
  /** during tcp_lat: CPU µs per packet and switch of the path's ovs-vswitchd (support/switch-cpu.ts); null for kernel paths */
  switchCpuUsPerPacket?: number | null;
}

export interface PathFigures {
  /** medians over rounds */
  qperfTcpBwGbps: number;
  qperfTcpLatUs: number;
  iperf3Gbps: number;
  rounds: number;
  /** median over rounds of Sample.switchCpuUsPerPacket; null for paths without switches */
  switchCpuUsPerPacket: number | null;
  /** ratios to the reference path: bandwidths path/reference (higher is better), latency path/reference (lower is better) */
  vsOvsNormal: Ratios | null;
  /** the same against the two-switch reference with this path's offload settings (twoHostReference; null when not measured) */
  vsOvsNormal2Host: Ratios | null;
  /** that reference's name */
  ovs2HostReference: PathName;
  /** the same against the veth pair, the machine's physical limit (null when not measured) */
  vsVeth: Ratios | null;
  /** netloom VXLAN paths only: the same against the two switches joined by OVS's own VXLAN tunnel (null when not measured) */
  vsOvsVxlan2Host?: Ratios | null;
  /** policy paths only: the same against the path without policy (null when it was not measured) */
  vsNoPolicy?: Ratios | null;
  /** NAT paths only: the same against the path without NAT (null when it was not measured) */
  vsNoNat?: Ratios | null;
  /** service paths only: the same against the path directly to a provider (null when it was not measured) */
  vsDirect?: Ratios | null;
}

export interface Ratios {
  tcpBw: number;
  tcpLat: number;
  iperf3: number;
  /** switch CPU per packet, path/reference (lower is better): only when both were measured */
  switchCpu?: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The median of the figures that were measured, to 0.1; null when none was. */
function medianOrNull(xs: ReadonlyArray<number | null | undefined>): number | null {
  const got = xs.filter((x): x is number => typeof x === 'number');
  return got.length === 0 ? null : round(median(got), 1);
}

/** Medians per path and the ratios against `ovs-normal` (null when it was not measured). */
export function summarize(samples: ReadonlyMap<PathName, readonly Sample[]>): Partial<Record<PathName, PathFigures>> {
  const out: Partial<Record<PathName, PathFigures>> = {};
  for (const [name, xs] of samples) {
    out[name] = {
      qperfTcpBwGbps: round(median(xs.map((s) => s.tcpBwBps)) / 1e9, 3),
      qperfTcpLatUs: round(median(xs.map((s) => s.tcpLatUs)), 1),
      iperf3Gbps: round(median(xs.map((s) => s.iperf3Bps)) / 1e9, 3),
      rounds: xs.length,
      switchCpuUsPerPacket: medianOrNull(xs.map((s) => s.switchCpuUsPerPacket)),
      vsOvsNormal: null,
      vsOvsNormal2Host: null,
      ovs2HostReference: twoHostReference(name),
      vsVeth: null,
    };
  }
  const ratios = (f: PathFigures, ref: PathFigures): Ratios => ({
    tcpBw: round(f.qperfTcpBwGbps / ref.qperfTcpBwGbps, 2),
    tcpLat: round(f.qperfTcpLatUs / ref.qperfTcpLatUs, 2),
    iperf3: round(f.iperf3Gbps / ref.iperf3Gbps, 2),
    ...(f.switchCpuUsPerPacket !== null && ref.switchCpuUsPerPacket
      ? { switchCpu: round(f.switchCpuUsPerPacket / ref.switchCpuUsPerPacket, 2) }
      : {}),
  });
  const ref = out[REFERENCE_PATH];
  const veth = out[VETH_PATH];
  for (const f of Object.values(out)) {
    const ref2 = out[f.ovs2HostReference];
    if (ref) f.vsOvsNormal = ratios(f, ref);
    if (ref2) f.vsOvsNormal2Host = ratios(f, ref2);
    if (veth) f.vsVeth = ratios(f, veth);
  }
  const vx = out[VXLAN_2HOST_PATH];
  for (const [name, f] of Object.entries(out) as [PathName, PathFigures][])
    if (isNetloomVxlanPath(name)) f.vsOvsVxlan2Host = vx ? ratios(f, vx) : null;
  for (const [withPolicy, without] of POLICY_PATHS) {
    const f = out[withPolicy];
    const base = out[without];
    if (f) f.vsNoPolicy = base ? ratios(f, base) : null;
  }
  for (const [withNat, without] of NAT_PATHS) {
    const f = out[withNat];
    const base = out[without];
    if (f) f.vsNoNat = base ? ratios(f, base) : null;
  }
  for (const [viaService, direct] of SERVICE_PATHS) {
    const f = out[viaService];
    const base = out[direct];
    if (f) f.vsDirect = base ? ratios(f, base) : null;
  }
  return out;
}

/** One round of the connection-rate measurement: answered connections per second, and counts. */
export interface RateSample {
  service: { perSecond: number; ok: number; failed: number };
  direct: { perSecond: number; ok: number; failed: number };
}

export interface ConnectionRateFigures {
  /** medians over rounds, connections per second */
  servicePerSecond: number;
  directPerSecond: number;
  /** service / direct of the medians (goal: at least CONNECTION_RATE_GOAL) */
  ratio: number;
  /** ratio of each round (service and direct measured back to back) */
  roundRatios: number[];
  /** connections that failed, over all rounds */
  failed: { service: number; direct: number };
  rounds: number;
}

/** Medians of the rounds' rates and their ratio; null without rounds. */
export function summarizeRates(samples: readonly RateSample[]): ConnectionRateFigures | null {
  if (samples.length === 0) return null;
  const svc = median(samples.map((x) => x.service.perSecond));
  const dir = median(samples.map((x) => x.direct.perSecond));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    servicePerSecond: round(svc, 0),
    directPerSecond: round(dir, 0),
    ratio: dir > 0 ? round(svc / dir, 2) : 0,
    roundRatios: samples.map((x) => (x.direct.perSecond > 0 ? round(x.service.perSecond / x.direct.perSecond, 2) : 0)),
    failed: { service: sum(samples.map((x) => x.service.failed)), direct: sum(samples.map((x) => x.direct.failed)) },
    rounds: samples.length,
  };
}

/** The connection-rate line of the printed report. */
export function formatRates(r: ConnectionRateFigures): string {
  return [
    `| new TCP connections/s | through the service | directly to the providers | service / direct (goal >= ${CONNECTION_RATE_GOAL}x) | per round |`,
    '|---|---|---|---|---|',
    `| median of ${r.rounds} | ${r.servicePerSecond} | ${r.directPerSecond} | ${r.ratio.toFixed(2)}x | ${r.roundRatios.map((x) => `${x.toFixed(2)}x`).join(', ')} |`,
    ...(r.failed.service + r.failed.direct > 0
      ? [`failed connections: ${r.failed.service} through the service, ${r.failed.direct} direct`]
      : []),
  ].join('\n');
}

/** A ratio as the table shows it (`1.23x`), or a dash when it was not measured. */
const ratioText = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(2)}x`);

/** A markdown table's lines: its header, the separator, one line per row of cells. */
function table(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---|').join('')}`, ...body.map((cells) => `| ${cells.join(' | ')} |`)];
}

/** The three ratios of one path against one reference, as cells after the path's name. */
const ratioCells = (n: PathName, r: Ratios): string[] => [n, ratioText(r.tcpBw), ratioText(r.tcpLat), ratioText(r.iperf3)];

/** The human-readable table (markdown), one row per path in ALL_PATHS order; each further table only when a path has its figures. */
export function formatTable(figs: Partial<Record<PathName, PathFigures>>): string {
  const shown = ALL_PATHS.flatMap((n) => (figs[n] ? [[n, figs[n]] as const] : []));
  const rows = table(
    ['path', 'qperf tcp_bw Gbit/s', 'qperf tcp_lat µs', 'iperf3 Gbit/s', 'tcp_bw / OVS', 'tcp_lat / OVS', 'iperf3 / OVS'],
    shown.map(([n, f]) => [
      n,
      f.qperfTcpBwGbps.toFixed(3),
      f.qperfTcpLatUs.toFixed(1),
      f.iperf3Gbps.toFixed(3),
      ratioText(f.vsOvsNormal?.tcpBw),
      ratioText(f.vsOvsNormal?.tcpLat),
      ratioText(f.vsOvsNormal?.iperf3),
    ]),
  );
  const more = (header: readonly string[], body: readonly (readonly string[])[]): void => {
    if (body.length > 0) rows.push('', ...table(header, body));
  };
  more(
    ['path', 'switch CPU µs per packet (tcp_lat)', '/ two-switch reference', 'tcp_lat / two-switch reference'],
    shown.flatMap(([n, f]) =>
      typeof f.switchCpuUsPerPacket === 'number'
        ? [[n, f.switchCpuUsPerPacket.toFixed(1), ratioText(f.vsOvsNormal2Host?.switchCpu), ratioText(f.vsOvsNormal2Host?.tcpLat)]]
        : [],
    ),
  );
  /** the paths that have ratios against `ref`, one row each */
  const against = (paths: readonly PathName[], ref: (f: PathFigures) => Ratios | null | undefined): string[][] =>
    paths.flatMap((n) => {
      const f = figs[n];
      const r = f && ref(f);
      return r ? [ratioCells(n, r)] : [];
    });
  const first = (pairs: ReadonlyArray<[PathName, PathName]>): PathName[] => pairs.map(([n]) => n);
  const goal = `goal >= ${POLICY_GOAL.bandwidth}x`;
  const latGoal = `goal <= ${POLICY_GOAL.latency}x`;
  more(
    ['path', `tcp_bw / ${VXLAN_2HOST_PATH}`, `tcp_lat / ${VXLAN_2HOST_PATH}`, `iperf3 / ${VXLAN_2HOST_PATH}`],
    against(ALL_PATHS, (f) => f.vsOvsVxlan2Host),
  );
  more(
    ['path', `tcp_bw / without policy (${goal})`, `tcp_lat / without policy (${latGoal})`, 'iperf3 / without policy'],
    against(first(POLICY_PATHS), (f) => f.vsNoPolicy),
  );
  more(
    ['path', `tcp_bw / without NAT (${goal})`, `tcp_lat / without NAT (${latGoal})`, 'iperf3 / without NAT'],
    against(first(NAT_PATHS), (f) => f.vsNoNat),
  );
  more(
    ['path', `tcp_bw / direct (${goal})`, `tcp_lat / direct (${latGoal})`, `iperf3 / direct (${goal})`],
    against(first(SERVICE_PATHS), (f) => f.vsDirect),
  );
  more(
    ['path', 'OVS 2-host reference (same offload)', 'tcp_bw / it', 'tcp_lat / it', 'iperf3 / it', 'tcp_bw / veth', 'iperf3 / veth'],
    shown.flatMap(([n, f]) => {
      if (!n.startsWith('netloom-') || !(f.vsOvsNormal2Host || f.vsVeth)) return [];
      const r = f.vsOvsNormal2Host ?? undefined;
      const v = f.vsVeth ?? undefined;
      return [
        [
          n,
          f.ovs2HostReference,
          ratioText(r?.tcpBw),
          ratioText(r?.tcpLat),
          ratioText(r?.iperf3),
          ratioText(v?.tcpBw),
          ratioText(v?.iperf3),
        ],
      ];
    }),
  );
  return rows.join('\n');
}
