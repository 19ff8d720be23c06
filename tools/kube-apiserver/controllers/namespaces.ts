/**
 * The namespace controller's part: a namespace being deleted (deletionTimestamp set, phase
 * Terminating) is emptied and removed after `delayMs` (the real controller takes a few seconds:
 * the delay lets `kubectl delete -f` delete a namespace's objects after the namespace itself, as
 * it can against a real cluster).
 */
import { errorMessage } from '../../../lib/errors';
import type { Logger } from '../../../lib/logger';
import { isObject } from '../json';
import type { Registry } from '../registry';
import { findResource, type ResourceDef } from '../resources';
import type { ObjectStore } from '../store';
import type { Controller } from './endpointslices';
import { StoreInformer } from './store-informer';

const NAMESPACES = findResource('', 'v1', 'namespaces') as ResourceDef;

export async function startNamespaceController(o: {
  store: ObjectStore;
  registry: Registry;
  logger: Logger;
  delayMs: number;
}): Promise<Controller> {
  const log = o.logger.child({ controller: 'namespace' });
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const purge = (name: string, attempt: number): void => {
    timers.delete(name);
    if (stopped) return;
    o.registry.purgeNamespace(name).then(
      (done) => {
        if (done) log.info({ namespace: name }, 'namespace deleted with its objects');
        else if (informer.objects.has(`/${name}`)) schedule(name, attempt + 1);
      },
      (e: unknown) => {
        log.warn({ namespace: name, err: errorMessage(e) }, 'namespace deletion failed; retrying');
        schedule(name, attempt + 1);
      },
    );
  };
  const schedule = (name: string, attempt = 0): void => {
    if (stopped || timers.has(name)) return;
    timers.set(
      name,
      setTimeout(() => purge(name, attempt), attempt === 0 ? o.delayMs : Math.min(5000, 100 * 2 ** attempt)),
    );
  };
  const informer = new StoreInformer(
    o.store,
    NAMESPACES,
    (c) => {
      const meta = isObject(c.object.metadata) ? c.object.metadata : {};
      if (c.type === 'put' && meta.deletionTimestamp !== undefined) schedule(String(meta.name));
    },
    log,
  );
  await informer.start();
  return {
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await informer.stop();
    },
  };
}
