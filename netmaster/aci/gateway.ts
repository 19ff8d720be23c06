/**
 * The ACI gateway's reconciliation: for each tenant, read what the APIC holds that netloom owns
 * (annotated objects only), diff it against the desired tree, send only the difference
 * (diff.ts), and remove tenants netloom owns that no longer have app profiles. Each tenant's
 * result is kept for inspect (sync-status.ts); one tenant's failure does not stop the others.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { ApicRequestError } from './apic-error';
import type { TenantTree } from './desired-tree';
import { diffTree, type TreeDiff } from './diff';
import { OWNER_ANNOTATION, type FlatTree } from './mo';
import type { ApicSession } from './session';
import type { SyncState, TenantSync } from './sync-status';

export interface AciGatewayMetrics {
  syncs: Counter<'result'>;
  sent: Counter<'op'>;
  tenants: Gauge<'state'>;
}

export function aciGatewayMetrics(registry?: Registry): AciGatewayMetrics {
  const registers = registry ? [registry] : [];
  return {
    syncs: new Counter({
      name: 'netloom_aci_tenant_syncs_total',
      help: 'ACI tenant syncs by result (ok, error)',
      labelNames: ['result'],
      registers,
    }),
    sent: new Counter({
      name: 'netloom_aci_objects_sent_total',
      help: 'APIC subtrees posted and deleted by the ACI gateway',
      labelNames: ['op'],
      registers,
    }),
    tenants: new Gauge({ name: 'netloom_aci_tenants', help: 'tenants of the ACI gateway by sync state', labelNames: ['state'], registers }),
  };
}

type WireObj = Record<string, { attributes?: Record<string, string> }>;

/**
 * Whether the APIC said no (to what was sent, or to who sent it: a wrong password, a signature
 * the certificate does not verify; an expired token never gets here, the session logs in again)
 * as opposed to being unreachable or unavailable.
 */
export function isRefusal(e: unknown): boolean {
  return e instanceof ApicRequestError && !e.retryable;
}

export class AciGateway {
  readonly status = new Map<string, TenantSync>();
  /**
   * The last pass failed only for want of intent (a group's VLAN not allocated yet, settings the
   * intent must change): nothing the APIC did, so the intent change that completes it, not a
   * backoff, is what the next pass waits for.
   */
  waitsOnIntentOnly = false;
  private readonly clock: Clock;

