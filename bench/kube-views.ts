/**
 * What a Kubernetes Service change costs netmaster's view engine (issue 19, in process, no lab):
 * --hosts host views (default 300) are tracked, --pod-hosts of them (default 20) with --pods-per-host
 * pods of one tenant (default 50: 1000 pods); the others have nothing. Services are stored as the
 * controller stores them: the Service, and its endpoints in EndpointSlices of --slice endpoints
 * (default 100, Kubernetes' default). Every host view holds a Service with a node port (kube-proxy
 * answers node ports on every node), only the views with pods hold the ClusterIP Services. Timed,
 * interleaved round by round, with the same EndpointSlice change (one endpoint out of one slice,
 * then back in):
 * - `clusterIP`: the change on a ClusterIP Service of all the pods, the reference;
 * - `nodePort`: the change on a NodePort Service of all the pods (its new message put in every view);
 * - `smallService`: the change on a ClusterIP Service of one slice's pods, against `clusterIP`
 *   (a large Service's slice change vs a small one's);
 * - `nodePortCreate`: a NodePort Service made and deleted (every view's host part recomputed),
 *   against `clusterIPCreate`, the same for a ClusterIP Service.
 * Each figure is the median time of engine.apply over --rounds rounds, with the host parts the
 * engine recomputed and the stored objects written per change; the ratios are against the ClusterIP
 * figures of the same run. The JSON line is last.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { applyKeyChange, emptyCluster, type ClusterState, type KeyChange } from '../netmaster/agent/cluster';
import { ViewEngine, type ViewSubscriber } from '../netmaster/agent/view-engine';
import { agentLayout } from '../netmaster/store/agent-layout';
import { DEFAULT_GLOBAL } from '../netmaster/service/service';
import { NetloomError } from '../lib/errors';
import { LIMITS, SERVICE_PROVIDERS_MAX } from '../lib/kinds/limits';
import { runIfMain } from './support/standalone';

export const description =
  "kube-views: a NodePort Service's EndpointSlice change in every host view vs a ClusterIP one's (300 views, in process)";

interface Opts {
  hosts: number;
  podHosts: number;
  podsPerHost: number;
  rounds: number;
  slice: number;
}

function parseArgs(args: string[]): Opts {
  const o: Opts = { hosts: 300, podHosts: 20, podsPerHost: 50, rounds: 40, slice: 100 };
  const names: Record<string, keyof Opts> = {
    '--hosts': 'hosts',
    '--pod-hosts': 'podHosts',
    '--pods-per-host': 'podsPerHost',
    '--rounds': 'rounds',
    '--slice': 'slice',
  };
  for (let i = 0; i < args.length; i += 2) {
    const field = names[args[i]!];
    const n = Number(args[i + 1]);
    if (!field || !Number.isInteger(n) || n < 1)
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `kube-views: ${args[i]} ${args[i + 1] ?? ''}: expected one of ${Object.keys(names).join(', ')} with a positive integer`,
        {
          field: args[i] ?? '',
        },
      );
    o[field] = n;
  }
  if (o.podHosts > o.hosts)
    throw new NetloomError('INVALID_ARGUMENT', 'kube-views: --pod-hosts is more than --hosts', { field: 'pod-hosts' });
  // a stored slice holds at most LIMITS.list endpoints, a Service balances over SERVICE_PROVIDERS_MAX (lib/kinds/limits.ts)
  if (o.slice > LIMITS.list)
    throw new NetloomError('INVALID_ARGUMENT', `kube-views: --slice is at most ${LIMITS.list} endpoints`, { field: 'slice' });
  if (o.podHosts * o.podsPerHost > SERVICE_PROVIDERS_MAX)
    throw new NetloomError('INVALID_ARGUMENT', `kube-views: more pods than the ${SERVICE_PROVIDERS_MAX} a Service balances over`, {
      field: 'pods-per-host',
    });
  if (o.podsPerHost > 250)
    throw new NetloomError('INVALID_ARGUMENT', 'kube-views: --pods-per-host is at most 250', { field: 'pods-per-host' });
  return o;
}

/** Puts and deletes applied as etcd watch events would be, the engine's input collected. */
class World {
  readonly state: ClusterState = emptyCluster('1');
  private rev = 1;
  private changes: KeyChange[] = [];

  raw(key: string, value: string | undefined): void {
    this.rev++;
    const ch = applyKeyChange(this.state, key, value, String(this.rev));
    if (ch) this.changes.push(ch);
    this.state.revision = String(this.rev);
  }

  cfg(type: string, key: string, config: object, oper: object = {}): void {
    this.raw(`/netloom/v1/cfg/${type}/${key}`, JSON.stringify({ config, oper }));
  }

  take(): KeyChange[] {
    return this.changes.splice(0);
  }
}

const host = (i: number): string => `h${i}`;
const vtep = (i: number): string => `192.168.${Math.floor(i / 250)}.${(i % 250) + 1}`;

