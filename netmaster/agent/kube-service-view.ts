/**
 * Kubernetes Services in host views (issue 19, pure): a stored kubeService (the controller's
 * Service) merged with its stored kubeServiceSlices (the ready endpoints of each of its
 * EndpointSlices, stored apart so that large Services fit) as the agent contract's ServiceLB, so
 * that the agents load-balance its cluster IP with the select groups and conntrack NAT of every
 * other service (netplugin/pipeline/features/service-lb.ts). Its key is `kube:<namespace>/<name>`
 * (view key `service/kube:<namespace>/<name>`), its network empty (the cluster IP is outside every
 * pod network: clients send to their gateway), `kube` set.
 *
 * An endpoint's address is resolved to the netloom pod endpoint that has it (and, when the slice
 * names the pod, is that pod): the service's tenant is that of its first resolved endpoint (by
 * address); endpoints with no netloom endpoint or in another tenant are left out, and
 * `kubeServiceProblems` says why (the controller's Warning Events); so are providers past
 * SERVICE_PROVIDERS_MAX (the most one OpenFlow select group of the agent holds: the first by
 * endpoint id are balanced). Only TCP and UDP ports reach
 * the agents (the OVS backend balances those). A service none of whose endpoints resolves has no
 * tenant and is in no view. The hosts with a local pod of its tenant get it (host-view.ts); one
 * with a node port every host gets (kube-proxy answers node ports on every node): a provider carries
 * its host's address (`hostIp`), where a host without the tenant forwards the node port.
 */
import { SERVICE_PROVIDERS_MAX } from '../../lib/kinds/limits';
import type {
  Endpoint as StoredEndpoint,
  KubeService as StoredKubeService,
  KubeServiceSlice as StoredKubeServiceSlice,
} from '../model/schemas';
import type { ServiceLB__Output as ServiceLB } from '../../proto/gen/netloom/v1/ServiceLB';
import type { ServiceProvider__Output as ServiceProvider } from '../../proto/gen/netloom/v1/ServiceProvider';
import type { ClusterState, StoredIntent } from './cluster';
import { membersOf } from './cluster-index';

/** The prefix of a Kubernetes Service's key among the services of a view. */
export const KUBE_SERVICE_PREFIX = 'kube:';
/** The protocols the OVS service load balancer handles. */
const BALANCED = new Set(['TCP', 'UDP']);

/** The view's service key of a stored kubeService (store key `namespace:name`). */
export const kubeServiceKey = (storeKey: string): string => `${KUBE_SERVICE_PREFIX}${storeKey.replace(':', '/')}`;
export const isKubeServiceKey = (key: string): boolean => key.startsWith(KUBE_SERVICE_PREFIX);
/** The store key of a view's service key `kube:<namespace>/<name>`. */
export const kubeServiceStoreKey = (key: string): string => key.slice(KUBE_SERVICE_PREFIX.length).replace('/', ':');

export const storedKubeServices = (cluster: ClusterState): Map<string, StoredIntent> =>
  cluster.objects.get('kubeService') ?? new Map<string, StoredIntent>();

export const storedKubeServiceSlices = (cluster: ClusterState): Map<string, StoredIntent> =>
  cluster.objects.get('kubeServiceSlice') ?? new Map<string, StoredIntent>();

/** One of a Service's endpoints, merged from its slices: its port for every service port, in their order (0: its slice has none). */
export interface KubeServiceEndpoint {
  ip: string;
  pod?: { namespace: string; name: string };
  ports: number[];
}

const merged = new WeakMap<StoredIntent, { slices: StoredIntent[]; out: KubeServiceEndpoint[] }>();

/**
 * The endpoints of the stored Service `storeKey`, merged from its stored slices in key order (an
 * address in two slices keeps its first listing), sorted by address; memoised while neither the
 * Service nor one of its slices changes (their stored objects are replaced on change).
 */
