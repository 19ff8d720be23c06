/**
 * An in-memory OpenFlow flow table with OVS's flow_mod semantics, enough for the reconciler: ADD
 * replaces a flow with the same table, priority and match; DELETE_STRICT removes that one flow;
 * DELETE removes every flow of a table (255 = all) whose cookie matches under the mask. A bundle
 * applies all messages or, when `failOn` rejects one, none.
 */
import type { FlowMod } from '../../ovs/openflow/messages';
import type { FlowSink } from '../../netplugin/reconcile/reconciler';
import type { InstalledFlow } from '../../netplugin/reconcile/flow-diff';
import { flowKey } from '../../netplugin/reconcile/flow-key';

export interface FakeFlow extends InstalledFlow {
  instructions: FlowMod['instructions'];
  packetCount: number;
  byteCount?: number;
}

export class FakeSwitch implements FlowSink {
  flows = new Map<string, FakeFlow>();
  bundles: FlowMod[][] = [];
  failOn: ((m: FlowMod) => boolean) | undefined;

  async dumpFlows(): Promise<InstalledFlow[]> {
    return [...this.flows.values()].map((f) => ({ ...f }));
  }

  /** Flow stats of the flows whose cookie matches under the mask (as OfConnection.dumpFlows with a filter). */
  async flowStats(filter: {
    cookie: bigint;
    cookieMask: bigint;
  }): Promise<Array<InstalledFlow & { packetCount: bigint; byteCount: bigint }>> {
    return [...this.flows.values()]
      .filter((f) => (f.cookie & filter.cookieMask) === (filter.cookie & filter.cookieMask))
      .map((f) => ({ ...f, packetCount: BigInt(f.packetCount), byteCount: BigInt(f.byteCount ?? 0) }));
  }

  async bundle(msgs: FlowMod[]): Promise<void> {
    const bad = msgs.findIndex((m) => this.failOn?.(m) ?? false);
    if (bad >= 0) throw new Error(`bundle message ${bad} rejected`);
    this.bundles.push(msgs);
    const next = new Map(this.flows);
    for (const m of msgs) this.applyTo(next, m);
    this.flows = next;
  }

  private applyTo(table: Map<string, FakeFlow>, m: FlowMod): void {
    const key = flowKey({ table: m.tableId, priority: m.priority, match: m.match });
    switch (m.command) {
      case 'add': {
        const prev = table.get(key);
        table.set(key, {
          tableId: m.tableId,
          priority: m.priority,
          match: m.match,
          cookie: m.cookie,
          instructions: m.instructions,
          packetCount: prev?.packetCount ?? 0,
          byteCount: prev?.byteCount ?? 0,
        });
        break;
      }
      case 'delete_strict':
        table.delete(key);
        break;
      case 'delete':
        for (const [k, f] of table) {
          if ((m.tableId === 0xff || f.tableId === m.tableId) && (f.cookie & m.cookieMask) === (m.cookie & m.cookieMask)) table.delete(k);
        }
        break;
      default:
        throw new Error(`fake switch does not implement ${m.command}`);
    }
  }
}
