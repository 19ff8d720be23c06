/**
 * The gateway's sync view in etcd (store/aci-layout.ts): the leader publishes it, writing only
 * the keys whose value changed since what it last wrote or read (a retry that ends as the last
 * one did writes nothing); every replica's inspect reads it back.
 */
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { aciLayout } from '../store/aci-layout';
import type { EtcdKV, WriteOp } from '../store/kv';
import type { AciGatewayState, AciSyncView, TenantSync } from './sync-status';

/** key -> JSON value */
export type StoredSync = ReadonlyMap<string, string>;

/** The keys and values a view is stored as. */
export function syncKeys(view: AciSyncView): Map<string, string> {
  const { tenants, ...gateway } = view;
  const out = new Map<string, string>([[aciLayout.gateway, JSON.stringify(gateway)]]);
  for (const [tenant, sync] of Object.entries(tenants)) out.set(aciLayout.tenantSync(tenant), JSON.stringify(sync));
  return out;
}

/** The writes that turn what is stored into `view`: changed or new keys put, keys of tenants gone deleted. */
export function syncWrites(view: AciSyncView, stored: StoredSync): WriteOp[] {
  const want = syncKeys(view);
  const writes: WriteOp[] = [];
  for (const [key, value] of want) if (stored.get(key) !== value) writes.push({ kind: 'put', key, value });
  for (const key of stored.keys()) if (!want.has(key)) writes.push({ kind: 'delete', key });
  return writes;
}

/** A stored value, undefined when it is not JSON (inspect shows the rest rather than failing). */
function parsed<T>(value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** The view out of stored keys (undefined when no gateway ever wrote one). */
export function viewOf(stored: StoredSync): AciSyncView | undefined {
  const gateway = parsed<AciGatewayState>(stored.get(aciLayout.gateway));
  if (gateway === undefined) return undefined;
  const tenants: Record<string, TenantSync> = {};
  for (const [key, value] of stored) {
    const sync = key.startsWith(aciLayout.tenantSyncPrefix) ? parsed<TenantSync>(value) : undefined;
    if (sync) tenants[key.slice(aciLayout.tenantSyncPrefix.length)] = sync;
  }
  return { ...gateway, tenants };
}

type KvReads = Pick<EtcdKV, 'list' | 'get'>;

async function readStored(kv: KvReads): Promise<Map<string, string>> {
  const { kvs } = await kv.list(aciLayout.root);
  return new Map(kvs.map((e) => [e.key, e.value]));
}

/** What inspect shows on any replica: the view the leader last published. */
export async function readAciSync(kv: KvReads): Promise<AciSyncView | undefined> {
  return viewOf(await readStored(kv));
}

/** One tenant's sync, for an app profile's or a group's inspect. */
export async function readTenantSync(kv: KvReads, tenant: string): Promise<TenantSync | undefined> {
  return parsed<TenantSync>((await kv.get(aciLayout.tenantSync(tenant)))?.value);
}

/** The leader's writer: serialized publishes, each sending only what changed. */
export class AciSyncStore {
  private stored = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly kv: Pick<EtcdKV, 'list' | 'get' | 'commit'>,
    private readonly logger?: Logger,
  ) {}

  /** What a previous leader published (the new one goes on from it). */
  async load(): Promise<AciSyncView | undefined> {
    this.stored = await readStored(this.kv);
    return viewOf(this.stored);
  }

  /**
   * No more writes: this replica no longer leads (a pass still running must not overwrite what
   * the new leader stores).
   */
  stop(): void {
    this.stopped = true;
  }

  /** Publish `view` after the publishes before it; a failed write is retried by the next publish. */
  publish(view: AciSyncView): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      const writes = syncWrites(view, this.stored);
      if (writes.length === 0) return;
      try {
        await this.kv.commit([], writes);
        for (const w of writes) {
          if (w.kind === 'put') this.stored.set(w.key, w.value);
          else if (w.kind === 'delete') this.stored.delete(w.key);
        }
      } catch (e) {
        this.logger?.warn({ err: errorMessage(e) }, 'ACI gateway: cannot store the sync state (inspect shows the previous one)');
      }
    });
    return this.queue;
  }
}
