/**
 * `netplugin --docker-networks` (Contiv's docker mode): the agent keeps, in its host's dockerd, one
 * Docker network `NETWORK/TENANT` per netloom network (any host may use any network), so that
 * `docker run --network db/blue` works with no `docker network create`. Each is made with the
 * netloom network and IPAM drivers and the full binding (driver and IPAM options, the netloom
 * subnet and gateway) and carries the label `io.netloom.managed=netplugin`: only networks with
 * that label are ever removed (when their netloom network is gone, or was made again with another
 * subnet), so a user's own networks are left alone.
 *
 * Level-triggered: every `intervalMs` the agent lists netloom's networks (ListNetworks) and its
 * dockerd's managed networks and applies the difference (`planDockerNetworks`, pure). dockerd not
 * running yet, or a network still in use, is simply retried on the next round.
 */
import type { Clock } from '../../lib/clock';
import { systemClock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { NetworkCatalog } from '../agent/fabric';
import type { Network } from '../state/host-state';
import type { DockerEngineClient, DockerNetwork, DockerNetworkCreate } from './engine-client';

export const MANAGED_LABEL = 'io.netloom.managed';
export const MANAGED_BY = 'netplugin';
/** `tenant:network` of the netloom network a managed Docker network stands for */
export const NETWORK_LABEL = 'io.netloom.network';
/** its subnet when made (a netloom network made again with another subnet means a new Docker network) */
export const SUBNET_LABEL = 'io.netloom.subnet';
/** the network and IPAM driver name (the plugin socket's file name) */
export const DRIVER = 'netloom';

/** The Docker network name of a netloom network, as Contiv named them: `NETWORK/TENANT`. */
export function dockerNetworkName(n: Pick<Network, 'tenant' | 'name'>): string {
  return `${n.name}/${n.tenant}`;
}

/** The Docker networks the host should have (pure): one per netloom network with an IPv4 subnet, infra networks aside. */
export function wantedDockerNetworks(networks: readonly Network[]): DockerNetworkCreate[] {
  return networks
    .filter((n) => n.subnet !== '' && n.nwType !== 'infra')
    .map((n) => {
      const binding = { tenant: n.tenant, network: n.name };
      return {
        Name: dockerNetworkName(n),
        Driver: DRIVER,
        CheckDuplicate: true,
        Options: { ...binding },
        IPAM: { Driver: DRIVER, Options: { ...binding }, Config: [{ Subnet: n.subnet, ...(n.gateway ? { Gateway: n.gateway } : {}) }] },
        Labels: { [MANAGED_LABEL]: MANAGED_BY, [NETWORK_LABEL]: n.key, [SUBNET_LABEL]: n.subnet },
      };
    });
}

export interface DockerNetworkPlan {
  create: DockerNetworkCreate[];
  /** managed networks to remove (before the creates: a network made again keeps its name) */
  remove: DockerNetwork[];
}

function sameNetwork(want: DockerNetworkCreate, have: DockerNetwork): boolean {
  const l = have.Labels ?? {};
  return have.Name === want.Name && l[NETWORK_LABEL] === want.Labels[NETWORK_LABEL] && l[SUBNET_LABEL] === want.Labels[SUBNET_LABEL];
}

/** What to change so that the managed networks `existing` are `wanted` (pure). Unmanaged networks are never touched. */
export function planDockerNetworks(wanted: readonly DockerNetworkCreate[], existing: readonly DockerNetwork[]): DockerNetworkPlan {
  const managed = existing.filter((n) => n.Labels?.[MANAGED_LABEL] === MANAGED_BY);
  const remove = managed.filter((have) => !wanted.some((want) => sameNetwork(want, have)));
  const create = wanted.filter((want) => !managed.some((have) => sameNetwork(want, have)));
  return { create, remove };
}

/** The part of the Engine API the reconciler uses (a fake in unit tests). */
export type DockerNetworksApi = Pick<DockerEngineClient, 'socketPath' | 'listNetworks' | 'createNetwork' | 'removeNetwork'>;

export interface DockerNetworkReconcilerOptions {
  catalog: NetworkCatalog;
  docker: DockerNetworksApi;
  intervalMs: number;
  logger?: Logger;
  clock?: Clock;
}

export interface ReconcileOutcome {
  created: string[];
  removed: string[];
  /** names that could not be made or removed this round, with why */
  failed: Array<{ name: string; error: string }>;
}

export class DockerNetworkReconciler {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly clock: Clock;
  /** the last failure reported per network, so that a round that fails the same way logs nothing new */
  private readonly reported = new Map<string, string>();

  constructor(private readonly opts: DockerNetworkReconcilerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** One round: list both sides and apply the plan. Throws only when a side cannot be listed. */
  async reconcileOnce(): Promise<ReconcileOutcome> {
    const networks = await this.opts.catalog.listNetworks();
    const existing = await this.opts.docker.listNetworks(MANAGED_LABEL);
    const plan = planDockerNetworks(wantedDockerNetworks(networks), existing);
    const out: ReconcileOutcome = { created: [], removed: [], failed: [] };
    for (const n of plan.remove) {
      try {
        await this.opts.docker.removeNetwork(n.Id);
        out.removed.push(n.Name);
      } catch (e) {
        out.failed.push({ name: n.Name, error: errorMessage(e) });
      }
    }
    for (const spec of plan.create) {
      try {
        await this.opts.docker.createNetwork(spec);
        out.created.push(spec.Name);
      } catch (e) {
        out.failed.push({ name: spec.Name, error: errorMessage(e) });
      }
    }
    return out;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const log = this.opts.logger;
    let unreachable = false;
    while (!this.abort.signal.aborted) {
      try {
        const r = await this.reconcileOnce();
        if (unreachable) log?.info({ docker: this.opts.docker.socketPath }, 'docker networks: dockerd answers');
        unreachable = false;
        if (r.created.length > 0 || r.removed.length > 0) log?.info({ created: r.created, removed: r.removed }, 'docker networks changed');
        for (const f of r.failed) {
          if (this.reported.get(f.name) !== f.error)
            log?.warn({ network: f.name, err: f.error }, 'docker network not reconciled (retrying)');
          this.reported.set(f.name, f.error);
        }
        for (const name of [...this.reported.keys()]) if (!r.failed.some((f) => f.name === name)) this.reported.delete(name);
      } catch (e) {
        // dockerd not started yet, or netmaster away: the next round tries again
        if (!unreachable) log?.warn({ err: errorMessage(e) }, 'docker networks: cannot list networks (retrying)');
        unreachable = true;
      }
      await this.clock.sleep(this.opts.intervalMs, this.abort.signal, { unref: true });
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
