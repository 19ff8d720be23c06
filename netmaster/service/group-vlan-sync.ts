/**
 * The leader's sync of groups' own VLANs (model/group-tag.ts). A group created or updated takes or
 * gives back its VLAN in its own commit; this loop covers the groups that existed when the global
 * mode changed: when networkInfraType becomes `aci` each group of a VLAN network gets one, when it
 * leaves `aci` each gives its one back. It runs at start, on every change to the global object (a
 * group written meanwhile saw the mode in its own commit), after a failure (backoff) and every
 * `resyncMs`; each group is one guarded commit that re-checks what it read
 * (NetmasterService.syncGroupTag), so a restart or a new leader simply goes on, and two leaders in
 * a handover cannot both allocate for one group.
 */
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { groupTagChangeFor, type GroupTagChange } from '../model/group-tag';
import type { EndpointGroup, Global, Network } from '../model/schemas';
import type { NetmasterService } from './service';

/** Which groups' VLANs must change (pure): the groups by key, with their stored oper. */
export function groupVlanChanges(
  global: Pick<Global, 'networkInfraType'>,
  networks: ReadonlyArray<{ key: string; config: Pick<Network, 'encap'> }>,
  groups: ReadonlyArray<{
    key: string;
    config: Pick<EndpointGroup, 'tenantName' | 'networkName'>;
    oper: Readonly<Record<string, unknown>>;
  }>,
): Array<{ key: string; change: Exclude<GroupTagChange, undefined> }> {
  const nets = new Map(networks.map((n) => [n.key, n.config]));
  return groups.flatMap((g) => {
    const change = groupTagChangeFor(global, nets.get(`${g.config.tenantName}:${g.config.networkName}`), g.oper);
    return change ? [{ key: g.key, change }] : [];
  });
}

export interface GroupVlanSyncOptions {
  service: Pick<NetmasterService, 'list' | 'watch' | 'syncGroupTag'>;
  logger: Logger;
  clock?: Clock;
  /** a full pass at least this often (default 60 s) */
  resyncMs?: number;
}

/** One pass: every group that needs a change gets it; true when all went through. */
export async function syncGroupVlans(opts: GroupVlanSyncOptions): Promise<boolean> {
  const svc = opts.service;
  const [globals, networks, groups] = await Promise.all([svc.list('global'), svc.list('network'), svc.list('endpointGroup')]);
  const global = globals[0]?.config;
  if (!global) return true;
  let ok = true;
  for (const { key, change } of groupVlanChanges(global, networks, groups)) {
    try {
      const done = await svc.syncGroupTag(key);
      if (done) opts.logger.info({ group: key, change: done }, 'endpoint group VLAN synced to the fabric mode');
    } catch (e) {
      ok = false;
      opts.logger.warn({ group: key, change, err: errorMessage(e) }, 'endpoint group VLAN: cannot sync to the fabric mode; retried');
    }
  }
  return ok;
}

/** The leader's task: sync now, on every relevant change, after failures and periodically, until `signal`. */
export async function runGroupVlanSync(opts: GroupVlanSyncOptions, signal: AbortSignal): Promise<void> {
  const clock = opts.clock ?? systemClock;
  let dirty = true;
  let wake: (() => void) | undefined;
  const stopWatch = await opts.service.watch(
    '0',
    (e) => {
      // the mode lives in the global object; groups written meanwhile took care of their own VLAN
      if (e.kind !== 'config' || e.type !== 'global') return;
      dirty = true;
      wake?.();
    },
    (err) => opts.logger.warn({ err: errorMessage(err) }, 'endpoint group VLAN sync: watch failed; resyncing on a timer'),
  );
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: 0.2 }, { clock });
  try {
    while (!signal.aborted) {
      dirty = false;
      const ok = await syncGroupVlans(opts).catch((e: unknown) => {
        opts.logger.warn({ err: errorMessage(e) }, 'endpoint group VLAN sync pass failed');
        return false;
      });
      if (ok) backoff.reset();
      if (dirty) continue;
      const ac = new AbortController();
      const onAbort = (): void => ac.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      wake = () => ac.abort();
      // a change wakes the wait early; a failure waits its backoff first
      await clock.sleep(ok ? (opts.resyncMs ?? 60_000) : backoff.next(), ok ? ac.signal : signal);
      signal.removeEventListener('abort', onAbort);
      wake = undefined;
    }
  } finally {
    await stopWatch();
  }
}
