/**
 * netmaster's Kubernetes controller, run by the leader only: Namespaces and NetworkPolicies (and,
 * with a services sink, Services with their EndpointSlices: service-watch.ts)
 * kept from the API server (lib/kube/resource-watch: list, watch with bookmarks, relist on 410,
 * retry after failures) become netloom intent through a sink (netmaster/kube/intent.ts in the
 * product, a fake in unit tests). Every (re)list replaces the whole kind, so that objects deleted
 * while no leader watched disappear too; events in between are put/delete one by one, in order
 * per kind. An object the intent store refuses gets a Warning Event on it saying why (as a
 * Kubernetes controller reports what it cannot realize), once per object version.
 */
// @kubernetes/client-node takes ~0.85 s to load: netmaster imports this module only when --kubeconfig is set
import {
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
  type V1NetworkPolicy,
} from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { watchResource, type ResourceWatch } from '../../lib/kube/resource-watch';
import type { KubeNamespace__Output as KubeNamespace } from '../../proto/gen/netloom/v1/KubeNamespace';
import type { KubeNetworkPolicy__Output as KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
import { namespaceFromApi, policyFromApi } from './from-api';
import { SerialQueue } from './serial-queue';
import { KubeServiceWatch, type KubeServiceSink } from './service-watch';
import type { ServiceProblemSource } from './service-problems';

/** An object of a relist the intent store did not take, and why (a NetloomError naming the field). */
export interface Refusal {
  key: string;
  error: unknown;
}

/** Where the controller's intent goes. Each call is idempotent; a refused object throws a NetloomError naming the field. */
export interface KubeIntentSink {
  putPolicy(p: KubeNetworkPolicy): Promise<void>;
  deletePolicy(key: string): Promise<void>;
  /** the whole kind after a list: the valid ones stored, what is not in `all` deleted, the others refused */
  replacePolicies(all: KubeNetworkPolicy[]): Promise<Refusal[]>;
  putNamespace(n: KubeNamespace): Promise<void>;
  deleteNamespace(key: string): Promise<void>;
  replaceNamespaces(all: KubeNamespace[]): Promise<Refusal[]>;
}

/** What the controller needs of the API besides watching: posting Events. */
export type EventPoster = Pick<CoreV1Api, 'createNamespacedEvent'>;

export interface KubeControllerOptions {
  kubeconfig: KubeConfig;
  sink: KubeIntentSink;
  events: EventPoster;
  logger: Logger;
  /** made once per registry (kubeControllerMetrics): a new leader term makes a new controller */
  metrics?: KubeControllerMetrics;
  /** the component named in Events (default netloom-netmaster) */
  component?: string;
  /** where Services with their EndpointSlices go (issue 19); unset: Services are not followed */
  services?: KubeServiceSink;
  /** what the views cannot realize of the Services (Warning Events) */
  serviceProblems?: ServiceProblemSource;
}

export interface KubeControllerMetrics {
  events: Counter<'resource' | 'type'>;
  lists: Counter<'resource'>;
  refused: Counter<'resource'>;
}

export function kubeControllerMetrics(registry?: Registry): KubeControllerMetrics {
  const registers = registry ? [registry] : [];
  return {
    events: new Counter({
      name: 'netmaster_kube_events_total',
      help: 'Kubernetes watch events the controller applied, by resource and type (add, update, delete)',
      labelNames: ['resource', 'type'],
      registers,
    }),
    lists: new Counter({
      name: 'netmaster_kube_lists_total',
      help: 'Kubernetes lists (first and relists) applied, by resource',
      labelNames: ['resource'],
      registers,
    }),
    refused: new Counter({
      name: 'netmaster_kube_refused_total',
      help: 'Kubernetes objects the intent store refused (a Warning Event says why), by resource',
      labelNames: ['resource'],
      registers,
    }),
  };
}

export class KubeController {
  private readonly m: KubeControllerMetrics;
  private readonly queues = { policies: new SerialQueue(), namespaces: new SerialQueue() };
  private readonly warned = new Map<string, string>();
  private watches: Array<ResourceWatch<KubernetesObject>> = [];
  private serviceWatch: KubeServiceWatch | undefined;

  constructor(private readonly opts: KubeControllerOptions) {
    this.m = opts.metrics ?? kubeControllerMetrics();
  }

  /** Watch until `signal` aborts; resolves once both kinds are listed and applied. */
  async start(signal: AbortSignal): Promise<void> {
    const { kubeconfig, logger } = this.opts;
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const networking = kubeconfig.makeApiClient(NetworkingV1Api);

    const namespaces = await watchResource<V1Namespace>({
      kubeconfig,
      path: '/api/v1/namespaces',
      list: () => core.listNamespace(),
      onList: (items) => this.replace('namespaces', items, () => this.opts.sink.replaceNamespaces(items.map(namespaceFromApi))),
      onAdd: (ns) => this.apply('namespaces', 'add', ns, () => this.opts.sink.putNamespace(namespaceFromApi(ns))),
      onUpdate: (ns) => this.apply('namespaces', 'update', ns, () => this.opts.sink.putNamespace(namespaceFromApi(ns))),
      onDelete: (ns) => this.apply('namespaces', 'delete', ns, () => this.opts.sink.deleteNamespace(ns.metadata?.name ?? '')),
      logger,
      signal,
    });
    const policies = await watchResource<V1NetworkPolicy>({
      kubeconfig,
      path: '/apis/networking.k8s.io/v1/networkpolicies',
      list: () => networking.listNetworkPolicyForAllNamespaces(),
      onList: (items) => this.replace('policies', items, () => this.opts.sink.replacePolicies(items.map(policyFromApi))),
      onAdd: (np) => this.apply('policies', 'add', np, () => this.opts.sink.putPolicy(policyFromApi(np))),
      onUpdate: (np) => this.apply('policies', 'update', np, () => this.opts.sink.putPolicy(policyFromApi(np))),
      onDelete: (np) => this.apply('policies', 'delete', np, () => this.opts.sink.deletePolicy(policyFromApi(np).key)),
      logger,
      signal,
    });
    this.watches = [namespaces as ResourceWatch<KubernetesObject>, policies as ResourceWatch<KubernetesObject>];
    if (this.opts.services) {
      this.serviceWatch = new KubeServiceWatch({
        kubeconfig,
        sink: this.opts.services,
        logger,
        metrics: this.m,
        warn: (obj, reason, message) => this.warn(obj, reason, message),
        ...(this.opts.serviceProblems ? { problems: this.opts.serviceProblems } : {}),
      });
      await this.serviceWatch.start(signal);
    }
    await this.idle();
  }

  /** Resolves once every event received so far is applied (tests, and the realization benchmark). */
  async idle(): Promise<void> {
    await Promise.all([this.queues.policies.idle(), this.queues.namespaces.idle(), this.serviceWatch?.idle()]);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watches.map((w) => w.stop()), this.serviceWatch?.stop()]);
    this.watches = [];
    this.serviceWatch = undefined;
  }

  /** A (re)list: the whole kind replaced; each refused object gets its Event. */
  private replace(kind: 'policies' | 'namespaces', items: readonly KubernetesObject[], task: () => Promise<Refusal[]>): void {
    this.m.lists.inc({ resource: kind });
    void this.queues[kind].run(async () => {
      let refused: Refusal[];
      try {
        refused = await task();
      } catch (e) {
        // the store is unreachable: the next relist (after the watch's retry) applies the kind again
        this.opts.logger.warn({ resource: kind, err: errorMessage(e) }, 'kubernetes list not applied');
        return;
      }
      const byKey = new Map(items.map((o) => [intentKey(o), o]));
      for (const r of refused) {
        const obj = byKey.get(r.key);
        this.m.refused.inc({ resource: kind });
        this.opts.logger.warn({ resource: kind, object: r.key, err: errorMessage(r.error) }, 'kubernetes object not realized');
        if (obj) await this.warn(obj, 'NotRealized', `netloom cannot realize this object: ${errorMessage(r.error)}`);
      }
    });
  }

  private apply(
    kind: 'policies' | 'namespaces',
    type: 'add' | 'update' | 'delete',
    obj: KubernetesObject,
    task: () => Promise<void>,
  ): void {
    this.m.events.inc({ resource: kind, type });
    void this.queues[kind].run(async () => {
      try {
        await task();
        this.warned.delete(objectKey(obj));
      } catch (e) {
        this.m.refused.inc({ resource: kind });
        this.opts.logger.warn({ resource: kind, object: objectKey(obj), err: errorMessage(e) }, 'kubernetes object not realized');
        await this.warn(obj, 'NotRealized', `netloom cannot realize this object: ${errorMessage(e)}`);
      }
    });
  }

  /** A Warning Event on `obj`, once per object version and reason. */
  async warn(obj: KubernetesObject, reason: string, message: string): Promise<void> {
    const key = objectKey(obj);
    const version = `${obj.metadata?.resourceVersion ?? ''}/${reason}/${message}`;
    if (this.warned.get(key) === version) return;
    this.warned.set(key, version);
    const now = new Date();
    const namespace = obj.metadata?.namespace ?? 'default';
    try {
      await this.opts.events.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${obj.metadata?.name ?? 'object'}.`, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion ?? '',
            kind: obj.kind ?? '',
            name: obj.metadata?.name ?? '',
            namespace,
            uid: obj.metadata?.uid ?? '',
            resourceVersion: obj.metadata?.resourceVersion ?? '',
          },
          reason,
          message,
          type: 'Warning',
          source: { component: this.opts.component ?? 'netloom-netmaster' },
          reportingComponent: this.opts.component ?? 'netloom-netmaster',
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (e) {
      this.opts.logger.warn({ object: key, err: errorMessage(e) }, 'could not post a Kubernetes event');
    }
  }
}

/** The key the intent store knows an object by: namespace/name, or the name of a cluster object. */
const intentKey = (o: KubernetesObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata?.name ?? '');

const objectKey = (o: KubernetesObject): string => `${o.kind ?? ''}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
