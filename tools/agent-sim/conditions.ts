/**
 * What a simulated agent can be asked to wait for, as plain data (it crosses the IPC channel to
 * the simulator's worker processes), and the predicate on a HostState each one stands for. Also
 * the one clock the simulator records with: milliseconds comparable across processes on this
 * machine (`performance.timeOrigin + performance.now()`), so that a time taken in the benchmark
 * before a REST call and an arrival time recorded in a worker can be subtracted.
 */
import { performance } from 'node:perf_hooks';
import type { HostState } from '../../netplugin/netmaster-client/apply';

/** ms since the epoch, monotonic within a process and comparable between processes */
export function crossProcessNow(): number {
  return performance.timeOrigin + performance.now();
}

export type Condition =
  /** a snapshot was applied (any state) */
  | { kind: 'snapshot' }
  /** at least `atLeast` endpoints of network `network` (tenant:network; '': of any network) */
  | { kind: 'endpointCount'; network: string; atLeast: number }
  /** policy `policy` (tenant:policy) holds every rule of `ruleIds`; `absent`: none of them */
  | { kind: 'rules'; policy: string; ruleIds: string[]; absent?: boolean }
  /** the Kubernetes NetworkPolicies the host got allow ingress to each port of `present` and to none of `absent` */
  | { kind: 'kubePolicyPorts'; present: number[]; absent: number[] }
  /** namespace `namespace` as the host got it carries label `key` = `value` (null: no such label) */
  | { kind: 'kubeNamespaceLabel'; namespace: string; key: string; value: string | null }
  /** an endpoint with this id, or of this container (or of any of these containers), is in the state */
  | { kind: 'endpoint'; id?: string; containerId?: string; containerIds?: string[] }
  /** the agent's compiled flows (agents that compile) hold a flow of each rule (cookie object `tenant:policy/ruleId`); absent: of none */
  | { kind: 'ruleFlows'; ruleIds: string[]; absent?: boolean };

/** `compiled`: the cookie objects of the agent's compiled flows (undefined: the agent does not compile) */
export type Predicate = (state: HostState, kind: 'snapshot' | 'changes', compiled?: ReadonlySet<string>) => boolean;

/** The predicate a condition stands for. */
export function predicateOf(c: Condition): Predicate {
  switch (c.kind) {
    case 'snapshot':
      // every state an agent applies comes after its first snapshot
      return () => true;
    case 'endpointCount': {
      const { network, atLeast } = c;
      return (s) => {
        if (s.endpoints.length < atLeast) return false;
        let n = 0;
        for (const e of s.endpoints) if ((network === '' || e.network === network) && ++n >= atLeast) return true;
        return false;
      };
    }
    case 'rules': {
      const { policy } = c;
      const want = [...new Set(c.ruleIds)];
      if (c.absent)
        return (s) => {
          const have = new Set(s.policies.find((x) => x.key === policy)?.rules.map((r) => r.ruleId));
          return want.every((id) => !have.has(id));
        };
      return (s) => {
        const p = s.policies.find((x) => x.key === policy);
        if (!p || p.rules.length < want.length) return false;
        const have = new Set(p.rules.map((r) => r.ruleId));
        return want.every((id) => have.has(id));
      };
    }
    case 'kubePolicyPorts': {
      const { present, absent } = c;
      return (s) => {
        const ports = new Set<number>();
        for (const p of s.kubePolicies) for (const r of p.ingress) for (const port of r.ports) ports.add(port.port);
        return present.every((p) => ports.has(p)) && !absent.some((p) => ports.has(p));
      };
    }
    case 'kubeNamespaceLabel': {
      const { namespace, key, value } = c;
      return (s) => {
        const ns = s.kubeNamespaces.find((n) => n.key === namespace);
        return value === null ? ns?.labels[key] === undefined : ns?.labels[key] === value;
      };
    }
    case 'ruleFlows': {
      const want = [...new Set(c.ruleIds)];
      const absent = c.absent === true;
      return (_s, _k, compiled) =>
        compiled !== undefined && (absent ? want.every((id) => !compiled.has(id)) : want.every((id) => compiled.has(id)));
    }
    case 'endpoint': {
      const { id, containerId } = c;
      const anyOf = c.containerIds ? new Set(c.containerIds) : undefined;
      if (id === undefined && containerId === undefined && !anyOf) throw new Error('endpoint condition without id or containerId');
      return (s) =>
        s.endpoints.some(
          (e) =>
            (id === undefined || e.id === id) &&
            (containerId === undefined || e.containerId === containerId) &&
            (anyOf === undefined || anyOf.has(e.containerId)),
        );
    }
  }
}

/** A short description for progress and failure messages. */
export function describeCondition(c: Condition): string {
  switch (c.kind) {
    case 'snapshot':
      return 'a first snapshot';
    case 'endpointCount':
      return `${c.atLeast} endpoints of ${c.network || 'its network'}`;
    case 'rules':
      if (c.absent) return `no rule ${c.ruleIds.join(', ')} in ${c.policy}`;
      return c.ruleIds.length === 1 ? `rule ${c.ruleIds[0]} of ${c.policy}` : `${c.ruleIds.length} rules of ${c.policy}`;
    case 'kubePolicyPorts':
      return `NetworkPolicy ingress ports [${c.present}] present, [${c.absent}] absent`;
    case 'kubeNamespaceLabel':
      return `namespace ${c.namespace} ${c.value === null ? `without label ${c.key}` : `labelled ${c.key}=${c.value}`}`;
    case 'ruleFlows':
      return `${c.absent ? 'no ' : ''}${c.ruleIds.length === 1 ? `flows of rule ${c.ruleIds[0]}` : `flows of ${c.ruleIds.length} rules`}`;
    case 'endpoint':
      return c.id !== undefined
        ? `endpoint ${c.id}`
        : c.containerIds
          ? `an endpoint of ${c.containerIds.join(' / ')}`
          : `the endpoint of container ${c.containerId}`;
  }
}
