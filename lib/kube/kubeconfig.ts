/**
 * A Kubernetes client configuration from a --kubeconfig value: a kubeconfig file, or `in-cluster`
 * for the service account of the pod the program runs in (the token and CA Kubernetes mounts,
 * KUBERNETES_SERVICE_HOST/PORT), as a DaemonSet or Deployment runs netloom.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, NetloomError } from '../errors';
import { IN_CLUSTER } from './in-cluster';

export function loadKubeconfig(value: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (value === IN_CLUSTER) kc.loadFromCluster();
    else kc.loadFromFile(value);
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `--kubeconfig ${value}: ${errorMessage(e)}`, { field: 'kubeconfig' });
  }
  if (!kc.getCurrentCluster())
    throw new NetloomError('INVALID_ARGUMENT', `--kubeconfig ${value}: no current cluster (set current-context)`, { field: 'kubeconfig' });
  return kc;
}