export function kubeServiceEndpoints(cluster: ClusterState, storeKey: string): KubeServiceEndpoint[] {
  const stored = storedKubeServices(cluster).get(storeKey);
  if (!stored) return [];
  const all = storedKubeServiceSlices(cluster);
  const slices = [...membersOf(cluster.index.slicesByKubeService, storeKey)].sort().flatMap((k) => all.get(k) ?? []);
  const hit = merged.get(stored);
  if (hit && hit.slices.length === slices.length && hit.slices.every((x, i) => x === slices[i])) return hit.out;
  const s = stored.config as unknown as StoredKubeService;
  const out: KubeServiceEndpoint[] = [];
  const seen = new Set<string>();
  for (const sl of slices) {
    const slice = sl.config as unknown as StoredKubeServiceSlice;
    // a service port's number on these endpoints: the slice's port of its name and protocol
    const ports = s.ports.map((p) => slice.ports.find((sp) => sp.name === p.name && sp.protocol === p.protocol)?.port ?? 0);
    for (const e of slice.endpoints) {
      if (seen.has(e.ip)) continue;
      seen.add(e.ip);
      out.push({ ip: e.ip, ...(e.pod ? { pod: e.pod } : {}), ports });
    }
  }
  out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  merged.set(stored, { slices, out });
  return out;
}

interface Resolved {
  tenant: string | undefined;
  providers: ServiceProvider[];
  /** why endpoints or ports are left out, one line each */
  problems: string[];
}

/** The pod endpoint of one of the service's endpoints (undefined: netloom has none). */
function podEndpointOf(cluster: ClusterState, e: KubeServiceEndpoint): [string, StoredEndpoint] | undefined {
  let found: [string, StoredEndpoint] | undefined;
  for (const id of membersOf(cluster.index.podsByAddress, e.ip)) {
    const ep = cluster.endpoints.get(id)?.ep;
    if (!ep?.pod || ep.ipAddress !== e.ip) continue;
    if (e.pod && (ep.pod.namespace !== e.pod.namespace || ep.pod.name !== e.pod.name)) continue;
    if (!found || id < found[0]) found = [id, ep];
  }
  return found;
}

/** The indexes of the ports the agents balance (TCP, UDP). */
const balancedPorts = (s: StoredKubeService): number[] => s.ports.flatMap((p, i) => (BALANCED.has(p.protocol) ? [i] : []));

function resolve(cluster: ClusterState, storeKey: string, s: StoredKubeService): Resolved {
  const problems: string[] = [];
  for (const p of s.ports) if (!BALANCED.has(p.protocol)) problems.push(`port ${p.port}/${p.protocol}: netloom balances TCP and UDP only`);
  const ports = balancedPorts(s);
  let tenant: string | undefined;
  const providers: ServiceProvider[] = [];
  for (const e of kubeServiceEndpoints(cluster, storeKey)) {
    const hit = podEndpointOf(cluster, e);
    if (!hit) {
      problems.push(`endpoint ${e.ip}${e.pod ? ` (pod ${e.pod.namespace}/${e.pod.name})` : ''}: no netloom endpoint has this address`);
      continue;
    }
    const [id, ep] = hit;
    tenant ??= ep.tenantName;
    if (ep.tenantName !== tenant) {
      problems.push(`endpoint ${e.ip}: its pod is in tenant ${ep.tenantName}, the service's other endpoints in ${tenant}`);
      continue;
    }
    // its host's address as endpoint messages have it: the agent's VTEP, else the one the endpoint recorded
    const hostIp = cluster.agents.get(ep.homingHost)?.vtepIp || ep.vtepIP || '';
    providers.push({ endpointId: id, ip: e.ip, targetPorts: ports.map((i) => e.ports[i] ?? 0), hostIp });
  }
  providers.sort((a, b) => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0));
  if (providers.length > SERVICE_PROVIDERS_MAX) {
    problems.push(
      `${providers.length} ready endpoints are more than the ${SERVICE_PROVIDERS_MAX} a service balances over: the first ${SERVICE_PROVIDERS_MAX} by endpoint id get its connections`,
    );
    providers.length = SERVICE_PROVIDERS_MAX;
  }
  return { tenant, providers, problems };
}

