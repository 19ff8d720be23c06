/**
 * `node dist/tools/kubelet/main.js`: a kubelet stand-in for one lab node (no kubelet is installable
 * on these machines). Registers its Node, follows the pods bound to it (spec.nodeName; there is
 * no scheduler) through lib/kube/resource-watch (list, watch with bookmarks, relist on 410) and
 * realizes them on the node's containerd through the CRI as the kubelet does (kubelet.ts).
 * kubelet's own flag names where it has one. See docs/kubernetes.md, "The cluster lab".
 */
import { Command } from 'commander';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { systemClock } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { exitOnTerminationSignals } from '../../lib/shutdown';
import { loadKubeconfig } from '../../lib/kube/kubeconfig';
import { watchResource } from '../../lib/kube/resource-watch';
import { CriClient } from '../../deploy/lab/cri/client';
import { Kubelet, type KubeletApi } from './kubelet';
import { nodeObject, nodeStatus } from './node';

interface Options {
  kubeconfig: string;
  hostnameOverride: string;
  containerRuntimeEndpoint: string;
  nodeIp: string;
  podLogsDir: string;
  cgroupRoot: string;
  clusterDns?: string;
  logLevel: string;
}

export function buildCommand(): Command {
  return new Command('kubelet')
    .description(
      'A kubelet stand-in for the lab: runs the pods bound to this node (spec.nodeName) on its containerd through the CRI, writes their status, deletes them once stopped (docs/kubernetes.md)',
    )
    .requiredOption('--kubeconfig <file>', 'the API server and credentials')
    .requiredOption('--hostname-override <name>', "this node's name (the Node object; pods with this spec.nodeName)")
    .requiredOption('--container-runtime-endpoint <socket>', "the CRI runtime's unix socket (containerd's grpc.address)")
    .requiredOption('--node-ip <ip>', "this node's address (the Node's InternalIP, the pods' status.hostIP)")
    .requiredOption('--pod-logs-dir <dir>', "where the pods' log directories are made")
    .requiredOption('--cgroup-root <cgroup>', 'the cgroup below which each pod gets its own')
    .option('--cluster-dns <ips>', "the pods' name servers, comma-separated")
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info');
}

/** The API writes of the kubelet: status by merge patch, deletes with grace 0 and a UID precondition. */
function apiWrites(core: CoreV1Api): KubeletApi {
  return {
    async patchPodStatus(namespace, name, status) {
      await core.patchNamespacedPodStatus(
        { name, namespace, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
    async deletePod(namespace, name, uid) {
      try {
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
      } catch (e) {
        // gone already (or replaced by a pod of the same name: not ours to delete)
        const code = (e as { code?: number }).code;
        if (code !== 404 && code !== 409) throw e;
      }
    },
  };
}

async function main(): Promise<void> {
  const o = buildCommand().parse(process.argv).opts<Options>();
  const logger = createLogger('kubelet', { level: o.logLevel });
  const node = o.hostnameOverride;
  const kubeconfig = loadKubeconfig(o.kubeconfig);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const cri = new CriClient(o.containerRuntimeEndpoint);
  await cri.waitReady(30_000);

  // the Node first, not ready until its pods are followed (the kubelet's registration)
  try {
    await core.createNode({ body: nodeObject(node) });
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
  const writeNodeStatus = (ready: boolean) =>
    core.patchNodeStatus(
      { name: node, body: { status: nodeStatus({ name: node, ip: o.nodeIp, ready, nowMs: systemClock.now() }) } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  await writeNodeStatus(false);

  const kubelet = new Kubelet({
    nodeName: node,
    hostIp: o.nodeIp,
    node: {
      logRoot: o.podLogsDir,
      cgroupRoot: o.cgroupRoot,
      ...(o.clusterDns ? { clusterDns: o.clusterDns.split(',').filter((x) => x !== '') } : {}),
    },
    cri,
    api: apiWrites(core),
    logger,
  });
  const fieldSelector = `spec.nodeName=${node}`;
  const stopping = new AbortController();
  const watch = await watchResource<V1Pod>({
    kubeconfig,
    path: '/api/v1/pods',
    fieldSelector,
    list: () => core.listPodForAllNamespaces({ fieldSelector }),
    // every (re)list: sandboxes of pods the API no longer has go
    onList: (pods) =>
      void kubelet.reconcile(pods).then(
        (removed) => removed.length > 0 && logger.info({ removed }, 'removed the sandboxes of pods no longer in the API'),
        (e: unknown) => logger.warn({ err: errorMessage(e) }, 'reconciling the runtime with the API failed'),
      ),
    onAdd: (p) => kubelet.podUpdated(p),
    onUpdate: (p) => kubelet.podUpdated(p),
    onDelete: (p) => kubelet.podDeleted(p),
    logger,
    signal: stopping.signal,
  });
  await writeNodeStatus(true);
  logger.info({ node, pods: watch.list().length, runtime: o.containerRuntimeEndpoint }, 'kubelet ready');
  exitOnTerminationSignals(
    async () => {
      stopping.abort();
      await watch.stop();
      await kubelet.stop();
      cri.close();
    },
    { logger, message: 'kubelet stopping' },
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`kubelet: ${e instanceof NetloomError ? e.message : errorMessage(e)}\n`);
    process.exit(1);
  });
}
