/**
 * The Services half of netmaster's Kubernetes controller (issue 19): Services and EndpointSlices
 * (discovery.k8s.io/v1) followed with the same ListWatch machinery as NetworkPolicies
 * (lib/kube/resource-watch), joined by the slices' `kubernetes.io/service-name` label, and handed
 * to the intent store as kubeServices and kubeServiceSlices (service-from-api.ts): a change of a
 * Service puts (or deletes) that Service and its slices (unchanged ones are not written), a change
 * of one slice puts (or deletes) that slice only; a slice is stored while its Service is. A
 * (re)list of either kind replaces both kinds once both are listed. Slices are listed first, so the
 * Services' first list already has their endpoints. A Service or slice the store refuses (a slice
 * past the store's limits: its stored version is withdrawn), or a port netloom cannot balance
 * (SCTP), gets a Warning Event on the Service and a log line; so do endpoints the views cannot resolve or balance
 * (service-problems.ts), when netmaster hands in its cluster cache.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Service,
} from '@kubernetes/client-node';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { watchResource, type ResourceWatch } from '../../lib/kube/resource-watch';
import type { KubeControllerMetrics, Refusal } from './controller';
import { SerialQueue } from './serial-queue';
import { ServiceProblemReporter, type ServiceProblemSource } from './service-problems';
import {
  isBalanced,
  serviceFromApi,
  serviceKeyOf,
  sliceFromApi,
  sliceServiceKey,
  type KubeServiceIntent,
  type KubeServiceSliceIntent,
} from './service-from-api';

/** Where Services go (netmaster/kube/intent.ts in the product). A refused one throws a NetloomError naming the field. */
export interface KubeServiceSink {
  putService(s: KubeServiceIntent): Promise<void>;
  /** `namespace/name`; no error when it is not stored */
  deleteService(key: string): Promise<void>;
  putSlice(s: KubeServiceSliceIntent): Promise<void>;
  /** `namespace/service/slice`; no error when it is not stored */
  deleteSlice(key: string): Promise<void>;
  /** both kinds after a list; a slice's refusal has the key `namespace/service/slice` */
  replaceServices(services: KubeServiceIntent[], slices: KubeServiceSliceIntent[]): Promise<Refusal[]>;
}

export interface KubeServiceWatchOptions {
  kubeconfig: KubeConfig;
  sink: KubeServiceSink;
  logger: Logger;
  metrics: KubeControllerMetrics;
  /** a Warning Event on the object (the controller's, once per version and message) */
  warn: (obj: KubernetesObject, reason: string, message: string) => Promise<void>;
  /** what the views cannot realize (netmaster's cluster cache): Events for it (service-problems.ts) */
  problems?: ServiceProblemSource;
}

/** Protocols the OVS backend balances; the others get an Event. */
const BALANCED_PROTOCOLS = new Set(['TCP', 'UDP']);

export class KubeServiceWatch {
  private readonly services = new Map<string, V1Service>();
  /** service key -> slice name -> slice */
  private readonly slices = new Map<string, Map<string, V1EndpointSlice>>();
  private readonly queue = new SerialQueue();
  private servicesListed = false;
  private watches: Array<ResourceWatch<KubernetesObject>> = [];
  private reporter: ServiceProblemReporter | undefined;

  constructor(private readonly opts: KubeServiceWatchOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const { kubeconfig, logger } = this.opts;
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const discovery = kubeconfig.makeApiClient(DiscoveryV1Api);
    const slices = await watchResource<V1EndpointSlice>({
      kubeconfig,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: () => discovery.listEndpointSliceForAllNamespaces(),
      onList: (items) => {
        this.opts.metrics.lists.inc({ resource: 'endpointslices' });
        this.slices.clear();
        for (const es of items) this.setSlice(es, true);
        if (this.servicesListed) this.relist();
      },
      onAdd: (es) => this.sliceEvent('add', es, true),
      onUpdate: (es) => this.sliceEvent('update', es, true),
      onDelete: (es) => this.sliceEvent('delete', es, false),
      logger,
      signal,
    });
    const services = await watchResource<V1Service>({
      kubeconfig,
      path: '/api/v1/services',
      list: () => core.listServiceForAllNamespaces(),
      onList: (items) => {
        this.opts.metrics.lists.inc({ resource: 'services' });
        this.services.clear();
        for (const s of items) this.services.set(serviceKeyOf(s), s);
        this.servicesListed = true;
        this.relist();
      },
      onAdd: (s) => this.serviceEvent('add', s, true),
      onUpdate: (s) => this.serviceEvent('update', s, true),
      onDelete: (s) => this.serviceEvent('delete', s, false),
      logger,
      signal,
    });
    this.watches = [slices as ResourceWatch<KubernetesObject>, services as ResourceWatch<KubernetesObject>];
    if (this.opts.problems)
      this.reporter = new ServiceProblemReporter({
        source: this.opts.problems,
        // only the balanced ones are stored (the others have no problems to report)
        services: () => new Map([...this.services].filter(([, s]) => isBalanced(s))),
        warn: (obj, reason, message) => {
          logger.warn({ resource: 'services', object: serviceKeyOf(obj as V1Service), reason, message }, 'kubernetes object not realized');
          return this.opts.warn(obj, reason, message);
        },
      });
    await this.idle();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.reporter?.stop();
    this.reporter = undefined;
    await Promise.all(this.watches.map((w) => w.stop()));
    this.watches = [];
  }