/** Why parts of a stored Kubernetes Service cannot be realized (empty: all of it is). */
export function kubeServiceProblems(cluster: ClusterState, storeKey: string): string[] {
  const stored = storedKubeServices(cluster).get(storeKey);
  return stored ? resolve(cluster, storeKey, stored.config as unknown as StoredKubeService).problems : [];
}

const memo = new WeakMap<object, { sig: string; msg: ServiceLB }>();

/** The message of the view's service key `kube:<namespace>/<name>` (undefined: not stored, or no tenant). */
export function kubeServiceMessage(cluster: ClusterState, key: string): ServiceLB | undefined {
  const storeKey = kubeServiceStoreKey(key);
  const stored = storedKubeServices(cluster).get(storeKey);
  if (!stored) return undefined;
  const s = stored.config as unknown as StoredKubeService;
  const r = resolve(cluster, storeKey, s);
  if (r.tenant === undefined) return undefined;
  const endpoints = kubeServiceEndpoints(cluster, storeKey);
  const ports = balancedPorts(s).map((i) => {
    const p = s.ports[i]!;
    // the port's own target when no endpoint says otherwise (every provider carries its own)
    const target = endpoints.find((e) => (e.ports[i] ?? 0) > 0)?.ports[i] ?? p.port;
    return { port: p.port, targetPort: target, protocol: p.protocol.toLowerCase(), name: p.name, nodePort: p.nodePort };
  });
  // the slices are apart from the Service: their ports are part of the signature
  const sig = `${r.tenant}|${ports.map((p) => p.targetPort).join(',')}|${r.providers
    .map((p) => `${p.endpointId}=${p.ip}@${p.hostIp}:${p.targetPorts.join('/')}`)
    .join(',')}`;
  const hit = memo.get(stored);
  if (hit && hit.sig === sig) return hit.msg;
  const msg: ServiceLB = {
    key,
    tenant: r.tenant,
    network: '',
    ip: s.clusterIP,
    ports,
    providers: r.providers,
    kube: true,
    externalTrafficLocal: s.externalTrafficPolicy === 'Local',
  };
  memo.set(stored, { sig, msg });
  return msg;
}

/** Every pod address some stored Kubernetes Service has as an endpoint (a pod endpoint with one may change it). */
export function kubeServiceAddresses(cluster: ClusterState): Set<string> {
  const out = new Set<string>();
  for (const stored of storedKubeServiceSlices(cluster).values())
    for (const e of (stored.config as unknown as StoredKubeServiceSlice).endpoints) out.add(e.ip);
  return out;
}

/** Whether a stored Kubernetes Service has a node port the agents answer (a TCP or UDP one). */
export const hasNodePort = (s: StoredKubeService): boolean => balancedPorts(s).some((i) => s.ports[i]!.nodePort > 0);

/** The view keys of the stored Kubernetes Services with a node port, sorted: every host view holds them. */
export function kubeNodePortKeys(cluster: ClusterState): string[] {
  const out: string[] = [];
  for (const [k, stored] of storedKubeServices(cluster))
    if (hasNodePort(stored.config as unknown as StoredKubeService)) out.push(kubeServiceKey(k));
  return out.sort();
}

/** The view keys of the Services with a node port by the address of each of their endpoints (a pod with one may change them). */
export function kubeNodePortAddresses(cluster: ClusterState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, stored] of storedKubeServices(cluster)) {
    const s = stored.config as unknown as StoredKubeService;
    if (!hasNodePort(s)) continue;
    for (const e of kubeServiceEndpoints(cluster, k)) {
      let keys = out.get(e.ip);
      if (!keys) out.set(e.ip, (keys = []));
      keys.push(kubeServiceKey(k));
    }
  }
  return out;
}
