/**
 * What inspect shows of realization on the hosts, beyond Contiv's oper: a policy's and a group's
 * `realization` (on how many of the hosts concerned their current version is applied) and a
 * policy's `ruleCounters` (packets and bytes per rule, summed over hosts), a service's realization
 * and its providers' counters, and an endpoint's `effectiveRules`. The agent side computes them (netmaster/agent/inspect-realization.ts) and is
 * handed to the service when it runs; without it inspect shows Contiv's oper only.
 */
import type { DirectionPolicy } from '../../lib/policy/model';

/** How far an object's current version is realized on the hosts whose view carries it. */
export interface RealizationOper {
  /** the object's current version: its etcd mod revision (a policy's: of its rules too) */
  revision: number;
  hostsConcerned: number;
  /** hosts concerned whose agent applied `revision` or later */
  hostsRealized: number;
  /** the first hosts concerned that have not (at most 20; hosts without a live agent included) */
  pendingHosts: string[];
}

/** One rule's counters summed over the hosts that have it in place. */
export interface RuleCountersOper {
  /** the rule's id in its policy (Contiv's ruleId) */
  ruleId: string;
  packets: number;
  bytes: number;
  /** hosts whose agent reports the rule in place */
  hosts: number;
}

/** One service provider's counters summed over the hosts that balance to it. */
export interface ServiceCountersOper {
  packets: number;
  bytes: number;
  /** connections the hosts sent to this provider */
  connections: number;
  /** hosts whose agent reports the provider in place */
  hosts: number;
}

/** The rules in force for one endpoint, per direction, as its host compiles them (lib/policy). */
export interface EffectiveRules {
  host: string;
  /** traffic to the endpoint */
  ingress: DirectionPolicy;
  /** traffic from the endpoint */
  egress: DirectionPolicy;
}

export interface RealizationReads {
  /** undefined when the policy is unknown to the agent side (yet) */
  policy(key: string): Promise<{ realization: RealizationOper; ruleCounters: RuleCountersOper[] } | undefined>;
  group(key: string): Promise<{ realization: RealizationOper } | undefined>;
  /** the service's realization and the counters of `providers` (endpoint ids), by endpoint id */
  service(
    key: string,
    providers: readonly string[],
  ): Promise<{ realization: RealizationOper; counters: Map<string, ServiceCountersOper> } | undefined>;
  effectiveRules(endpointId: string): Promise<EffectiveRules | undefined>;
}
