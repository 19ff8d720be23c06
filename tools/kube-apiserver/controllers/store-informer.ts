/**
 * One resource kept in memory from the store for the in-process controllers: a list, then a
 * watch from its revision; when the watch ends (etcd restarted, compaction) a relist after the
 * backoff, reporting what changed meanwhile. `onChange` hears every change in order, with the
 * object before it.
 */
import { Backoff } from '../../../lib/backoff';
import { errorMessage } from '../../../lib/errors';
import type { Logger } from '../../../lib/logger';
import { isObject, jsonEqual, type JsonObject } from '../json';
import type { ResourceDef } from '../resources';
import type { ObjectStore } from '../store';

export type Change = { type: 'put'; object: JsonObject; old: JsonObject | undefined } | { type: 'delete'; object: JsonObject };

export const objectKey = (o: JsonObject): string => {
  const m = isObject(o.metadata) ? o.metadata : {};
  return `${String(m.namespace ?? '')}/${String(m.name ?? '')}`;
};

export class StoreInformer {
  readonly objects = new Map<string, JsonObject>();
  private stopWatch: (() => Promise<void>) | undefined;
  private stopped = false;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5000, jitter: 0.2 });
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly resource: ResourceDef,
    private readonly onChange: (c: Change) => void,
    private readonly logger?: Logger,
  ) {}

  /** Resolves after the first list is in (and reported). */
  async start(): Promise<void> {
    await this.sync();
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const { objects, revision } = await this.store.listAll(this.resource, undefined);
    const seen = new Set<string>();
    for (const o of objects) {
      const k = objectKey(o);
      seen.add(k);
      const old = this.objects.get(k);
      if (old && jsonEqual(old, o)) continue;
      this.objects.set(k, o);
      this.onChange({ type: 'put', object: o, old });
    }
    for (const [k, o] of [...this.objects]) {
      if (seen.has(k)) continue;
      this.objects.delete(k);
      this.onChange({ type: 'delete', object: o });
    }
    this.stopWatch = await this.store.watch(
      this.resource,
      undefined,
      revision,
      (events) => {
        this.backoff.reset();
        for (const e of events) {
          const k = objectKey(e.object);
          if (e.type === 'delete') {
            const old = this.objects.get(k);
            this.objects.delete(k);
            if (old) this.onChange({ type: 'delete', object: e.object });
          } else {
            const old = this.objects.get(k);
            this.objects.set(k, e.object);
            this.onChange({ type: 'put', object: e.object, old });
          }
        }
      },
      (err) => this.relistLater(err),
    );
  }

  private relistLater(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.logger?.warn({ resource: this.resource.plural, err: errorMessage(err), retryInMs: delay }, 'controller watch ended; relisting');
    this.retryTimer = setTimeout(() => {
      this.sync().catch((e: unknown) => this.relistLater(e));
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.stopWatch?.().catch(() => undefined);
  }
}
