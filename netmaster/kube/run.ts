/**
 * The Kubernetes controller for one leader term: started when this replica is elected, stopped
 * when it loses (runWhileLeader). Loaded only with --kubeconfig (@kubernetes/client-node takes
 * ~0.85 s to load).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/logger';
import { loadKubeconfig } from '../../lib/kube/kubeconfig';
import { KubeController, kubeControllerMetrics, type KubeControllerMetrics, type KubeIntentSink } from './controller';
import { NamedPortEvents } from './named-port-events';
import type { KubeServiceSink } from './service-watch';
import type { ServiceProblemSource } from './service-problems';

const metricsOf = new WeakMap<Registry, KubeControllerMetrics>();

export async function runKubeController(
  opts: {
    kubeconfig: string;
    sink: KubeIntentSink & KubeServiceSink;
    logger: Logger;
    registry?: Registry;
    serviceProblems?: ServiceProblemSource;
  },
  signal: AbortSignal,
): Promise<void> {
  const kubeconfig = loadKubeconfig(opts.kubeconfig);
  let metrics = opts.registry ? metricsOf.get(opts.registry) : undefined;
  if (!metrics) {
    metrics = kubeControllerMetrics(opts.registry);
    if (opts.registry) metricsOf.set(opts.registry, metrics);
  }
  const logger = opts.logger.child({ part: 'kube' });
  const controller = new KubeController({
    kubeconfig,
    sink: opts.sink,
    services: opts.sink,
    ...(opts.serviceProblems ? { serviceProblems: opts.serviceProblems } : {}),
    events: kubeconfig.makeApiClient(CoreV1Api),
    logger,
    metrics,
  });
  const namedPorts = new NamedPortEvents({ kubeconfig, logger, ...(opts.registry ? { registry: opts.registry } : {}) });
  try {
    await Promise.all([controller.start(signal), namedPorts.start(signal)]);
    logger.info('kubernetes controller running (this replica leads)');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.all([controller.stop(), namedPorts.stop()]);
    logger.info('kubernetes controller stopped');
  }
}