function build(o: Opts): { w: World; podIps: string[] } {
  const w = new World();
  w.cfg('global', 'global', { ...DEFAULT_GLOBAL, fwdMode: 'bridge' });
  w.cfg('tenant', 'kt', { tenantName: 'kt', defaultNetwork: '' });
  w.raw(agentLayout.tenantIdOf('kt'), '1');
  w.cfg('network', 'kt:pods', {
    tenantName: 'kt',
    networkName: 'pods',
    encap: 'vxlan',
    pktTag: 5001,
    subnet: '10.64.0.0/10',
    gateway: '10.64.0.1',
    nwType: 'data',
    ipv6Subnet: '',
    ipv6Gateway: '',
    cfgdTag: '',
  });
  const podIps: string[] = [];
  for (let i = 0; i < o.hosts; i++) {
    const agent = { host: host(i), vtepIp: vtep(i), mgmtIp: '', capabilities: [], agentVersion: 'b', registeredAt: '', leaseId: '1' };
    w.raw(agentLayout.host(host(i)), JSON.stringify(agent));
  }
  for (let i = 0; i < o.podHosts; i++)
    for (let j = 0; j < o.podsPerHost; j++) {
      const id = `p${i}-${j}`;
      const ip = `10.${64 + Math.floor(i / 250)}.${(i % 250) + 1}.${j + 2}`;
      podIps.push(ip);
      w.raw(
        `/netloom/v1/ep/${id}`,
        JSON.stringify({
          endpointID: id,
          tenantName: 'kt',
          networkName: 'pods',
          network: 'kt:pods',
          groupName: '',
          ipAddress: ip,
          ipv6Address: '',
          macAddress: `02:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:${(j + 2).toString(16).padStart(2, '0')}`,
          homingHost: host(i),
          intfName: '',
          vtepIP: '',
          labels: { app: 'web' },
          containerID: id,
          containerName: '',
          idempotencyKey: '',
          createdAt: '',
          pod: { namespace: 'bench', name: id, uid: `uid-${id}`, namedPorts: [] },
        }),
      );
    }
  return { w, podIps };
}

function service(w: World, name: string, nodePort: number): void {
  w.cfg('kubeService', `bench:${name}`, {
    namespace: 'bench',
    name,
    type: nodePort > 0 ? 'NodePort' : 'ClusterIP',
    clusterIP: nodePort > 0 ? '10.96.0.20' : `10.96.0.${10 + name.length}`,
    externalTrafficPolicy: 'Cluster',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort }],
  });
}

/** Slice `n` of Service `name` with these endpoints. */
function slice(w: World, name: string, n: number, ips: readonly string[]): void {
  w.cfg('kubeServiceSlice', `bench:${name}:${name}-${n}`, {
    namespace: 'bench',
    service: name,
    slice: `${name}-${n}`,
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: ips.map((ip) => ({ ip })),
  });
}

/** A Service with `ips` in slices of `per`. */
function serviceWith(w: World, name: string, nodePort: number, ips: readonly string[], per: number): void {
  service(w, name, nodePort);
  for (let i = 0; i * per < ips.length; i++) slice(w, name, i, ips.slice(i * per, (i + 1) * per));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const load = loadavg().map(round2);
  const { w, podIps } = build(o);
  const engine = new ViewEngine(() => w.state);
  const subs: ViewSubscriber[] = [];
  for (let i = 0; i < o.hosts; i++) {
    const sub: ViewSubscriber = { dirty: new Set<string>(), notify: () => undefined };
    subs.push(sub);
    engine.track(host(i), sub);
  }
  serviceWith(w, 'cip', 0, podIps, o.slice);
  serviceWith(w, 'np', 30080, podIps, o.slice);
  const small = podIps.slice(0, Math.min(o.slice, podIps.length));
  serviceWith(w, 'small', 0, small, o.slice);
  engine.apply(w.take());
  const times: Record<string, number[]> = { clusterIP: [], nodePort: [], smallService: [], clusterIPCreate: [], nodePortCreate: [] };
  const parts: Record<string, number> = {};
  const writes: Record<string, number> = {};
  /** one timed apply of what `change` writes; the host parts it recomputed */
  const timed = (name: string, change: () => void): void => {
    change();
    const changes = w.take();
    writes[name] = changes.length;
    const before = engine.stats.hostParts;
    const t0 = performance.now();
    engine.apply(changes);
    times[name]!.push(performance.now() - t0);
    parts[name] = engine.stats.hostParts - before;
    for (const s of subs) s.dirty.clear();
  };
  for (let r = 0; r < o.rounds; r++) {
    // the first slice without its first endpoint, then whole again: one slice written
    const first = r % 2 === 0 ? small.slice(1) : small;
    timed('clusterIP', () => slice(w, 'cip', 0, first));
    timed('nodePort', () => slice(w, 'np', 0, first));
    timed('smallService', () => slice(w, 'small', 0, first));
    // a Service of one slice made and deleted (its slice with it)
    const created = podIps.slice(0, o.slice);
    timed('clusterIPCreate', () => serviceWith(w, 'cip2', 0, created, o.slice));
    timed('clusterIPCreate', () => {
      w.raw('/netloom/v1/cfg/kubeServiceSlice/bench:cip2:cip2-0', undefined);
      w.raw('/netloom/v1/cfg/kubeService/bench:cip2', undefined);
    });
    timed('nodePortCreate', () => serviceWith(w, 'np2', 30081, created, o.slice));
    timed('nodePortCreate', () => {
      w.raw('/netloom/v1/cfg/kubeServiceSlice/bench:np2:np2-0', undefined);
      w.raw('/netloom/v1/cfg/kubeService/bench:np2', undefined);
    });
    await new Promise((res) => setImmediate(res));
  }
  const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round2(median(v))]));
  const result = {
    bench: 'kube-views',
    hosts: o.hosts,
    podHosts: o.podHosts,
    pods: podIps.length,
    rounds: o.rounds,
    loadAvg: load,
    slice: o.slice,
    medianMs: ms,
    hostPartsPerChange: parts,
    objectsWrittenPerChange: writes,
    ratio: {
      endpointChange: round2(ms.nodePort! / ms.clusterIP!),
      smallVsLargeSliceChange: round2(ms.smallService! / ms.clusterIP!),
      createOrDelete: round2(ms.nodePortCreate! / ms.clusterIPCreate!),
    },
  };
  for (const [k, v] of Object.entries(ms))
    process.stdout.write(`${k}: median ${v} ms, ${parts[k]} host parts recomputed, ${writes[k]} objects written\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runIfMain(module, run);