  constructor(
    private readonly session: ApicSession,
    private readonly opts: {
      logger?: Logger;
      clock?: Clock;
      metrics?: AciGatewayMetrics;
      /** a tenant's sync state changed (or went): publish it */
      onChange?: () => void;
    } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  private flat(imdata: unknown[]): FlatTree {
    const t: FlatTree = new Map();
    for (const item of imdata as WireObj[]) {
      const [cls, inner] = Object.entries(item)[0] ?? [];
      const attrs = inner?.attributes;
      if (!cls || !attrs?.dn || attrs.annotation !== OWNER_ANNOTATION) continue;
      const { dn, status: _s, ...rest } = attrs;
      t.set(dn, { cls, attrs: rest });
    }
    return t;
  }

  /** The objects netloom owns under one tenant, as the APIC holds them. */
  async readOwned(tenant: string): Promise<FlatTree> {
    return this.flat(await this.session.get(`/api/mo/uni/tn-${tenant}.json?query-target=subtree`));
  }

  /** Tenants netloom owns on the APIC. */
  async ownedTenants(): Promise<string[]> {
    return [...this.flat(await this.session.get('/api/class/fvTenant.json')).values()]
      .map((m) => m.attrs.name ?? '')
      .filter((n) => n !== '');
  }

  /** Bring one tenant to `desired`; returns what was sent. */
  async syncTenant(tenant: string, desired: FlatTree): Promise<TreeDiff> {
    const d = diffTree(desired, await this.readOwned(tenant));
    for (const p of d.posts) await this.session.post(`/api/mo/${p.dn}.json`, p.body);
    for (const dn of d.deletes) await this.session.delete(`/api/mo/${dn}.json`);
    this.opts.metrics?.sent.inc({ op: 'post' }, d.posts.length);
    this.opts.metrics?.sent.inc({ op: 'delete' }, d.deletes.length);
    if (d.posts.length + d.deletes.length > 0)
      this.opts.logger?.info({ tenant, posts: d.posts.map((p) => p.dn), deletes: d.deletes }, 'APIC tenant updated');
    return d;
  }

  private set(tenant: string, state: SyncState, extra: Partial<TenantSync> = {}): void {
    const prev = this.status.get(tenant);
    const same = prev?.state === state && prev.message === extra.message;
    const now = new Date(this.clock.now()).toISOString();
    const since = same && prev ? prev.since : now;
    // a failure is remembered past the recovery; the same failure again keeps its first time
    const lastError =
      state !== 'in sync' && extra.message !== undefined
        ? { message: extra.message, at: prev?.lastError?.message === extra.message ? prev.lastError.at : now }
        : prev?.lastError;
    this.status.set(tenant, {
      ...(prev?.posted !== undefined ? { posted: prev.posted, deleted: prev.deleted } : {}),
      state,
      since,
      ...(lastError ? { lastError } : {}),
      ...extra,
    });
    this.opts.onChange?.();
  }

  /**
   * One pass over every tenant: those with a desired tree are synced, those with an error are
   * reported (nothing sent for them), owned tenants without app profiles are deleted. Returns
   * whether every tenant is in sync.
   */
  async sync(trees: ReadonlyMap<string, TenantTree>): Promise<boolean> {
    let ok = true;
    let apicFailed = false;
    for (const [tenant, t] of trees) {
      if (t.error) {
        // UNAVAILABLE: the intent is not complete yet (a group's VLAN being allocated): pending, retried
        this.set(tenant, t.error.code === 'UNAVAILABLE' ? 'pending' : 'error', { message: t.error.message });
        ok = false;
        continue;
      }
      if (this.status.get(tenant)?.state !== 'in sync') this.set(tenant, 'pending', { message: this.status.get(tenant)?.message });
      try {
        const d = await this.syncTenant(tenant, t.tree);
        const sent = d.posts.length + d.deletes.length;
        this.set(tenant, 'in sync', sent > 0 ? { posted: d.posts.length, deleted: d.deletes.length } : {});
        this.opts.metrics?.syncs.inc({ result: 'ok' });
      } catch (e) {
        ok = false;
        apicFailed = true;
        this.opts.metrics?.syncs.inc({ result: 'error' });
        // refused: an error until the intent changes; unreachable: pending, retried
        this.set(tenant, isRefusal(e) ? 'error' : 'pending', { message: errorMessage(e) });
        this.opts.logger?.warn({ tenant, err: errorMessage(e) }, 'APIC tenant sync failed');
      }
    }
    try {
      for (const tenant of await this.ownedTenants()) {
        if (trees.has(tenant)) continue;
        await this.session.delete(`/api/mo/uni/tn-${tenant}.json`);
        this.opts.metrics?.sent.inc({ op: 'delete' });
        this.status.delete(tenant);
        this.opts.onChange?.();
        this.opts.logger?.info({ tenant }, 'APIC tenant removed (no app profile left)');
      }
    } catch (e) {
      ok = false;
      apicFailed = true;
      this.opts.logger?.warn({ err: errorMessage(e) }, 'APIC: removing tenants without app profiles failed');
    }
    for (const tenant of this.status.keys()) if (!trees.has(tenant)) this.status.delete(tenant);
    this.waitsOnIntentOnly = !ok && !apicFailed;
    this.opts.onChange?.();
    for (const s of ['in sync', 'pending', 'error'] as const)
      this.opts.metrics?.tenants.set({ state: s }, [...this.status.values()].filter((x) => x.state === s).length);
    return ok;
  }
}
