/**
 * A serviceLB as the hosts receive it (pure): its address, ports and providers. The providers are
 * the endpoints of the service's network whose labels hold every selector (`k=v`: label k with
 * value v), sorted by endpoint id; a service without selectors has none (Contiv matched labels
 * against selectors the same way, but tenant-wide and only on exact equality of the two sets).
 * Providers are taken from the service's network so that every host that gets the service also
 * gets the providers' endpoints (host-view.ts makes the network a source of its view): a provider
 * can only be reached through an endpoint the host knows.
 *
 * Messages are memoized per stored service and provider list, so every view that holds a service
 * shares one object while its providers stay the same (views compare by identity first).
 */
import { SERVICE_PROVIDERS_MAX } from '../../lib/kinds/limits';
import type { Endpoint as StoredEndpoint, ServiceLB as StoredService } from '../model/schemas';
import { isProvider, portsOf, selectorsOf, serviceNetKey } from '../model/service-match';
import type { ServiceLB__Output as ServiceLB } from '../../proto/gen/netloom/v1/ServiceLB';
import type { ServiceProvider__Output as ServiceProvider } from '../../proto/gen/netloom/v1/ServiceProvider';
import type { ClusterState } from './cluster';
import { membersOf } from './cluster-index';
import { isKubeServiceKey, kubeServiceMessage } from './kube-service-view';

export type { ServiceLB };

/** The providers of a service, sorted by endpoint id: the first SERVICE_PROVIDERS_MAX (the most one select group of the agent holds). */
export function providersOf(cluster: ClusterState, s: StoredService): ServiceProvider[] {
  const netKey = serviceNetKey(s);
  const selectors = selectorsOf(s);
  if (netKey === '' || selectors.length === 0) return [];
  const out: ServiceProvider[] = [];
  for (const id of membersOf(cluster.index.epsByNet, netKey)) {
    const e = cluster.endpoints.get(id)?.ep;
    if (e && isProvider(e, netKey, selectors)) out.push({ endpointId: id, ip: e.ipAddress, targetPorts: [], hostIp: '' });
  }
  out.sort((a, b) => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0));
  return out.length > SERVICE_PROVIDERS_MAX ? out.slice(0, SERVICE_PROVIDERS_MAX) : out;
}

const memo = new WeakMap<object, { sig: string; msg: ServiceLB }>();

/**
 * The message of service `key` (undefined when it does not exist or has no address yet: a
 * service reaches hosts only with its address); a Kubernetes Service's (`kube:<namespace>/<name>`)
 * is kube-service-view.ts's.
 */
export function serviceMessage(cluster: ClusterState, key: string): ServiceLB | undefined {
  if (isKubeServiceKey(key)) return kubeServiceMessage(cluster, key);
  const stored = cluster.objects.get('serviceLB')?.get(key);
  if (!stored) return undefined;
  const s = stored.config as unknown as StoredService;
  if (!s.ipAddress || !s.networkName) return undefined;
  const providers = providersOf(cluster, s);
  const sig = providers.map((p) => `${p.endpointId}=${p.ip}`).join(',');
  const hit = memo.get(stored);
  if (hit && hit.sig === sig) return hit.msg;
  const msg: ServiceLB = {
    key,
    tenant: s.tenantName,
    network: serviceNetKey(s),
    ip: s.ipAddress,
    ports: portsOf(s).map((p) => ({ ...p, name: '', nodePort: 0 })),
    providers,
    kube: false,
    externalTrafficLocal: false,
  };
  memo.set(stored, { sig, msg });
  return msg;
}

/**
 * The services of `tenant` whose providers an endpoint change may change: those of the endpoint's
 * network (before and after) whose selectors its labels match before or after.
 */
export function servicesTouchedBy(cluster: ClusterState, before: StoredEndpoint | undefined, after: StoredEndpoint | undefined): string[] {
  const out = new Set<string>();
  const services = cluster.objects.get('serviceLB');
  for (const e of [before, after]) {
    if (!e) continue;
    for (const k of membersOf(cluster.index.servicesByNet, e.network)) {
      if (out.has(k)) continue;
      const s = services?.get(k)?.config as unknown as StoredService | undefined;
      if (!s) continue;
      const sel = selectorsOf(s);
      if (isProvider(before, e.network, sel) || isProvider(after, e.network, sel)) out.add(k);
    }
  }
  return [...out];
}
