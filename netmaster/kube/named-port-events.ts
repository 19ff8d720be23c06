/**
 * Warning Events for NetworkPolicy named ports that resolve on no pod (issue 19): Kubernetes says
 * such a port selects nothing, and so does netloom's compiler, but a user who misspelt a port's
 * name deserves to be told. Run beside the controller for the same leader term (run.ts), with its
 * own caches of pods, namespaces and policies (lib/kube/resource-watch), kept apart from the
 * controller's intent path.
 *
 * After changes settle (debounceMs) every policy is checked (named-ports.ts). A policy gets one
 * Event when its set of unresolved ports changes to a non-empty one, never again for the same set
 * (a relist, a restart of the API server, a new leader term or an unrelated pod change post
 * nothing: the Events on the policy are read back before one is posted), and its Event is deleted
 * once every port resolves (or the policy goes), so a later regression is reported again.
 */
import type { CoreV1Api, V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { CoreV1Api as CoreApi, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { watchResource, type ResourceWatch } from '../../lib/kube/resource-watch';
import { unresolvedNamedPorts, unresolvedText } from './named-ports';

export const NAMED_PORT_REASON = 'NamedPortUnresolved';

/** What this needs of the API besides watching: listing, posting and deleting Events. */
export type EventWriter = Pick<CoreV1Api, 'createNamespacedEvent' | 'deleteNamespacedEvent' | 'listNamespacedEvent'>;

export interface NamedPortEventsOptions {
  kubeconfig: KubeConfig;
  events?: EventWriter;
  logger: Logger;
  /** quiet time before a check (default 200 ms): a relist or a burst of pod changes is checked once */
  debounceMs?: number;
  component?: string;
  registry?: Registry;
}

interface Counters {
  events: Counter<'action'>;
  checks: Counter;
}

/** Counters once per registry (a new leader term makes a new instance). */
const countersOf = new WeakMap<Registry, Counters>();
function counters(registry?: Registry): Counters {
  const existing = registry ? countersOf.get(registry) : undefined;
  if (existing) return existing;
  const registers = registry ? [registry] : [];
  const c = {
    events: new Counter({
      name: 'netmaster_kube_named_port_events_total',
      help: 'Warning Events about NetworkPolicy named ports that resolve on no pod: posted, adopted (found posted by an earlier leader), deleted once they resolve',
      labelNames: ['action'],
      registers,
    }),
    checks: new Counter({
      name: 'netmaster_kube_named_port_checks_total',
      help: 'checks of every NetworkPolicy for named ports that resolve on no pod (one per settled burst of changes)',
      registers,
    }),
  };
  if (registry) countersOf.set(registry, c);
  return c;
}

/** What the last check settled for a policy. */
interface Reported {
  /** the unresolved ports as the Event says them */
  text: string;
  namespace: string;
}

function messageOf(text: string, count: number): string {
  return (
    `named port${count > 1 ? 's' : ''} ${text} resolve${count > 1 ? '' : 's'} on no pod this policy concerns ` +
    `(ingress: the pods it selects; egress: the rule's peers): the rule selects nothing for ${count > 1 ? 'them' : 'it'}`
  );
}

export class NamedPortEvents {
  private readonly events: EventWriter;
  private readonly counters: Counters;
  private readonly reported = new Map<string, Reported>();
  private watches: {
    pods: ResourceWatch<V1Pod>;
    namespaces: ResourceWatch<V1Namespace>;
    policies: ResourceWatch<V1NetworkPolicy>;
  } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: NamedPortEventsOptions) {
    this.events = opts.events ?? opts.kubeconfig.makeApiClient(CoreApi);
    this.counters = counters(opts.registry);
  }

  /** Start watching; resolves once the three kinds are listed and checked. */
  async start(signal: AbortSignal): Promise<void> {
    const { kubeconfig, logger } = this.opts;
    const core = kubeconfig.makeApiClient(CoreApi);
    const networking = kubeconfig.makeApiClient(NetworkingV1Api);
    const changed = () => this.schedule();
    const handlers = { onList: changed, onAdd: changed, onUpdate: changed, onDelete: changed, logger, signal };
    const [pods, namespaces, policies] = await Promise.all([
      watchResource<V1Pod>({ kubeconfig, path: '/api/v1/pods', list: () => core.listPodForAllNamespaces(), ...handlers }),
      watchResource<V1Namespace>({ kubeconfig, path: '/api/v1/namespaces', list: () => core.listNamespace(), ...handlers }),
      watchResource<V1NetworkPolicy>({
        kubeconfig,
        path: '/apis/networking.k8s.io/v1/networkpolicies',
        list: () => networking.listNetworkPolicyForAllNamespaces(),
        ...handlers,
      }),
    ]);
    this.watches = { pods, namespaces, policies };
    await this.checkNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const w = this.watches;
    this.watches = null;
    if (w) await Promise.all([w.pods.stop(), w.namespaces.stop(), w.policies.stop()]);
    await this.checking;
  }

  private schedule(delayMs = this.opts.debounceMs ?? 200): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.checkNow(), delayMs);
  }

  /** Check every policy now (after the check in progress); resolves when done. A failed check is tried again. */
  checkNow(): Promise<void> {
    this.checking = this.checking
      .then(() => this.check())
      .catch((e: unknown) => {
        this.opts.logger.warn({ err: errorMessage(e) }, 'named port check failed; trying again');
        this.schedule(1000);
      });
    return this.checking;
  }

  private async check(): Promise<void> {
    const w = this.watches;
    if (!w || this.stopped) return;
    const pods = w.pods.list();
    const namespaces = w.namespaces.list();
    const seen = new Set<string>();
    for (const np of w.policies.list()) {
      const key = `${np.metadata?.namespace ?? ''}/${np.metadata?.name ?? ''}`;
      seen.add(key);
      const unresolved = unresolvedNamedPorts(np, pods, namespaces);
      const text = unresolved.map(unresolvedText).join(', ');
      const prev = this.reported.get(key);
      if (prev ? prev.text === text : text === '') continue;
      await this.settle(key, np, text, text === '' ? '' : messageOf(text, unresolved.length));
    }
    for (const [key, prev] of this.reported)
      if (!seen.has(key)) {
        const slash = key.indexOf('/');
        await this.settle(key, { metadata: { namespace: prev.namespace, name: key.slice(slash + 1) } }, '', '');
      }
    this.counters.checks.inc();
  }

  /**
   * Make the policy's Events what `message` says: the ones of ours on it that say something else
   * deleted, one that says it kept (a previous leader's: a new term posts nothing new), else
   * posted. Read from the API rather than from memory, so that a new leader term or an Event
   * posted by a request whose answer was lost makes no second one.
   */
  private async settle(key: string, np: V1NetworkPolicy, text: string, message: string): Promise<void> {
    const namespace = np.metadata?.namespace ?? 'default';
    const name = np.metadata?.name ?? '';
    // only this policy's Events of this kind (field selectors the real server supports for events)
    const fieldSelector = `involvedObject.kind=NetworkPolicy,involvedObject.name=${name},reason=${NAMED_PORT_REASON}`;
    const ours = (await this.events.listNamespacedEvent({ namespace, fieldSelector })).items.filter(
      (e) => e.reason === NAMED_PORT_REASON && e.involvedObject.kind === 'NetworkPolicy' && e.involvedObject.name === name,
    );
    const keep = message === '' ? undefined : ours.find((e) => e.message === message);
    for (const e of ours) {
      if (e === keep || !e.metadata?.name) continue;
      await this.events.deleteNamespacedEvent({ name: e.metadata.name, namespace });
      this.counters.events.inc({ action: 'deleted' });
      this.opts.logger.info({ policy: key }, 'NetworkPolicy named port event deleted (resolved or changed)');
    }
    if (message === '') {
      this.reported.delete(key);
      return;
    }
    if (keep) this.counters.events.inc({ action: 'adopted' });
    else await this.post(key, np, message);
    this.reported.set(key, { text, namespace });
  }

  private async post(key: string, np: V1NetworkPolicy, message: string): Promise<void> {
    const namespace = np.metadata?.namespace ?? 'default';
    const now = new Date();
    const component = this.opts.component ?? 'netloom-netmaster';
    await this.events.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${np.metadata?.name ?? 'networkpolicy'}.`, namespace },
        involvedObject: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: np.metadata?.name ?? '',
          namespace,
          uid: np.metadata?.uid ?? '',
          resourceVersion: np.metadata?.resourceVersion ?? '',
        },
        reason: NAMED_PORT_REASON,
        message,
        type: 'Warning',
        source: { component },
        reportingComponent: component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    this.counters.events.inc({ action: 'posted' });
    this.opts.logger.warn({ policy: key, message }, 'NetworkPolicy named ports resolve on no pod');
  }
}
