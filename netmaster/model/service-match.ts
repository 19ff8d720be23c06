/**
 * Which endpoints provide a serviceLB (pure, shared by the host views and inspect): the endpoints
 * of the service's network whose labels hold every selector (`k=v`: label k with value v). A
 * service without selectors has no provider. (Contiv matched tenant-wide and only on exact
 * equality of labels and selectors; see netmaster/agent/service-view.ts for why the network.)
 */
import type { Endpoint, ServiceLB } from './schemas';

/** A service's selectors as [label, value] pairs (`k=v`; the kind's schema guarantees the form). */
export function selectorsOf(s: Pick<ServiceLB, 'selectors'>): Array<[string, string]> {
  return (s.selectors ?? []).map((x) => {
    const i = x.indexOf('=');
    return [x.slice(0, i), x.slice(i + 1)];
  });
}

/** Whether labels hold every selector; no selector selects nothing. */
export function labelsMatch(labels: Readonly<Record<string, string>> | undefined, selectors: ReadonlyArray<[string, string]>): boolean {
  if (selectors.length === 0 || !labels) return false;
  return selectors.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/** Contiv's `svcPort:provPort:TCP|UDP` ports as messages (protocol in lower case). */
export function portsOf(s: Pick<ServiceLB, 'ports'>): Array<{ port: number; targetPort: number; protocol: string }> {
  return (s.ports ?? []).map((p) => {
    const [port, target, proto] = p.split(':');
    return { port: Number(port), targetPort: Number(target), protocol: (proto ?? '').toLowerCase() };
  });
}

/** The network key (tenant:network) a service's address and providers come from ('' when it names none). */
export const serviceNetKey = (s: Pick<ServiceLB, 'tenantName' | 'networkName'>): string =>
  s.networkName ? `${s.tenantName}:${s.networkName}` : '';

/** Whether a stored endpoint is a provider of a service with these selectors in network `netKey`. */
export function isProvider(e: Endpoint | undefined, netKey: string, selectors: ReadonlyArray<[string, string]>): boolean {
  return e !== undefined && e.network === netKey && e.ipAddress !== '' && labelsMatch(e.labels, selectors);
}
