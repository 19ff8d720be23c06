/**
 * An in-memory OpenFlow flow table with OVS's flow_mod semantics, enough for the reconciler: ADD
 * replaces a flow with the same table, priority and match; DELETE_STRICT removes that one flow;
 * DELETE removes every flow of a table (255 = all) whose cookie matches under the mask. A bundle
 * applies all messages or, when `failOn` rejects one, none; like OVS it refuses a flow that names
 * a meter the switch does not hold. Meters as OVS keeps them: ADD of an existing id and MODIFY or
 * DELETE of a missing one fail, deleting a meter deletes the flows that name it, meter mods are
 * applied one by one (no bundle). Groups likewise (a flow naming a missing group is refused,
 * deleting a group deletes the flows that name it). `log` records what happened, in order.
 */
import type { Action, FlowMod, GroupDesc, GroupMod, MeterConfig, MeterMod } from '../../ovs/openflow/messages';
import type { GroupSink } from '../../netplugin/reconcile/group-reconciler';
import type { FlowSink } from '../../netplugin/reconcile/reconciler';
import type { MeterSink } from '../../netplugin/reconcile/meter-reconciler';
import type { InstalledFlow } from '../../netplugin/reconcile/flow-diff';
import { flowKey } from '../../netplugin/reconcile/flow-key';

export interface FakeFlow extends InstalledFlow {
  instructions: FlowMod['instructions'];
  packetCount: number;
  byteCount?: number;
}

function groupIdsOf(instructions: FlowMod['instructions']): number[] {
  const ids = (actions: readonly Action[]): number[] => actions.flatMap((a) => (a.type === 'group' ? [a.groupId] : []));
  return instructions.flatMap((i) => (i.type === 'apply_actions' || i.type === 'write_actions' ? ids(i.actions) : []));
}

function meterIdsOf(instructions: FlowMod['instructions']): number[] {
  return instructions.flatMap((i) => (i.type === 'meter' ? [i.meterId] : []));
}

export class FakeSwitch implements FlowSink, MeterSink, GroupSink {
  flows = new Map<string, FakeFlow>();
  meters = new Map<number, MeterConfig>();
  groups = new Map<number, GroupDesc>();
  bundles: FlowMod[][] = [];
  failOn: ((m: FlowMod) => boolean) | undefined;
  failMeterOn: ((m: MeterMod) => boolean) | undefined;
  /** `bundle <n>`, `meter <command> <id>`, `dump meters` in the order they happened */
  log: string[] = [];

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
    const missing = msgs.findIndex((m) => m.command === 'add' && meterIdsOf(m.instructions).some((id) => !this.meters.has(id)));
    if (missing >= 0) throw new Error(`bundle message ${missing} rejected: METER_MOD_FAILED/INVALID_METER`);
    const noGroup = msgs.findIndex((m) => m.command === 'add' && groupIdsOf(m.instructions).some((id) => !this.groups.has(id)));
    if (noGroup >= 0) throw new Error(`bundle message ${noGroup} rejected: BAD_ACTION/BAD_OUT_GROUP`);
    this.bundles.push(msgs);
    this.log.push(`bundle ${msgs.length}`);
    const next = new Map(this.flows);
    for (const m of msgs) this.applyTo(next, m);
    this.flows = next;
  }

  async dumpMeters(): Promise<MeterConfig[]> {
    this.log.push('dump meters');
    return [...this.meters.values()].map((m) => ({ ...m, bands: m.bands.map((b) => ({ ...b })) }));
  }

  async meterMods(msgs: MeterMod[]): Promise<void> {
    for (const m of msgs) {
      const exists = this.meters.has(m.meterId);
      if ((this.failMeterOn?.(m) ?? false) || (m.command === 'add' ? exists : !exists))
        throw new Error(`meter ${m.command} ${m.meterId} rejected: METER_MOD_FAILED`);
      this.log.push(`meter ${m.command} ${m.meterId}`);
      if (m.command === 'delete') {
        this.meters.delete(m.meterId);
        for (const [k, f] of this.flows) if (meterIdsOf(f.instructions).includes(m.meterId)) this.flows.delete(k);
      } else {
        this.meters.set(m.meterId, { flags: m.flags, meterId: m.meterId, bands: m.bands });
      }
    }
  }

  async dumpGroups(): Promise<GroupDesc[]> {
    this.log.push('dump groups');
    return [...this.groups.values()].map((g) => ({ ...g, buckets: g.buckets.map((b) => ({ ...b, actions: [...b.actions] })) }));
  }

  async groupMods(msgs: GroupMod[]): Promise<void> {
    for (const m of msgs) {
      const exists = this.groups.has(m.groupId);
      if (m.command === 'add' ? exists : !exists) throw new Error(`group ${m.command} ${m.groupId} rejected: GROUP_MOD_FAILED`);
      this.log.push(`group ${m.command} ${m.groupId}`);
      if (m.command === 'delete') {
        this.groups.delete(m.groupId);
        for (const [k, f] of this.flows) if (groupIdsOf(f.instructions).includes(m.groupId)) this.flows.delete(k);
      } else {
        this.groups.set(m.groupId, { groupType: m.groupType, groupId: m.groupId, buckets: m.buckets });
      }
    }
  }

  /** What a restarted ovs-vswitchd holds: no flows, no meters, no groups. */
  restart(): void {
    this.flows.clear();
    this.meters.clear();
    this.groups.clear();
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
