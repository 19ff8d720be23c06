/**
 * Per-rule packet and byte counters from the switch's flow stats (pure). The policy backend gives
 * the flow that decides for a rule (the conj_id flow of a conjunction, or a single direct flow)
 * the cookie feature `policy` and, as its object, the rule id `tenant:policy/ruleId`; other policy
 * flows (clauses, isolation) carry other objects. A rule's counters on this host are the sum over
 * the installed flows whose cookie names it. The cookie holds only a 32-bit hash of the object:
 * the installed flows say which object a hash stands for, and when two installed policy objects
 * share a hash the flow is found by its identity (table, priority, match) instead.
 */
import type { Match } from '../../ovs/openflow/messages';
import { contivRuleId } from '../../lib/policy/contiv';
import { featureSelector, objectHash, parseCookie } from './cookie';
import { flowKey, type DesiredFlow } from './flow-key';

export interface RuleCounter {
  /** tenant:policy/ruleId */
  ruleId: string;
  packets: bigint;
  bytes: bigint;
}

/** One flow's counters as flow stats report them. */
export interface FlowCountSample {
  tableId: number;
  priority: number;
  match: Match;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
}

/**
 * The counters of every rule in `ruleIds` that has a decision flow among `installed` (zeros
 * included: the rule is in place here), summed over `samples`; sorted by rule id.
 */
export function sumRuleCounters(
  installed: Iterable<DesiredFlow>,
  ruleIds: ReadonlySet<string>,
  samples: readonly FlowCountSample[],
): RuleCounter[] {
  const byHash = new Map<number, Set<string>>();
  const byKey = new Map<string, string>();
  const totals = new Map<string, RuleCounter>();
  for (const f of installed) {
    if (f.feature !== 'policy' || !f.object) continue;
    const h = objectHash(f.object);
    let objects = byHash.get(h);
    if (!objects) byHash.set(h, (objects = new Set()));
    objects.add(f.object);
    if (ruleIds.has(f.object)) {
      byKey.set(flowKey(f), f.object);
      if (!totals.has(f.object)) totals.set(f.object, { ruleId: f.object, packets: 0n, bytes: 0n });
    }
  }
  for (const s of samples) {
    const c = parseCookie(s.cookie);
    if (c.feature !== 'policy') continue;
    const objects = byHash.get(c.objectHash);
    if (!objects) continue;
    const object = objects.size === 1 ? [...objects][0]! : byKey.get(flowKey({ table: s.tableId, priority: s.priority, match: s.match }));
    const t = object === undefined ? undefined : totals.get(object);
    if (!t) continue;
    t.packets += s.packetCount;
    t.bytes += s.byteCount;
  }
  return [...totals.values()].sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}

/** Where flow stats come from (OfConnection.dumpFlows; a fake switch in tests). */
export interface FlowStatsSource {
  dumpFlows(filter: { cookie: bigint; cookieMask: bigint }): Promise<FlowCountSample[]>;
}

/**
 * The counters of the rules of `state` installed as `installed`, from one flow-stats request for
 * the policy feature's cookie (none asked when the state has no rule).
 */
export async function readRuleCounters(
  source: FlowStatsSource,
  installed: Iterable<DesiredFlow>,
  state: { policies: ReadonlyArray<{ key: string; rules: ReadonlyArray<{ ruleId: string }> }> },
): Promise<RuleCounter[]> {
  const ruleIds = new Set<string>();
  for (const p of state.policies) for (const r of p.rules) ruleIds.add(contivRuleId(p.key, r.ruleId));
  if (ruleIds.size === 0) return [];
  const { cookie, mask } = featureSelector('policy');
  return sumRuleCounters(installed, ruleIds, await source.dumpFlows({ cookie, cookieMask: mask }));
}
