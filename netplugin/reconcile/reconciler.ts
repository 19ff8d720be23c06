/**
 * The one place where desired flows meet the switch. It keeps what it installed, applies each new
 * desired set as a diff in one atomic bundle, takes over a switch after an agent or OVS restart
 * without flushing it, and falls back to a full resync when a bundle fails.
 */
import type { FlowMod } from '../../ovs/openflow/messages';
import type { Logger } from '../../lib/logger';
import { nextGeneration, objectHash, parseCookie, type Feature } from './cookie';
import { DesiredFlow } from './flow-key';
import { diffFlows, diffMessages, indexFlows, InstalledFlow, takeoverMessages } from './flow-diff';

/** What the reconciler needs from an OpenFlow connection. */
export interface FlowSink {
  dumpFlows(): Promise<InstalledFlow[]>;
  /** apply all messages atomically, or none (OpenFlow bundle) */
  bundle(msgs: FlowMod[]): Promise<void>;
}

export interface ReconcileStats {
  adds: number;
  deletes: number;
  bundles: number;
  takeovers: number;
  failures: number;
}

export class FlowReconciler {
  private installed = new Map<string, DesiredFlow>();
  /** `feature/hash` -> object of the installed flows, built when first asked after an apply */
  private objects: Map<string, string> | undefined;
  private generation = 0;
  private synced = false;
  readonly stats: ReconcileStats = { adds: 0, deletes: 0, bundles: 0, takeovers: 0, failures: 0 };

  constructor(
    private readonly sink: FlowSink,
    private readonly logger?: Logger,
  ) {}

  get currentGeneration(): number {
    return this.generation;
  }

  /** The flows the switch holds as of the last successful apply (none before the first). */
  installedFlows(): Iterable<DesiredFlow> {
    return this.installed.values();
  }

  /**
   * The object an installed flow of `feature` serves, from the hash its cookie carries (a trace
   * sees cookies only). Undefined when no installed flow has it.
   */
  objectOf(feature: Feature, hash: number): string | undefined {
    if (!this.objects) {
      this.objects = new Map();
      for (const f of this.installed.values()) if (f.object) this.objects.set(`${f.feature}/${objectHash(f.object)}`, f.object);
    }
    return this.objects.get(`${feature}/${hash}`);
  }

  /** Forget what the switch holds (after a reconnect): the next apply takes over again. */
  invalidate(): void {
    this.synced = false;
  }

  /** Make the switch hold exactly `desired`. */
  async apply(desired: readonly DesiredFlow[]): Promise<{ messages: number }> {
    const want = indexFlows(desired);
    if (!this.synced) return this.takeover(want);
    const diff = diffFlows(want, this.installed);
    if (diff.upserts.length === 0 && diff.deletes.length === 0) return { messages: 0 };
    const msgs = diffMessages(diff, this.generation);
    try {
      await this.sink.bundle(msgs);
    } catch (e) {
      this.stats.failures++;
      this.logger?.warn({ err: e }, 'flow bundle failed; resyncing from the switch');
      this.synced = false;
      throw e;
    }
    this.stats.bundles++;
    this.stats.adds += diff.upserts.length;
    this.stats.deletes += diff.deletes.length;
    this.installed = want;
    this.objects = undefined;
    return { messages: msgs.length };
  }

  private async takeover(want: Map<string, DesiredFlow>): Promise<{ messages: number }> {
    const onSwitch = await this.sink.dumpFlows();
    const seen = onSwitch
      .map((f) => parseCookie(f.cookie))
      .filter((c) => c.ours)
      .map((c) => c.generation);
    this.generation = nextGeneration(seen.length > 0 ? seen : [this.generation - 1]);
    const msgs = takeoverMessages(want, this.generation, onSwitch);
    await this.sink.bundle(msgs);
    this.stats.takeovers++;
    this.stats.bundles++;
    this.stats.adds += want.size;
    this.installed = want;
    this.objects = undefined;
    this.synced = true;
    this.logger?.info({ generation: this.generation, flows: want.size, onSwitch: onSwitch.length }, 'took over the switch');
    return { messages: msgs.length };
  }
}