  private setSlice(es: V1EndpointSlice, present: boolean): string {
    const key = sliceServiceKey(es);
    if (key === '') return '';
    const name = es.metadata?.name ?? '';
    let m = this.slices.get(key);
    if (present) {
      if (!m) this.slices.set(key, (m = new Map()));
      m.set(name, es);
    } else if (m) {
      m.delete(name);
      if (m.size === 0) this.slices.delete(key);
    }
    return key;
  }

  private sliceEvent(type: 'add' | 'update' | 'delete', es: V1EndpointSlice, present: boolean): void {
    this.opts.metrics.events.inc({ resource: 'endpointslices', type });
    const key = this.setSlice(es, present);
    if (key !== '' && this.servicesListed) {
      const name = es.metadata?.name ?? '';
      void this.queue.run(() => this.syncSlice(key, name));
    }
  }

  private serviceEvent(type: 'add' | 'update' | 'delete', s: V1Service, present: boolean): void {
    this.opts.metrics.events.inc({ resource: 'services', type });
    const key = serviceKeyOf(s);
    if (present) this.services.set(key, s);
    else this.services.delete(key);
    if (this.servicesListed) this.sync(key);
  }

  private intentOf(key: string): KubeServiceIntent | undefined {
    const s = this.services.get(key);
    return s ? serviceFromApi(s) : undefined;
  }

  /** The slice `name` of Service `key` as stored (undefined: not stored, its Service is not). */
  private sliceIntentOf(key: string, name: string): KubeServiceSliceIntent | undefined {
    const es = this.slices.get(key)?.get(name);
    return es && this.intentOf(key) ? sliceFromApi(es) : undefined;
  }

  /** The slices of the stored Services. */
  private allSlices(): KubeServiceSliceIntent[] {
    return [...this.slices].flatMap(([key, m]) => [...m.keys()].flatMap((name) => this.sliceIntentOf(key, name) ?? []));
  }

  /** One Service put (or deleted) as it is now, then its slices; the intent is taken when the queue runs it (the latest). */
  private sync(key: string): void {
    void this.queue.run(async () => {
      const intent = this.intentOf(key);
      const svc = this.services.get(key);
      try {
        if (intent) await this.opts.sink.putService(intent);
        else await this.opts.sink.deleteService(key);
      } catch (e) {
        this.refused(key, svc, e);
        return;
      }
      for (const name of this.slices.get(key)?.keys() ?? []) await this.syncSlice(key, name);
      if (svc) await this.unbalanced(svc);
      this.reporter?.schedule();
    });
  }

  /**
   * One slice put (or deleted) as it is now. A refused one is withdrawn (the Service gets an
   * Event): its stored endpoints are an older truth, and an address of a pod gone since may be
   * another pod's by now; balancing over the other slices is what kube-proxy does without it.
   */
  private async syncSlice(key: string, name: string): Promise<void> {
    const intent = this.sliceIntentOf(key, name);
    try {
      if (intent) await this.opts.sink.putSlice(intent);
      else await this.opts.sink.deleteSlice(`${key}/${name}`);
    } catch (e) {
      this.refused(`${key}/${name}`, this.services.get(key), e);
      if (intent) await this.withdraw(`${key}/${name}`);
    }
    this.reporter?.schedule();
  }

  /** Remove a refused slice's stored version (`namespace/service/slice`); a store error is logged (the next relist retries). */
  private async withdraw(sliceKey: string): Promise<void> {
    try {
      await this.opts.sink.deleteSlice(sliceKey);
    } catch (e) {
      this.opts.logger.warn({ resource: 'endpointslices', object: sliceKey, err: errorMessage(e) }, 'refused slice not withdrawn');
    }
  }

  private relist(): void {
    void this.queue.run(async () => {
      const all = [...this.services.keys()].flatMap((k) => this.intentOf(k) ?? []);
      let refused: Refusal[];
      try {
        refused = await this.opts.sink.replaceServices(all, this.allSlices());
      } catch (e) {
        // the store is unreachable: the next relist (after the watch's retry) applies the kind again
        this.opts.logger.warn({ resource: 'services', err: errorMessage(e) }, 'kubernetes list not applied');
        return;
      }
      // a slice's key is namespace/service/slice: its Service gets the Event
      for (const r of refused) {
        const parts = r.key.split('/');
        this.refused(r.key, this.services.get(parts.slice(0, 2).join('/')), r.error);
        if (parts.length === 3) await this.withdraw(r.key);
      }
      for (const s of this.services.values()) if (isBalanced(s)) await this.unbalanced(s);
      this.reporter?.schedule();
    });
  }

  /** `key`: the Service's `namespace/name`, or a slice's `namespace/service/slice` */
  private refused(key: string, svc: V1Service | undefined, e: unknown): void {
    const slice = key.split('/').length === 3;
    this.opts.metrics.refused.inc({ resource: slice ? 'endpointslices' : 'services' });
    this.opts.logger.warn(
      { resource: slice ? 'endpointslices' : 'services', object: key, err: errorMessage(e) },
      'kubernetes object not realized',
    );
    const what = slice ? `its EndpointSlice ${key.split('/')[2] ?? ''} (its endpoints are not balanced over)` : 'this object';
    if (svc) void this.opts.warn(svc, 'NotRealized', `netloom cannot realize ${what}: ${errorMessage(e)}`);
  }

  /** A Warning Event for ports of a protocol the backend does not balance. */
  private async unbalanced(svc: V1Service): Promise<void> {
    const bad = (svc.spec?.ports ?? []).filter((p) => !BALANCED_PROTOCOLS.has((p.protocol ?? 'TCP').toUpperCase()));
    if (bad.length === 0) return;
    const which = bad.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
    await this.opts.warn(svc, 'PortNotBalanced', `netloom balances TCP and UDP only: port ${which} is not served`);
  }
}
