/**
 * The ACI gateway for one leader term (runWhileLeader): when the global networkInfraType is
 * `aci` and the aciGw object exists, it builds the desired trees from the intent and reconciles
 * the APIC; again on every intent change (watch), after a failure (backoff) and every
 * `resyncMs` (the APIC may have been changed by hand). Its view (per-tenant sync state) goes to
 * etcd whenever it changes (sync-store.ts), where every replica's inspect reads it.
 */
import type { Registry } from 'prom-client';
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { tagInUse } from '../model/network-tag';
import { groupTagOf } from '../model/group-tag';
import { missingGroupTagReason, vlanPoolUse } from '../model/vlan-pool';
import type { NetmasterService } from '../service/service';
import { desiredTrees, type AciIntent } from './desired-tree';
import { AciGateway, aciGatewayMetrics, type AciGatewayMetrics } from './gateway';
import { ApicSession, type ApicAuth } from './session';
import { AciSyncStore } from './sync-store';
import type { AciSyncView } from './sync-status';

export type ApicConnection = ApicAuth & {
  url: string;
  /** CA of the APIC's certificate (HTTPS) */
  ca?: Buffer;
};

export interface AciRunOptions {
  service: Pick<NetmasterService, 'list' | 'watch' | 'kv'>;
  apic: ApicConnection;
  /** this replica's id, shown in inspect as the one running the gateway */
  replica?: string;
  logger: Logger;
  registry?: Registry;
  clock?: Clock;
  /** a full pass at least this often (default 60 s) */
  resyncMs?: number;
}

/** The intent kinds the desired trees are made of: a change to any of them means another pass. */
const RELEVANT = new Set(['global', 'aciGw', 'network', 'endpointGroup', 'policy', 'rule', 'appProfile', 'extContractsGroup']);

const metricsOf = new WeakMap<Registry, AciGatewayMetrics>();

/** Read the intent the gateway needs; undefined when the fabric is not ACI or aciGw is missing. */
export async function readAciIntent(svc: Pick<NetmasterService, 'list'>): Promise<AciIntent | undefined> {
  const [globals, gws] = await Promise.all([svc.list('global'), svc.list('aciGw')]);
  const gw = gws[0]?.config;
  if (globals[0]?.config.networkInfraType !== 'aci' || !gw) return undefined;
  const [networks, groups, rules, appProfiles, ecgs] = await Promise.all([
    svc.list('network'),
    svc.list('endpointGroup'),
    svc.list('rule'),
    svc.list('appProfile'),
    svc.list('extContractsGroup'),
  ]);
  const global = globals[0].config;
  return {
    gw,
    missingVlanReason: missingGroupTagReason(global, vlanPoolUse(global, networks, groups)),
    networks: networks.map((n) => ({ network: n.config, vlan: n.config.encap === 'vlan' ? tagInUse(n.config, n.oper) : undefined })),
    groups: groups.map((g) => ({ group: g.config, vlan: groupTagOf(g.oper) })),
    rules: rules.map((r) => r.config),
    appProfiles: appProfiles.map((a) => a.config),
    extContractsGroups: ecgs.map((c) => c.config),
  };
}

export class AciSyncLoop {
  private readonly gateway: AciGateway;
  private readonly store: AciSyncStore;
  private readonly clock: Clock;
  private state = 'starting';
  private wake: (() => void) | undefined;
  private dirty = true;
  /** the last pass failed for want of intent only (AciGateway.waitsOnIntentOnly) */
  private failedOnIntentOnly = false;

  constructor(private readonly opts: AciRunOptions) {
    this.clock = opts.clock ?? systemClock;
    let metrics = opts.registry ? metricsOf.get(opts.registry) : undefined;
    if (!metrics) {
      metrics = aciGatewayMetrics(opts.registry);
      if (opts.registry) metricsOf.set(opts.registry, metrics);
    }
    const session = new ApicSession({ ...opts.apic, clock: this.clock, logger: opts.logger });
    this.store = new AciSyncStore(opts.service.kv, opts.logger);
    this.gateway = new AciGateway(session, { logger: opts.logger, clock: this.clock, metrics, onChange: () => void this.publish() });
  }

