/**
 * The reconciler's pure core: from the flows the pipeline wants and the flows it installed,
 * compute the flow_mods that take the switch from one to the other. No I/O.
 */
import { flowMod, FlowMod, OFPP, OFPG_ANY } from '../../ovs/openflow/messages';
import { NetloomError } from '../../lib/errors';
import { generationSelector, makeCookie, parseCookie } from './cookie';
import { DesiredFlow, flowKey, sameFlow } from './flow-key';

/** Index desired flows by key; two different flows with one key is a pipeline bug. */
export function indexFlows(flows: readonly DesiredFlow[]): Map<string, DesiredFlow> {
  const out = new Map<string, DesiredFlow>();
  for (const f of flows) {
    const k = flowKey(f);
    const prev = out.get(k);
    if (prev && !sameFlow(prev, f)) {
      throw new NetloomError(
        'CONFLICT',
        `two different flows share table ${f.table} priority ${f.priority} and one match (features ${prev.feature} and ${f.feature})`,
        {
          details: { key: k },
        },
      );
    }
    out.set(k, f);
  }
  return out;
}

export interface FlowDiff {
  /** new flows, or flows whose actions changed: an ADD replaces in place */
  upserts: DesiredFlow[];
  /** flows to remove (strict delete by table, priority and match) */
  deletes: DesiredFlow[];
}

export function diffFlows(desired: ReadonlyMap<string, DesiredFlow>, installed: ReadonlyMap<string, DesiredFlow>): FlowDiff {
  const upserts: DesiredFlow[] = [];
  const deletes: DesiredFlow[] = [];
  for (const [k, f] of desired) {
    const cur = installed.get(k);
    if (!cur || !sameFlow(cur, f)) upserts.push(f);
  }
  for (const [k, f] of installed) if (!desired.has(k)) deletes.push(f);
  return { upserts, deletes };
}

export function addMessage(f: DesiredFlow, generation: number): FlowMod {
  return flowMod({
    command: 'add',
    tableId: f.table,
    priority: f.priority,
    match: f.match,
    instructions: f.instructions,
    cookie: makeCookie(f.feature, generation, f.object ?? ''),
    idleTimeout: f.idleTimeout ?? 0,
    hardTimeout: f.hardTimeout ?? 0,
  });
}

export function deleteStrictMessage(f: DesiredFlow): FlowMod {
  return flowMod({
    command: 'delete_strict',
    tableId: f.table,
    priority: f.priority,
    match: f.match,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
  });
}

/** The messages for a diff, deletes first (so that a changed match never briefly overlaps). */
export function diffMessages(diff: FlowDiff, generation: number): FlowMod[] {
  return [...diff.deletes.map(deleteStrictMessage), ...diff.upserts.map((f) => addMessage(f, generation))];
}

/** A flow as the switch reports it (flow stats). */
export interface InstalledFlow {
  tableId: number;
  priority: number;
  match: DesiredFlow['match'];
  cookie: bigint;
}

/**
 * Take over a switch after an agent restart without flushing: re-add every desired flow under the
 * new generation (an ADD of an identical match replaces the old flow in place, keeping its
 * counters), then delete what is left of older generations (one cookie-masked delete each) and,
 * one by one, every flow that is not netloom's. Sent as one atomic bundle, traffic sees either the
 * old table or the new one, never a gap.
 */
export function takeoverMessages(
  desired: ReadonlyMap<string, DesiredFlow>,
  generation: number,
  onSwitch: readonly InstalledFlow[],
): FlowMod[] {
  const msgs: FlowMod[] = [...desired.values()].map((f) => addMessage(f, generation));
  const oldGenerations = new Set<number>();
  for (const f of onSwitch) {
    const c = parseCookie(f.cookie);
    if (c.ours) {
      if (c.generation !== (generation & 0xffff)) oldGenerations.add(c.generation);
    } else if (!desired.has(flowKey({ table: f.tableId, priority: f.priority, match: f.match }))) {
      msgs.push(
        flowMod({
          command: 'delete_strict',
          tableId: f.tableId,
          priority: f.priority,
          match: f.match,
          outPort: OFPP.ANY,
          outGroup: OFPG_ANY,
        }),
      );
    }
  }
  for (const g of oldGenerations) {
    const sel = generationSelector(g);
    msgs.push(
      flowMod({ command: 'delete', tableId: 0xff, cookie: sel.cookie, cookieMask: sel.mask, outPort: OFPP.ANY, outGroup: OFPG_ANY }),
    );
  }
  return msgs;
}
