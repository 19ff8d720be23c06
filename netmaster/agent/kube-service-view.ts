/**
 * Kubernetes Services in host views (issue 19, pure): a stored kubeService (the controller's
 * Service with the ready endpoints of its EndpointSlices) as the agent contract's ServiceLB, so
 * that the agents load-balance its cluster IP with the select groups and conntrack NAT of every
 * other service (netplugin/pipeline/features/service-lb.ts). Its key is `kube:<namespace>/<name>`
 * (view key `service/kube:<namespace>/<name>`), its network empty (the cluster IP is outside every
 * pod network: clients send to their gateway), `kube` set.
 *
 * An endpoint's address is resolved to the netloom pod endpoint that has it (and, when the slice
 * names the pod, is that pod): the service's tenant is that of its first resolved endpoint (by
 * address); endpoints with no netloom endpoint or in another tenant are left out, and
 * `kubeServiceProblems` says why (the controller's Warning Events). Only TCP and UDP ports reach
 * the agents (the OVS backend balances those). A service none of whose endpoints resolves has no
 * tenant and is in no view. The hosts with a local pod of its tenant get it (host-view.ts); one
 * with a node port every host gets (kube-proxy answers node ports on every node): a provider carries
 * its host's address (`hostIp`), where a host without the tenant forwards the node port.
 */
import type { Endpoint as StoredEndpoint, KubeService as StoredKubeService } from '../model/schemas';
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

interface Resolved {
  tenant: string | undefined;
  providers: ServiceProvider[];
  /** why endpoints or ports are left out, one line each */
  problems: string[];
}

/** The pod endpoint of one of the service's endpoints (undefined: netloom has none). */
function podEndpointOf(cluster: ClusterState, e: StoredKubeService['endpoints'][number]): [string, StoredEndpoint] | undefined {
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

function resolve(cluster: ClusterState, s: StoredKubeService): Resolved {
  const problems: string[] = [];
  for (const p of s.ports) if (!BALANCED.has(p.protocol)) problems.push(`port ${p.port}/${p.protocol}: netloom balances TCP and UDP only`);
  const ports = balancedPorts(s);
  let tenant: string | undefined;
  const providers: ServiceProvider[] = [];
  for (const e of s.endpoints) {
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
  return { tenant, providers, problems };
}

/** Why parts of a stored Kubernetes Service cannot be realized (empty: all of it is). */
export function kubeServiceProblems(cluster: ClusterState, storeKey: string): string[] {
  const stored = storedKubeServices(cluster).get(storeKey);
  return stored ? resolve(cluster, stored.config as unknown as StoredKubeService).problems : [];
}

const memo = new WeakMap<object, { sig: string; msg: ServiceLB }>();

/** The message of the view's service key `kube:<namespace>/<name>` (undefined: not stored, or no tenant). */
export function kubeServiceMessage(cluster: ClusterState, key: string): ServiceLB | undefined {
  const stored = storedKubeServices(cluster).get(kubeServiceStoreKey(key));
  if (!stored) return undefined;
  const s = stored.config as unknown as StoredKubeService;
  const r = resolve(cluster, s);
  if (r.tenant === undefined) return undefined;
  const sig = `${r.tenant}|${r.providers.map((p) => `${p.endpointId}=${p.ip}@${p.hostIp}`).join(',')}`;
  const hit = memo.get(stored);
  if (hit && hit.sig === sig) return hit.msg;
  const ports = balancedPorts(s).map((i) => {
    const p = s.ports[i]!;
    // the port's own target when no endpoint says otherwise (every provider carries its own)
    const target = s.endpoints.find((e) => (e.ports[i] ?? 0) > 0)?.ports[i] ?? p.port;
    return { port: p.port, targetPort: target, protocol: p.protocol.toLowerCase(), name: p.name, nodePort: p.nodePort };
  });
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
  for (const stored of storedKubeServices(cluster).values())
    for (const e of (stored.config as unknown as StoredKubeService).endpoints) out.add(e.ip);
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
    for (const e of s.endpoints) {
      let keys = out.get(e.ip);
      if (!keys) out.set(e.ip, (keys = []));
      keys.push(kubeServiceKey(k));
    }
  }
  return out;
}
