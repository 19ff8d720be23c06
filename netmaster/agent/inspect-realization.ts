/**
 * The agent side's answers to inspect (service/realization.ts) on one replica: the hosts
 * concerned and the objects' versions from this replica's cluster cache (first brought up to
 * etcd's current revision, so that an inspect right after a write sees it), what the hosts
 * realized from realization.ts (this replica's agents from memory, the others' from their
 * replicas' reports in etcd: one read of two prefixes), and an endpoint's effective rules
 * compiled from the view its host is sent, with the agent's own compiler (lib/policy).
 */
import { systemClock, type Clock } from '../../lib/clock';
import { compilePolicy } from '../../lib/policy/compile';
import { contivRuleId } from '../../lib/policy/contiv';
import { rulePrecedence } from '../../lib/policy/evaluate';
import type { DirectionPolicy } from '../../lib/policy/model';
import type { Rule as StoredRule } from '../model/schemas';
import type { EffectiveRules, RealizationReads } from '../service/realization';
import { agentLayout } from '../store/agent-layout';
import type { EtcdKV } from '../store/kv';
import type { ClusterState } from './cluster';
import { cacheReaches, type ClusterCache } from './cluster-cache';
import { membersOf } from './cluster-index';
import { hostsConcerned } from './concerned';
import { computeHostView } from './host-view';
import { combineRealization, realizationOf, ruleCountersOf, serviceCountersOf, type HostRealization } from './realization';
import type { AgentRegistry } from './registry';

export interface InspectRealizationDeps {
  cache: Pick<ClusterCache, 'state'>;
  registry: Pick<AgentRegistry, 'replicaId' | 'agents'>;
  kv: Pick<EtcdKV, 'list'>;
  /** etcd's current revision (the service's read) */
  currentRevision(): Promise<string>;
  clock?: Clock;
}

const maxRev = (a: string | undefined, b: string | undefined): bigint => {
  const x = a && /^\d+$/.test(a) ? BigInt(a) : 0n;
  const y = b && /^\d+$/.test(b) ? BigInt(b) : 0n;
  return x > y ? x : y;
};

/** Evaluation order: higher priority first, deny before allow, then by id. */
function ordered(d: DirectionPolicy): DirectionPolicy {
  return { isolated: d.isolated, rules: [...d.rules].sort(rulePrecedence) };
}

export class InspectRealization implements RealizationReads {
  constructor(private readonly deps: InspectRealizationDeps) {}

  async policy(key: string): ReturnType<RealizationReads['policy']> {
    const cluster = await this.current();
    const stored = cluster.objects.get('policy')?.get(key);
    if (!stored) return undefined;
    const revision = maxRev(stored.modRevision, cluster.index.rulesChangedAt.get(key));
    const rules = cluster.objects.get('rule');
    const ids: Array<[string, string]> = [];
    for (const rk of membersOf(cluster.index.rulesByPolicy, key)) {
      const r = rules?.get(rk)?.config as StoredRule | undefined;
      if (r) ids.push([r.ruleId, contivRuleId(key, r.ruleId)]);
    }
    ids.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const hosts = await this.hosts(cluster);
    return {
      realization: realizationOf(revision, hostsConcerned(cluster, { policy: key }), hosts),
      ruleCounters: ruleCountersOf(ids, hosts),
    };
  }

  async group(key: string): ReturnType<RealizationReads['group']> {
    const cluster = await this.current();
    const stored = cluster.objects.get('endpointGroup')?.get(key);
    if (!stored) return undefined;
    const hosts = await this.hosts(cluster);
    return { realization: realizationOf(maxRev(stored.modRevision, '0'), hostsConcerned(cluster, { group: key }), hosts) };
  }

  async service(key: string, providers: readonly string[]): ReturnType<RealizationReads['service']> {
    const cluster = await this.current();
    const stored = cluster.objects.get('serviceLB')?.get(key);
    if (!stored) return undefined;
    // its version: the service's or a provider's newest write (a provider that left is not seen)
    let revision = maxRev(stored.modRevision, '0');
    for (const id of providers) {
      const r = maxRev(cluster.endpoints.get(id)?.modRevision, '0');
      if (r > revision) revision = r;
    }
    const hosts = await this.hosts(cluster);
    return {
      realization: realizationOf(revision, hostsConcerned(cluster, { service: key }), hosts),
      counters: serviceCountersOf(key, providers, hosts),
    };
  }

  async effectiveRules(endpointId: string): Promise<EffectiveRules | undefined> {
    const cluster = await this.current();
    const host = cluster.endpoints.get(endpointId)?.ep.homingHost;
    if (!host) return undefined;
    const compiled = compilePolicy(computeHostView(cluster, host), host).find((p) => p.endpoint === endpointId);
    if (!compiled) return undefined;
    return { host, ingress: ordered(compiled.ingress), egress: ordered(compiled.egress) };
  }

  /** The cache, once it has applied etcd's current revision (waiting at most a second). */
  private async current(): Promise<ClusterState> {
    const rev = BigInt(await this.deps.currentRevision());
    await cacheReaches(this.deps.cache, rev, () => false, 1000, this.deps.clock ?? systemClock);
    return this.deps.cache.state;
  }

  private async hosts(cluster: ClusterState): Promise<Map<string, HostRealization>> {
    const [applied, counters] = await Promise.all([
      this.deps.kv.list(agentLayout.appliedPrefix),
      this.deps.kv.list(agentLayout.countersPrefix),
    ]);
    const local = { replica: this.deps.registry.replicaId, agents: this.deps.registry.agents() };
    return combineRealization(cluster.agents, local, applied.kvs, counters.kvs);
  }
}
