/**
 * A serviceLB's oper: its address, ports and providers (the endpoints of its network whose
 * labels hold every selector: model/service-match.ts), each with its host and address, and when
 * the agent side runs, the service's realization on the hosts and each provider's counters
 * summed over the hosts' heartbeats (service/realization.ts). The agents balance over the first
 * SERVICE_PROVIDERS_MAX providers by endpoint id (agent/service-view.ts): beyond that the oper
 * says so, in `numProvidersBalanced`, each provider left out (`balanced: false`) and a `warning`,
 * as the Kubernetes path does with a Warning Event.
 */
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';
import { isProvider, portsOf, selectorsOf, serviceNetKey } from '../../model/service-match';
import type { KindOper } from './kind-oper';

export const serviceLBOper: KindOper<'serviceLB'> = async (svc, key, s) => {
  const netKey = serviceNetKey(s);
  const selectors = selectorsOf(s);
  const eps = netKey !== '' && selectors.length > 0 ? await svc.endpointsIn('net', netKey) : [];
  const providers = eps
    .filter((e) => isProvider(e, netKey, selectors))
    .sort((a, b) => (a.endpointID < b.endpointID ? -1 : a.endpointID > b.endpointID ? 1 : 0));
  const r = await svc.realization?.service(
    key,
    providers.map((e) => e.endpointID),
  );
  return {
    serviceIP: s.ipAddress,
    // Contiv's name for it
    serviceVip: s.ipAddress,
    network: netKey,
    ports: portsOf(s),
    numProviders: providers.length,
    numProvidersBalanced: Math.min(providers.length, SERVICE_PROVIDERS_MAX),
    ...(providers.length > SERVICE_PROVIDERS_MAX
      ? {
          warning: `${providers.length} providers are more than the ${SERVICE_PROVIDERS_MAX} a service balances over: the first ${SERVICE_PROVIDERS_MAX} by endpoint id get its connections`,
        }
      : {}),
    providers: providers.map((e, i) => ({
      endpointID: e.endpointID,
      homingHost: e.homingHost,
      // a list, as in Contiv's EndpointOper
      ipAddress: [e.ipAddress, ...(e.ipv6Address ? [e.ipv6Address] : [])],
      containerName: e.containerName,
      ...(r ? (r.counters.get(e.endpointID) ?? { packets: 0, bytes: 0, connections: 0, hosts: 0 }) : {}),
      ...(i >= SERVICE_PROVIDERS_MAX ? { balanced: false } : {}),
    })),
    ...(r ? { realization: r.realization } : {}),
  };
};
