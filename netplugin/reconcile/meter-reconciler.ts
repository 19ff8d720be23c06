/**
 * The one place where desired meters meet the switch. OVS refuses a flow that names a missing
 * meter, deleting a meter deletes the flows that use it, and meter mods cannot go into a bundle;
 * so around each flow bundle the meters change in two halves: `prepare` adds new meters and
 * modifies changed ones BEFORE the bundle (a profile change takes effect on the same meter id,
 * with no flow touched), `prune` deletes the meters nothing needs any more AFTER it succeeded.
 * After `invalidate` (agent start, OpenFlow reconnect) the next `prepare` reads the switch's
 * meters first and diffs against them: an agent restart changes nothing, a restarted OVS (no
 * meters) gets them all again. br-int is netloom's, so every meter on it is ours to keep or drop.
 */
import type { MeterConfig, MeterMod } from '../../ovs/openflow/messages';
import type { Logger } from '../../lib/logger';

/** What the meter reconciler needs from an OpenFlow connection (OfConnection fits). */
export interface MeterSink {
  dumpMeters(): Promise<MeterConfig[]>;
  /** apply in order; rejects with the switch's first error (the ones before it stay applied) */
  meterMods(msgs: MeterMod[]): Promise<void>;
}

export interface MeterDiff {
  adds: MeterConfig[];
  modifies: MeterConfig[];
  deletes: number[];
}

function sameMeter(a: MeterConfig, b: MeterConfig): boolean {
  return a.flags === b.flags && JSON.stringify(a.bands) === JSON.stringify(b.bands);
}

/** What takes the switch from `installed` to `desired` (pure). */
export function diffMeters(desired: ReadonlyMap<number, MeterConfig>, installed: ReadonlyMap<number, MeterConfig>): MeterDiff {
  const d: MeterDiff = { adds: [], modifies: [], deletes: [] };
  for (const [id, m] of desired) {
    const cur = installed.get(id);
    if (!cur) d.adds.push(m);
    else if (!sameMeter(cur, m)) d.modifies.push(m);
  }
  for (const id of installed.keys()) if (!desired.has(id)) d.deletes.push(id);
  return d;
}

export function meterMod(command: MeterMod['command'], m: MeterConfig): MeterMod {
  return { type: 'meter_mod', xid: 0, command, flags: m.flags, meterId: m.meterId, bands: command === 'delete' ? [] : m.bands };
}

export interface MeterStats {
  adds: number;
  modifies: number;
  deletes: number;
  resyncs: number;
  failures: number;
}

export class MeterReconciler {
  private installed = new Map<number, MeterConfig>();
  private want = new Map<number, MeterConfig>();
  private synced = false;
  readonly stats: MeterStats = { adds: 0, modifies: 0, deletes: 0, resyncs: 0, failures: 0 };

  constructor(
    private readonly sink: MeterSink,
    private readonly logger?: Logger,
  ) {}

  /** Forget what the switch holds (after a reconnect): the next prepare reads it again. */
  invalidate(): void {
    this.synced = false;
  }

  /** Before the flow bundle: add the new meters and modify the changed ones (`desired` as the switch reports meters). */
  async prepare(desired: readonly MeterConfig[]): Promise<{ messages: number }> {
    this.want = new Map(desired.map((m) => [m.meterId, m]));
    if (!this.synced) {
      const onSwitch = await this.sink.dumpMeters();
      this.installed = new Map(onSwitch.map((m) => [m.meterId, m]));
      this.synced = true;
      this.stats.resyncs++;
      this.logger?.info({ onSwitch: onSwitch.length, desired: desired.length }, 'read the meters on the switch');
    }
    const d = diffMeters(this.want, this.installed);
    const msgs = [...d.adds.map((m) => meterMod('add', m)), ...d.modifies.map((m) => meterMod('modify', m))];
    await this.send(msgs);
    for (const m of [...d.adds, ...d.modifies]) this.installed.set(m.meterId, m);
    this.stats.adds += d.adds.length;
    this.stats.modifies += d.modifies.length;
    return { messages: msgs.length };
  }

  /** After the flow bundle succeeded: delete the meters no flow names any more. */
  async prune(): Promise<{ messages: number }> {
    const { deletes } = diffMeters(this.want, this.installed);
    const msgs = deletes.map((id) => meterMod('delete', { flags: 0, meterId: id, bands: [] }));
    await this.send(msgs);
    for (const id of deletes) this.installed.delete(id);
    this.stats.deletes += deletes.length;
    return { messages: msgs.length };
  }

  private async send(msgs: MeterMod[]): Promise<void> {
    if (msgs.length === 0) return;
    try {
      await this.sink.meterMods(msgs);
    } catch (e) {
      // some may have been applied: read the switch again next time
      this.stats.failures++;
      this.synced = false;
      this.logger?.warn({ err: e }, 'meter mods failed; resyncing from the switch');
      throw e;
    }
  }
}
