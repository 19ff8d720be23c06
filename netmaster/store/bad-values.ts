/**
 * The stored values this netmaster could not serve and skipped (stored-values.ts says why), by
 * key: each is logged once (again only when its reason changes), counted by kind in the
 * `netmaster_invalid_stored_objects` gauge, and listed for the consistency check. A key leaves
 * the list when a reader sees it valid again or deleted. Shared by every reader of one etcd
 * client (it hangs off EtcdKV), so the REST lists, the intent copy and the agent side's cluster
 * copy report a key once between them.
 */
import { Gauge, type Registry } from 'prom-client';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { BadStoredValue, type StoredKind } from './stored-values';

export interface BadValue {
  key: string;
  kind: StoredKind;
  reason: string;
}

export class BadValues {
  private readonly byKey = new Map<string, BadValue>();
  /** every report, including repeats (for tests and the log's rate) */
  reports = 0;

  constructor(private logger: Logger | undefined = undefined) {}

  /** Where the once-per-key warnings go (netmaster sets its logger when it builds the client). */
  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  /** `key` was skipped because of `reason`. */
  report(key: string, kind: StoredKind, reason: string): void {
    this.reports++;
    const before = this.byKey.get(key);
    if (before && before.reason === reason) return;
    this.byKey.set(key, { key, kind, reason });
    this.logger?.warn({ key, kind, reason }, 'skipped a stored value netmaster cannot serve (see the consistency check)');
  }

  /** `key` was read valid, or deleted: no longer bad. */
  clear(key: string): void {
    if (this.byKey.delete(key)) this.logger?.info({ key }, 'a stored value reported bad is valid or gone now');
  }

  /**
   * The value `read` makes of what is stored under `key`, or undefined when it throws
   * BadStoredValue (then reported). A good read clears the key.
   */
  take<T>(key: string, read: () => T): T | undefined {
    try {
      const v = read();
      if (this.byKey.size > 0) this.clear(key);
      return v;
    } catch (e) {
      if (!(e instanceof BadStoredValue)) throw e;
      this.report(e.key, e.kind, e.reason);
      return undefined;
    }
  }

  /**
   * Like `take`, for a value that must be served (a get): a bad one is reported and answered
   * with DECODE_ERROR naming its key and why.
   */
  need<T>(key: string, read: () => T): T {
    try {
      const v = read();
      if (this.byKey.size > 0) this.clear(key);
      return v;
    } catch (e) {
      if (!(e instanceof BadStoredValue)) throw e;
      this.report(e.key, e.kind, e.reason);
      throw new NetloomError('DECODE_ERROR', e.message, { details: { key: e.key, reason: e.reason } });
    }
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  list(): BadValue[] {
    return [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  countsByKind(): Map<StoredKind, number> {
    const out = new Map<StoredKind, number>();
    for (const v of this.byKey.values()) out.set(v.kind, (out.get(v.kind) ?? 0) + 1);
    return out;
  }
}

/** `netmaster_invalid_stored_objects{type}`: the keys skipped now, by kind. */
export function registerBadValuesMetric(registry: Registry, bad: BadValues): void {
  new Gauge({
    name: 'netmaster_invalid_stored_objects',
    help: 'Stored values netmaster skipped because it cannot serve them (too big, not JSON, fails the schema), by type',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of bad.countsByKind()) this.set({ type }, n);
    },
  });
}
