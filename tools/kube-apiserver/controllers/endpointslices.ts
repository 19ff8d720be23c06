/**
 * The EndpointSlice controller, in the part kube-controller-manager plays: for every Service with
 * a selector, EndpointSlices (discovery.k8s.io/v1) listing the pods of its namespace the selector
 * matches that have an address (status.podIP) and are not finished: one slice per set of resolved
 * ports (a named targetPort is looked up in each pod's container ports; pods usually agree, so
 * usually one slice), each endpoint with conditions.ready/serving from the pod's Ready condition
 * (publishNotReadyAddresses: always ready), its node and a targetRef. Slices carry the labels
 * kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by and an owner reference to
 * the Service; a Service without pods keeps one empty slice; a deleted Service loses its slices.
 * Writes go through the registry like any client's.
 */
import { Backoff } from '../../../lib/backoff';
import { errorMessage } from '../../../lib/errors';
import type { Logger } from '../../../lib/logger';
import { isObject, jsonEqual, type Json, type JsonObject } from '../json';
import { mapSelector, matchesLabels } from '../label-selector';
import type { Registry } from '../registry';
import { findResource, type ResourceDef } from '../resources';
import { ApiError } from '../status';
import type { ObjectStore } from '../store';
import { objectKey, StoreInformer, type Change } from './store-informer';

export interface Controller {
  stop(): Promise<void>;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

const PODS = findResource('', 'v1', 'pods') as ResourceDef;
const SERVICES = findResource('', 'v1', 'services') as ResourceDef;
const SLICES = findResource('discovery.k8s.io', 'v1', 'endpointslices') as ResourceDef;

const meta = (o: JsonObject | undefined): JsonObject => (o && isObject(o.metadata) ? o.metadata : {});
const spec = (o: JsonObject | undefined): JsonObject => (o && isObject(o.spec) ? o.spec : {});
const status = (o: JsonObject | undefined): JsonObject => (o && isObject(o.status) ? o.status : {});
const objects = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);

interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
}

/** The service ports as one pod serves them (a named targetPort it has no container port for is left out, as upstream). */
export function podPorts(svc: JsonObject, pod: JsonObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of objects(spec(svc).ports)) {
    const protocol = String(sp.protocol ?? 'TCP');
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (typeof target === 'string' && /^\d+$/.test(target)) port = Number(target);
    else if (typeof target === 'string') {
      for (const c of objects(spec(pod).containers))
        for (const cp of objects(c.ports))
          if (cp.name === target && String(cp.protocol ?? 'TCP') === protocol && typeof cp.containerPort === 'number')
            port ??= cp.containerPort;
    }
    if (port !== undefined) out.push({ name: typeof sp.name === 'string' ? sp.name : '', port, protocol });
  }
  return out;
}

