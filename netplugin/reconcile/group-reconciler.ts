/**
 * Desired OpenFlow groups meet the switch, as meters do (meter-reconciler.ts): OVS refuses a flow
 * that names a missing group and deleting a group deletes the flows that name it, so around each
 * flow bundle `prepare` adds new groups and modifies changed ones BEFORE it, `prune` deletes the
 * groups nothing needs any more AFTER it. After `invalidate` (agent start, OpenFlow reconnect) the
 * next `prepare` reads the switch's groups (group_desc) and diffs against them: an agent restart
 * sends nothing for groups that did not change (a select group keeps its buckets, so nothing moves),
 * a restarted OVS gets them all again. br-int is netloom's, so every group on it is ours.
 *
 * Groups are compared by meaning, not by bytes: OVS may report a load in another encoding than
 * the one sent (set_field, reg_load, reg_load2 of the same bits are one thing).
 */
import type { Action, Bucket, GroupDesc, GroupMod } from '../../ovs/openflow/messages';
import { FIELD_BY_NAME } from '../../ovs/openflow/oxm';
import type { Logger } from '../../lib/logger';

/** What the group reconciler needs from an OpenFlow connection (OfConnection fits). */
export interface GroupSink {
  dumpGroups(): Promise<GroupDesc[]>;
  /** apply in order; rejects with the switch's first error (the ones before it stay applied) */
  groupMods(msgs: GroupMod[]): Promise<void>;
}

export interface GroupDiff {
  adds: GroupDesc[];
  modifies: GroupDesc[];
  deletes: number[];
}

function valueText(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}

/** A value/mask pair as one comparable text, a field's whole width being the same as no mask. */
function load(field: string, value: bigint, mask: bigint): string {
  const spec = FIELD_BY_NAME.get(field as never);
  const full = spec ? (1n << BigInt(spec.bytes * 8)) - 1n : -1n;
  return `load:${field}=${(value & mask).toString(16)}/${mask === full ? 'full' : mask.toString(16)}`;
}

function toBig(field: string, v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const s = String(v);
  if (s.includes(':')) return BigInt(`0x${s.split(':').join('')}`);
  if (s.includes('.')) return s.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n);
  throw new Error(`group action: cannot read ${field} value ${s}`);
}

/** One action in a form equal for equal effects. */
export function canonicalAction(a: Action): string {
  switch (a.type) {
    case 'set_field':
    case 'reg_load2': {
      const f = a.field;
      if (f.field === 'raw') return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      const spec = FIELD_BY_NAME.get(f.field);
      const full = spec ? (1n << BigInt(spec.bytes * 8)) - 1n : -1n;
      return load(f.field, toBig(f.field, f.value), f.mask === undefined ? full : toBig(f.field, f.mask));
    }
    case 'reg_load': {
      if (typeof a.dst.field === 'number') return `reg_load:${a.dst.field}`;
      const mask = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.ofs);
      return load(a.dst.field, a.value << BigInt(a.dst.ofs), mask);
    }
    case 'resubmit':
      return `resubmit:${a.inPort},${a.table}`;
    default:
      return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? valueText(v) : Buffer.isBuffer(v) ? v.toString('hex') : v));
  }
}

function canonicalBucket(b: Bucket): string {
  return `${b.weight}|${b.watchPort}|${b.watchGroup}|${b.actions.map(canonicalAction).join(',')}`;
}

export function sameGroup(a: GroupDesc, b: GroupDesc): boolean {
  return (
    a.groupType === b.groupType &&
    a.buckets.length === b.buckets.length &&
    a.buckets.every((x, i) => canonicalBucket(x) === canonicalBucket(b.buckets[i]!))
  );
}

/** What takes the switch from `installed` to `desired` (pure). */
export function diffGroups(desired: ReadonlyMap<number, GroupDesc>, installed: ReadonlyMap<number, GroupDesc>): GroupDiff {
  const d: GroupDiff = { adds: [], modifies: [], deletes: [] };
  for (const [id, g] of desired) {
    const cur = installed.get(id);
    if (!cur) d.adds.push(g);
    else if (!sameGroup(cur, g)) d.modifies.push(g);
  }
  for (const id of installed.keys()) if (!desired.has(id)) d.deletes.push(id);
  return d;
}

export function groupMod(command: GroupMod['command'], g: GroupDesc): GroupMod {
  return { type: 'group_mod', xid: 0, command, groupType: g.groupType, groupId: g.groupId, buckets: command === 'delete' ? [] : g.buckets };
}

export interface GroupStats {
  adds: number;
  modifies: number;
  deletes: number;
  resyncs: number;
  failures: number;
}

export class GroupReconciler {
  private installed = new Map<number, GroupDesc>();
  private want = new Map<number, GroupDesc>();
  private synced = false;
  readonly stats: GroupStats = { adds: 0, modifies: 0, deletes: 0, resyncs: 0, failures: 0 };

  constructor(
    private readonly sink: GroupSink,
    private readonly logger?: Logger,
  ) {}

  /** Forget what the switch holds (after a reconnect): the next prepare reads it again. */
  invalidate(): void {
    this.synced = false;
  }

  /** Before the flow bundle: add the new groups and modify the changed ones. */
  async prepare(desired: readonly GroupDesc[]): Promise<{ messages: number }> {
    this.want = new Map(desired.map((g) => [g.groupId, g]));
    if (!this.synced) {
      const onSwitch = await this.sink.dumpGroups();
      this.installed = new Map(onSwitch.map((g) => [g.groupId, g]));
      this.synced = true;
      this.stats.resyncs++;
      this.logger?.info({ onSwitch: onSwitch.length, desired: desired.length }, 'read the groups on the switch');
    }
    const d = diffGroups(this.want, this.installed);
    const msgs = [...d.adds.map((g) => groupMod('add', g)), ...d.modifies.map((g) => groupMod('modify', g))];
    await this.send(msgs);
    for (const g of [...d.adds, ...d.modifies]) this.installed.set(g.groupId, g);
    this.stats.adds += d.adds.length;
    this.stats.modifies += d.modifies.length;
    return { messages: msgs.length };
  }

  /** After the flow bundle succeeded: delete the groups no flow names any more. */
  async prune(): Promise<{ messages: number }> {
    const { deletes } = diffGroups(this.want, this.installed);
    const msgs = deletes.map((id) => groupMod('delete', { groupType: 'all', groupId: id, buckets: [] }));
    await this.send(msgs);
    for (const id of deletes) this.installed.delete(id);
    this.stats.deletes += deletes.length;
    return { messages: msgs.length };
  }

  private async send(msgs: GroupMod[]): Promise<void> {
    if (msgs.length === 0) return;
    try {
      await this.sink.groupMods(msgs);
    } catch (e) {
      // some may have been applied: read the switch again next time
      this.stats.failures++;
      this.synced = false;
      this.logger?.warn({ err: e }, 'group mods failed; resyncing from the switch');
      throw e;
    }
  }
}
