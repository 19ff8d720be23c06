/**
 * One answer from the hosts' traces (pure): the verdict, the policy decision that made it (which
 * policy and rule, on which host, egress or ingress), and the hops as each host saw them.
 *
 * - allow: the last hop output the packet to the destination endpoint's port (an external
 *   endpoint's: out of the uplink); decidedBy is the
 *   last policy flow that allowed it (the ingress rule when there is one), absent when no policy
 *   flow decided (the packet passed the policy tables by their table-miss flows);
 * - deny: the packet was dropped by a policy flow of egressPolicy/ingressPolicy (a rule, or an
 *   endpoint's isolation default deny): decidedBy names it;
 * - drop: dropped anywhere else (droppedAt names the table), or it went somewhere other than the
 *   destination (outputs of the last hop say where).
 */
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { TraceStep__Output } from '../../proto/gen/netloom/v1/TraceStep';

export type Verdict = 'allow' | 'deny' | 'drop';

export interface Decision {
  host: string;
  direction: string;
  tenant: string;
  policy: string;
  rule: string;
  /** set for an isolation default-deny flow: the isolated endpoint */
  isolationEndpoint?: string;
  table: number;
  tableName: string;
  action: string;
  object: string;
}

export interface Hop {
  host: string;
  flow: string;
  steps: TraceStep__Output[];
  outputs: Array<{ port: number; kind: string; endpoint?: string; tunId?: string; tunDst?: string; vlan?: number }>;
  dropped: boolean;
  raw?: string;
}

export interface TraceAnswer {
  verdict: Verdict;
  decidedBy?: Decision;
  droppedAt?: { host: string; table: number; tableName: string; feature: string; object: string };
  decisions: Decision[];
  hops: Hop[];
}

function decisionsOf(r: TraceResult__Output): Decision[] {
  return r.decisions.map((d) => ({
    host: r.host,
    direction: d.direction,
    tenant: d.tenant,
    policy: d.policy,
    rule: d.ruleId,
    ...(d.isolationEndpoint ? { isolationEndpoint: d.isolationEndpoint } : {}),
    table: d.table,
    tableName: d.tableName,
    action: d.action,
    object: d.object,
  }));
}

export function hopOf(r: TraceResult__Output, raw: boolean): Hop {
  return {
    host: r.host,
    flow: r.flow,
    steps: r.steps.map((s) => ({ ...s, actions: [...s.actions] })),
    outputs: r.outputs.map((o) => {
      if (o.kind === 'tunnel') return { port: o.port, kind: o.kind, tunId: o.tunId, tunDst: o.tunDst };
      if (o.kind === 'uplink') return { port: o.port, kind: o.kind, vlan: o.vlan };
      if (o.kind === 'endpoint') return { port: o.port, kind: o.kind, endpoint: o.endpoint };
      return { port: o.port, kind: o.kind };
    }),
    dropped: r.dropped,
    ...(raw ? { raw: r.raw } : {}),
  };
}

/** The destination of an external endpoint (bare metal on the VLAN): delivered when the packet leaves by the uplink. */
export const UPLINK_DELIVERY = Symbol('uplink');

/** The answer from the hosts' results in the order the packet met them. */
export function combineTrace(
  results: readonly TraceResult__Output[],
  dstEndpoint: string | typeof UPLINK_DELIVERY,
  raw = false,
): TraceAnswer {
  const decisions = results.flatMap(decisionsOf);
  const hops = results.map((r) => hopOf(r, raw));
  const last = results.at(-1);
  const delivered = (o: TraceResult__Output['outputs'][number]) =>
    dstEndpoint === UPLINK_DELIVERY ? o.kind === 'uplink' : o.kind === 'endpoint' && o.endpoint === dstEndpoint;
  if (last && !last.dropped && last.outputs.some(delivered)) {
    const allows = decisions.filter((d) => d.action === 'allow');
    const decidedBy = allows.at(-1);
    return { verdict: 'allow', ...(decidedBy ? { decidedBy } : {}), decisions, hops };
  }
  const deny = decisions.find((d) => d.action === 'deny');
  if (deny) return { verdict: 'deny', decidedBy: deny, decisions, hops };
  const step = last?.dropped ? last.steps.at(-1) : undefined;
  return {
    verdict: 'drop',
    ...(last && step
      ? { droppedAt: { host: last.host, table: step.table, tableName: step.tableName, feature: step.feature, object: step.object } }
      : {}),
    decisions,
    hops,
  };
}