  view(): AciSyncView {
    return {
      apic: this.opts.apic.url,
      gateway: this.state,
      ...(this.opts.replica !== undefined ? { replica: this.opts.replica } : {}),
      tenants: Object.fromEntries(this.gateway.status),
    };
  }

  /** Store the view (only what changed is written). */
  publish(): Promise<void> {
    return this.store.publish(this.view());
  }

  /** Go on from what the previous leader stored: its tenants' states and times. */
  async resume(): Promise<void> {
    const stored = await this.store.load().catch((e: unknown) => {
      this.opts.logger.warn({ err: errorMessage(e) }, 'ACI gateway: cannot read the stored sync state; starting afresh');
      return undefined;
    });
    for (const [tenant, sync] of Object.entries(stored?.tenants ?? {})) this.gateway.status.set(tenant, sync);
  }

  private setState(state: string): void {
    if (state === this.state) return;
    this.state = state;
    void this.publish();
  }

  /** Another pass soon (an intent change). */
  poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** One pass; true when everything is in sync (or there is nothing to do). */
  async pass(): Promise<boolean> {
    this.failedOnIntentOnly = false;
    let intent: AciIntent | undefined;
    try {
      intent = await readAciIntent(this.opts.service);
    } catch (e) {
      this.setState(`cannot read the intent: ${errorMessage(e)}`);
      return false;
    }
    if (!intent) {
      // nothing is sent to the APIC (what it holds stays); no tenant is being synced
      this.gateway.status.clear();
      this.setState('not configured (global networkInfraType aci and the aciGw object are needed)');
      return true;
    }
    let trees;
    try {
      trees = desiredTrees(intent);
    } catch (e) {
      this.setState(`aciGw: ${errorMessage(e)}`);
      return true; // nothing to retry until the settings change
    }
    this.setState('running');
    const ok = await this.gateway.sync(trees);
    this.failedOnIntentOnly = this.gateway.waitsOnIntentOnly;
    return ok;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    signal.addEventListener('abort', () => this.store.stop(), { once: true });
    await this.resume();
    const stopWatch = await this.opts.service.watch(
      '0',
      (e) => {
        if (e.kind === 'config' && RELEVANT.has(e.type)) this.poke();
      },
      (err) => {
        this.opts.logger.warn({ err: errorMessage(err) }, 'ACI gateway: intent watch failed; resyncing on a timer');
      },
    );
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: 0.2 }, { clock: this.clock });
    try {
      while (!signal.aborted) {
        this.dirty = false;
        const ok = await this.pass().catch((e: unknown) => {
          this.opts.logger.error({ err: errorMessage(e) }, 'ACI gateway pass failed');
          return false;
        });
        await this.publish();
        if (ok) backoff.reset();
        const waitMs = ok ? (this.opts.resyncMs ?? 60_000) : backoff.next();
        // a pass that only waited on the intent (a group VLAN being allocated) is woken by the
        // change that completes it: else the agents would run on the new VLAN for a backoff
        // before the APIC binds it (docs/aci.md, "End to end in a lab")
        const wakeable = ok || this.failedOnIntentOnly;
        if (this.dirty) continue;
        const ac = new AbortController();
        const onAbort = (): void => ac.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => ac.abort();
        // an intent change wakes the wait early; an APIC failure waits its backoff first
        await this.clock.sleep(waitMs, wakeable ? ac.signal : signal);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
      }
    } finally {
      await stopWatch();
    }
  }
}

/** The leader's task: run the loop while this replica leads. */
export async function runAciGateway(opts: AciRunOptions, signal: AbortSignal): Promise<void> {
  const loop = new AciSyncLoop(opts);
  opts.logger.info({ apic: opts.apic.url }, 'ACI gateway running (this replica leads)');
  try {
    await loop.run(signal);
  } finally {
    opts.logger.info('ACI gateway stopped');
  }
}
