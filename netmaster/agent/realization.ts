/**
 * What every live agent of the cluster has realized, as one replica can know it: the agents
 * registered here from memory (their latest heartbeat), the others from what their replicas
 * published (realization-publisher.ts), each taken only when it comes from the replica and the
 * registration the host's agent record names (a report left behind by a replica the agent moved
 * away from is ignored). Then, pure: on how many of the hosts concerned an object's version is
 * realized, and the rules' counters summed over hosts.
 */
import type { KeyValue } from '../store/kv';
import { agentLayout, type AgentRecord } from '../store/agent-layout';
import type { AppliedReport, CountersReport } from './realization-publisher';
import type { AgentStatus } from './registry';
import type { RealizationOper, RuleCountersOper } from '../service/realization';

export interface HostRealization {
  /** the revision of its desired state the agent applied */
  applied: bigint;
  /** rule id (tenant:policy/ruleId) -> counters */
  rules: Map<string, { packets: bigint; bytes: bigint }>;
  /** `service key \0 provider endpoint id` -> counters */
  services: Map<string, ServiceCounts>;
}

export interface ServiceCounts {
  packets: bigint;
  bytes: bigint;
  connections: bigint;
}

export const serviceCounterKey = (service: string, endpointId: string): string => `${service}\0${endpointId}`;

type ServiceCounterList = ReadonlyArray<{ service: string; endpointId: string; packets: string; bytes: string; connections: string }>;

function servicesOf(list: ServiceCounterList): HostRealization['services'] {
  return new Map(
    list.map((c) => [
      serviceCounterKey(c.service, c.endpointId),
      { packets: big(c.packets), bytes: big(c.bytes), connections: big(c.connections) },
    ]),
  );
}

const parse = <T>(value: string): T | undefined => {
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
};

const DIGITS = /^\d{1,20}$/;
const big = (s: unknown): bigint => (typeof s === 'string' && DIGITS.test(s) ? BigInt(s) : 0n);

function rulesOf(list: ReadonlyArray<{ ruleId: string; packets: string; bytes: string }>): HostRealization['rules'] {
  return new Map(list.map((c) => [c.ruleId, { packets: big(c.packets), bytes: big(c.bytes) }]));
}

/**
 * Every live host's realization: `local` (this replica's agents) as they are, the hosts whose
 * record names another replica from that replica's reports (`applied`, `counters`: the keys
 * under agentLayout.appliedPrefix and countersPrefix).
 */
export function combineRealization(
  records: ReadonlyMap<string, AgentRecord>,
  local: { replica: string; agents: readonly AgentStatus[] },
  applied: readonly KeyValue[],
  counters: readonly KeyValue[],
): Map<string, HostRealization> {
  const out = new Map<string, HostRealization>();
  for (const a of local.agents)
    out.set(a.host, { applied: big(a.appliedRevision), rules: rulesOf(a.ruleCounters), services: servicesOf(a.serviceCounters) });
  const reports = new Map<string, AppliedReport>();
  for (const kv of applied) {
    const r = parse<AppliedReport>(kv.value);
    if (r && typeof r.hosts === 'object' && r.hosts !== null) reports.set(kv.key.slice(agentLayout.appliedPrefix.length), r);
  }
  const countersOf = new Map<string, CountersReport>();
  for (const kv of counters) {
    const c = parse<CountersReport>(kv.value);
    if (c && Array.isArray(c.rules)) countersOf.set(kv.key.slice(agentLayout.countersPrefix.length), c);
  }
  for (const [host, rec] of records) {
    if (out.has(host) || !rec.replica || rec.replica === local.replica) continue;
    const entry = reports.get(rec.replica)?.hosts[host];
    if (!Array.isArray(entry) || entry[0] !== rec.leaseId) continue;
    const c = countersOf.get(host);
    const own = c !== undefined && c.replica === rec.replica && c.id === rec.leaseId;
    const rules = own
      ? rulesOf(c.rules.filter((x) => Array.isArray(x)).map(([ruleId, packets, bytes]) => ({ ruleId, packets, bytes })))
      : new Map<string, { packets: bigint; bytes: bigint }>();
    const services =
      own && Array.isArray(c.services)
        ? servicesOf(
            c.services
              .filter((x) => Array.isArray(x))
              .map(([service, endpointId, packets, bytes, connections]) => ({ service, endpointId, packets, bytes, connections })),
          )
        : new Map<string, ServiceCounts>();
    out.set(host, { applied: big(entry[1]), rules, services });
  }
  return out;
}

const MAX_PENDING_LISTED = 20;

export function realizationOf(
  revision: bigint,
  concerned: readonly string[],
  hosts: ReadonlyMap<string, HostRealization>,
): RealizationOper {
  const pending = [...concerned].sort().filter((h) => (hosts.get(h)?.applied ?? -1n) < revision);
  return {
    revision: Number(revision),
    hostsConcerned: concerned.length,
    hostsRealized: concerned.length - pending.length,
    pendingHosts: pending.slice(0, MAX_PENDING_LISTED),
  };
}

/** The counters of each provider of `service`, summed over `hosts` (providers no host reported: zeros). */
export function serviceCountersOf(
  service: string,
  providers: readonly string[],
  hosts: ReadonlyMap<string, HostRealization>,
): Map<string, { packets: number; bytes: number; connections: number; hosts: number }> {
  const out = new Map<string, { packets: number; bytes: number; connections: number; hosts: number }>();
  for (const id of providers) {
    let packets = 0n;
    let bytes = 0n;
    let connections = 0n;
    let n = 0;
    for (const h of hosts.values()) {
      const c = h.services.get(serviceCounterKey(service, id));
      if (!c) continue;
      n++;
      packets += c.packets;
      bytes += c.bytes;
      connections += c.connections;
    }
    out.set(id, { packets: Number(packets), bytes: Number(bytes), connections: Number(connections), hosts: n });
  }
  return out;
}

/** The counters of `rules` ([Contiv rule id, full rule id]) summed over `hosts`. */
export function ruleCountersOf(
  rules: ReadonlyArray<readonly [string, string]>,
  hosts: ReadonlyMap<string, HostRealization>,
): RuleCountersOper[] {
  return rules.map(([ruleId, full]) => {
    let packets = 0n;
    let bytes = 0n;
    let n = 0;
    for (const h of hosts.values()) {
      const c = h.rules.get(full);
      if (!c) continue;
      n++;
      packets += c.packets;
      bytes += c.bytes;
    }
    return { ruleId, packets: Number(packets), bytes: Number(bytes), hosts: n };
  });
}
