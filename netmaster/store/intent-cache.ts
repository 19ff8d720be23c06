/**
 * A watch-fed copy of the intent objects (`/netloom/v1/cfg/`), consistent at the revision of the
 * last change it applied. It lets a create be checked without a read round trip: the commit is
 * guarded exactly as if the state had been read from etcd at that revision, so a stale copy can
 * only make the commit fail (then the caller takes the read path), never let a wrong write in.
 * It is an accelerator, never the source of truth.
 */
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { ObjectType } from '../model/schemas';
import { IntentState, type Needs, type StateData, type Stored } from '../model/state';
import type { EtcdKV, Guard } from './kv';
import type { Loaded } from './intent-store';
import { checkIntent } from './stored-values';
import { layout } from './layout';

interface Entry {
  config: unknown;
  oper: Record<string, unknown>;
  modRevision: string;
}

export class IntentCache {
  private readonly byType = new Map<string, Map<string, Entry>>();
  private rev = 0n;
  private ready = false;
  private stopWatch: (() => Promise<void>) | undefined;
  private stopped = false;
  private waiters: Array<{ rev: bigint; resolve: () => void }> = [];
  private restartTimer: Timer | undefined;

  constructor(
    private readonly kv: EtcdKV,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  get revision(): string {
    return this.rev.toString();
  }

  /** Load everything at one revision, then follow the watch from there. */
  async start(): Promise<void> {
    const root = `${layout.root}cfg/`;
    const { revision, kvs } = await this.kv.list(root);
    this.byType.clear();
    for (const kv of kvs) this.apply(kv.key, kv.value, kv.modRevision, false);
    this.rev = BigInt(revision);
    this.stopWatch = await this.kv.watch(
      root,
      revision,
      (e) => {
        this.apply(e.key, e.value, e.modRevision, e.type === 'delete');
        const r = BigInt(e.modRevision);
        if (r > this.rev) this.rev = r;
        this.wake();
      },
      (err) => {
        this.ready = false;
        this.log.warn({ err: err.message }, 'intent cache watch failed; reloading');
        this.scheduleRestart();
      },
    );
    this.ready = true;
    this.wake();
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    this.restartTimer = this.clock.after(
      500,
      () => {
        this.restartTimer = undefined;
        void (async () => {
          try {
            await this.stopWatch?.();
          } catch {
            // already gone
          }
          if (this.stopped) return;
          await this.start().catch(() => this.scheduleRestart());
        })();
      },
      { unref: true },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    this.restartTimer?.cancel();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    await this.stopWatch?.().catch(() => undefined);
  }

  private apply(key: string, value: string, modRevision: string, deleted: boolean): void {
    const rest = key.slice(`${layout.root}cfg/`.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return;
    const type = rest.slice(0, slash);
    const objKey = rest.slice(slash + 1);
    let m = this.byType.get(type);
    if (!m) this.byType.set(type, (m = new Map()));
    if (deleted) {
      m.delete(objKey);
      this.kv.badValues.clear(key);
      return;
    }
    // a value that cannot be served is absent here (and reported): checks see no such object
    const s = this.kv.badValues.take(key, () => checkIntent(type as ObjectType, objKey, value));
    if (s) m.set(objKey, { config: s.config, oper: s.oper, modRevision });
    else m.delete(objKey);
  }

  private wake(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.rev <= this.rev) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Resolve once changes up to `revision` are applied (or after `timeoutMs`; read-your-writes for the next request). */
  waitFor(revision: string, timeoutMs = 200): Promise<void> {
    const r = BigInt(revision);
    if (r <= this.rev || !this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.clock.after(timeoutMs, resolve, { unref: true });
      this.waiters.push({
        rev: r,
        resolve: () => {
          t.cancel();
          resolve();
        },
      });
    });
  }

  /** One object from the copy, with its revision (undefined when absent or not ready). */
  entry(type: ObjectType, key: string): { config: unknown; oper: Record<string, unknown>; modRevision: string } | undefined {
    return this.ready ? this.byType.get(type)?.get(key) : undefined;
  }

  /**
   * The state a check needs, from the copy, with the guards a commit based on it must carry.
   * Tags are taken as free (guarded `mod_revision == 0`). Undefined when the copy cannot answer
   * (not ready, or endpoint counts are needed).
   */
  load(needs: Needs): Loaded | undefined {
    if (!this.ready || needs.endpointCounts.length > 0) return undefined;
    const revision = this.rev.toString();
    const opers = new Map<string, Record<string, unknown>>();
    const keyRevisions = new Map<string, string>();
    const stored = (type: ObjectType, key: string, e: Entry): Stored<unknown> => {
      opers.set(layout.cfg(type, key), e.oper);
      return { obj: e.config, modRevision: e.modRevision, oper: e.oper };
    };
    const data: StateData = { ranges: [], keys: [], endpointCounts: new Map(), tagOwners: new Map() };
    for (const r of needs.ranges) {
      const items = new Map<string, Stored<unknown>>();
      for (const [k, e] of this.byType.get(r.type) ?? []) if (k.startsWith(r.prefix)) items.set(k, stored(r.type, k, e));
      data.ranges.push({ type: r.type, prefix: r.prefix, items });
    }
    for (const k of needs.keys) {
      const e = this.byType.get(k.type)?.get(k.key);
      keyRevisions.set(layout.cfg(k.type, k.key), e?.modRevision ?? '0');
      data.keys.push({ type: k.type, key: k.key, item: e ? stored(k.type, k.key, e) : undefined });
    }
    for (const t of needs.tags) {
      keyRevisions.set(layout.tag(t.encap, t.tag), '0');
      data.tagOwners.set(`${t.encap}:${t.tag}`, undefined);
    }
    const state = new IntentState(data);
    return {
      state,
      revision,
      opers,
      keyRevisions,
      guards(): Guard[] {
        const g: Guard[] = needs.ranges.map((r) => ({
          kind: 'rangeUnchangedSince' as const,
          prefix: layout.cfgPrefix(r.type) + r.prefix,
          revision,
        }));
        for (const [key, modRevision] of keyRevisions) g.push({ kind: 'modEquals', key, modRevision });
        for (const t of state.touched.values()) g.push({ kind: 'modEquals', key: layout.cfg(t.type, t.key), modRevision: t.modRevision });
        return g;
      },
    };
  }
}