function podReady(pod: JsonObject): boolean {
  return objects(status(pod).conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The slices' content a Service should have now: endpoints grouped by their resolved ports. */
export function desiredSlices(svc: JsonObject, pods: readonly JsonObject[]): Array<{ ports: EndpointPort[]; endpoints: JsonObject[] }> {
  const selector = spec(svc).selector;
  const reqs = mapSelector(isObject(selector) ? (selector as Record<string, string>) : {});
  const ns = meta(svc).namespace;
  const publishNotReady = spec(svc).publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: JsonObject[] }>();
  const sorted = [...pods].sort((a, b) => String(meta(a).name).localeCompare(String(meta(b).name)));
  for (const pod of sorted) {
    const pm = meta(pod);
    if (pm.namespace !== ns || !matchesLabels(reqs, (pm.labels ?? {}) as Record<string, string>)) continue;
    const ip = status(pod).podIP;
    const phase = status(pod).phase;
    if (typeof ip !== 'string' || ip === '' || phase === 'Succeeded' || phase === 'Failed') continue;
    const ports = podPorts(svc, pod);
    const key = JSON.stringify(ports);
    const ready = publishNotReady || podReady(pod);
    const endpoint: JsonObject = {
      addresses: [ip],
      conditions: { ready, serving: ready, terminating: false },
      targetRef: { kind: 'Pod', namespace: String(pm.namespace), name: String(pm.name), uid: String(pm.uid ?? '') },
      ...(typeof spec(pod).nodeName === 'string' ? { nodeName: spec(pod).nodeName as string } : {}),
    };
    const g = groups.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push(endpoint);
    groups.set(key, g);
  }
  if (groups.size === 0) return [{ ports: [], endpoints: [] }];
  return [...groups.values()];
}

export async function startEndpointSliceController(o: { store: ObjectStore; registry: Registry; logger: Logger }): Promise<Controller> {
  const log = o.logger.child({ controller: 'endpointslice' });
  const queue = new Set<string>();
  let draining: Promise<void> | undefined;
  let stopped = false;
  const backoff = new Backoff({ initialMs: 100, maxMs: 5000, jitter: 0.2 });
  let started = false;
  const services = new StoreInformer(o.store, SERVICES, (c) => enqueue(objectKey(c.object)), log);
  const pods = new StoreInformer(o.store, PODS, (c) => onPod(c), log);
  const slices = new StoreInformer(
    o.store,
    SLICES,
    (c) => {
      const labels = meta(c.object).labels;
      if (isObject(labels) && labels[MANAGED_BY_LABEL] === MANAGED_BY)
        enqueue(`${String(meta(c.object).namespace)}/${String(labels[SERVICE_NAME_LABEL])}`);
    },
    log,
  );

  function onPod(c: Change): void {
    const ns = String(meta(c.object).namespace);
    const labelsOf = (p: JsonObject | undefined): Record<string, string> => (meta(p).labels ?? {}) as Record<string, string>;
    for (const svc of services.objects.values()) {
      if (meta(svc).namespace !== ns) continue;
      const sel = spec(svc).selector;
      if (!isObject(sel) || Object.keys(sel).length === 0) continue;
      const reqs = mapSelector(sel as Record<string, string>);
      const old = c.type === 'put' ? c.old : undefined;
      if (matchesLabels(reqs, labelsOf(c.object)) || (old && matchesLabels(reqs, labelsOf(old)))) enqueue(objectKey(svc));
    }
  }

  function enqueue(key: string): void {
    if (stopped) return;
    queue.add(key);
    if (started) draining ??= drain();
  }

  async function drain(): Promise<void> {
    try {
      while (queue.size > 0 && !stopped) {
        const key = queue.values().next().value as string;
        queue.delete(key);
        try {
          await reconcile(key);
          backoff.reset();
        } catch (e) {
          const delay = backoff.next();
          log.warn({ service: key, err: errorMessage(e), retryInMs: delay }, 'endpointslice sync failed; retrying');
          setTimeout(() => enqueue(key), delay).unref();
        }
      }
    } finally {
      draining = undefined;
      if (queue.size > 0 && !stopped) draining = drain();
    }
  }

  async function reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const svc = services.objects.get(key);
    const owned = [...slices.objects.values()].filter((s) => {
      const l = meta(s).labels;
      return meta(s).namespace === ns && isObject(l) && l[SERVICE_NAME_LABEL] === name && l[MANAGED_BY_LABEL] === MANAGED_BY;
    });
    const sel = spec(svc).selector;
    const want =
      svc && isObject(sel) && Object.keys(sel).length > 0 && spec(svc).type !== 'ExternalName'
        ? desiredSlices(svc, [...pods.objects.values()])
        : [];
    const labels: JsonObject = { ...((meta(svc).labels ?? {}) as JsonObject), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const ownerReferences = [
      { apiVersion: 'v1', kind: 'Service', name, uid: String(meta(svc).uid ?? ''), controller: true, blockOwnerDeletion: true },
    ];
    const bodies = want.map((w) => ({
      addressType: 'IPv4',
      endpoints: w.endpoints,
      ports: w.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    }));
    // each wanted slice reuses the owned slice with its ports, else any owned slice left over
    const unmatched = [...owned];
    const plans = bodies.map((body) => {
      const i = unmatched.findIndex((x) => jsonEqual(x.ports ?? [], body.ports));
      return { body, slice: i >= 0 ? unmatched.splice(i, 1)[0] : undefined };
    });
    for (const plan of plans) plan.slice ??= unmatched.shift();
    for (const { body, slice } of plans) {
      let written: JsonObject;
      if (slice) {
        const same =
          jsonEqual(slice.endpoints ?? [], body.endpoints) &&
          jsonEqual(slice.ports ?? [], body.ports) &&
          jsonEqual(meta(slice).labels ?? {}, labels);
        if (same) continue;
        written = await o.registry.update(
          SLICES,
          ns,
          String(meta(slice).name),
          { ...slice, ...body, metadata: { ...meta(slice), labels, ownerReferences } },
          { dryRun: false },
          undefined,
        );
      } else {
        written = await o.registry.create(
          SLICES,
          ns,
          { ...body, metadata: { generateName: `${name}-`, labels, ownerReferences } },
          { dryRun: false },
        );
      }
      // the informer hears of the write later; the next sync must not act on the slice as it was
      slices.objects.set(objectKey(written), written);
    }
    for (const slice of unmatched) {
      try {
        await o.registry.delete(SLICES, ns, String(meta(slice).name), { dryRun: false });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
      slices.objects.delete(objectKey(slice));
    }
  }

  await Promise.all([services.start(), pods.start(), slices.start()]);
  started = true;
  // slices whose service is gone, and every service once
  for (const s of slices.objects.values()) {
    const l = meta(s).labels;
    if (isObject(l) && l[MANAGED_BY_LABEL] === MANAGED_BY) queue.add(`${String(meta(s).namespace)}/${String(l[SERVICE_NAME_LABEL])}`);
  }
  for (const k of services.objects.keys()) queue.add(k);
  draining = drain();
  log.info({ services: services.objects.size }, 'endpointslice controller started');
  return {
    async stop() {
      stopped = true;
      await Promise.all([services.stop(), pods.stop(), slices.stop()]);
      await draining?.catch(() => undefined);
    },
  };
}
