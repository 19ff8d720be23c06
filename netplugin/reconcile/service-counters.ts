/**
 * Per-provider service counters from the switch's flow stats (pure, like rule-counters.ts). Every
 * provider of a service port has two flows whose object is `<service port>><endpoint id>`
 * (features/service-lb.ts): its serviceDnat flow, hit by the first packet(s) of each new
 * connection sent to it, and its serviceEndpoint flow, hit by the later packets of those
 * connections (client to provider; replies are not counted). A provider's counters on this host
 * are the sum of both over the service's ports: packets and bytes of the connections this host's
 * clients opened to it, and `connections`, the packets of its serviceDnat flows (a new
 * connection's packets before the provider answers: one per TCP connection unless the SYN was
 * retransmitted, every datagram of a UDP exchange that got no answer yet).
 */
import { table } from '../pipeline/tables';
import { featureSelector } from './cookie';
import { flowKey, type DesiredFlow } from './flow-key';
import type { FlowCountSample, FlowStatsSource } from './rule-counters';
import { byKey, thenBy } from '../../lib/compare';

export interface ServiceCounter {
  /** the service's key (tenant:service) */
  service: string;
  endpointId: string;
  packets: bigint;
  bytes: bigint;
  connections: bigint;
}

const PORT_SUFFIX = /:(tcp|udp)\/\d+$/;

/** The service and provider a provider flow's object names (`tenant:svc:tcp/80>ep-1`), or undefined. */
export function parseProviderObject(object: string): { service: string; endpointId: string } | undefined {
  const gt = object.lastIndexOf('>');
  if (gt <= 0) return undefined;
  const port = object.slice(0, gt);
  if (!PORT_SUFFIX.test(port)) return undefined;
  return { service: port.replace(PORT_SUFFIX, ''), endpointId: object.slice(gt + 1) };
}

/**
 * The counters of every provider that has flows among `installed` (zeros included), summed over
 * `samples` (matched to installed flows by table, priority and match); sorted by service, endpoint.
 */
export function sumServiceCounters(installed: Iterable<DesiredFlow>, samples: readonly FlowCountSample[]): ServiceCounter[] {
  const dnatTable = table('serviceDnat');
  const byFlow = new Map<string, { counter: ServiceCounter; dnat: boolean }>();
  const totals = new Map<string, ServiceCounter>();
  for (const f of installed) {
    if (f.feature !== 'service' || !f.object) continue;
    const who = parseProviderObject(f.object);
    if (!who) continue;
    const id = `${who.service}\n${who.endpointId}`;
    let c = totals.get(id);
    if (!c) totals.set(id, (c = { ...who, packets: 0n, bytes: 0n, connections: 0n }));
    byFlow.set(flowKey(f), { counter: c, dnat: f.table === dnatTable });
  }
  for (const s of samples) {
    const hit = byFlow.get(flowKey({ table: s.tableId, priority: s.priority, match: s.match }));
    if (!hit) continue;
    hit.counter.packets += s.packetCount;
    hit.counter.bytes += s.byteCount;
    if (hit.dnat) hit.counter.connections += s.packetCount;
  }
  return [...totals.values()].sort(
    thenBy(
      byKey((c) => c.service),
      byKey((c) => c.endpointId),
    ),
  );
}

/** The providers' counters, from one flow-stats request for the service feature's cookie (none asked without provider flows). */
export async function readServiceCounters(source: FlowStatsSource, installed: Iterable<DesiredFlow>): Promise<ServiceCounter[]> {
  const flows = [...installed].filter((f) => f.feature === 'service' && f.object !== undefined && parseProviderObject(f.object));
  if (flows.length === 0) return [];
  const { cookie, mask } = featureSelector('service');
  return sumServiceCounters(flows, await source.dumpFlows({ cookie, cookieMask: mask }));
}
