/**
 * The agent's Kubernetes caches (netplugin/kube: pod cache and namespace cache, through
 * lib/kube/resource-watch) against the API stand-in driven with kubectl: a pod's identity is read
 * from memory, its namespace's netloom.io annotation decides its network when the pod names none;
 * an ADD that comes before its namespace reaches the cache waits for it (bounded); a pod deleted
 * and made again under the same name is found by its UID (K8S_POD_UID), never the old one.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { isNetloomError } from '../../../lib/errors';
import { loadKubeconfig } from '../../../lib/kube/kubeconfig';
import { NamespaceCache } from '../../../netplugin/kube/namespace-cache';
import { PodCache } from '../../../netplugin/kube/pod-cache';
import { PodAttachments } from '../../../netplugin/kube/pod-attachments';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const NODE = 'node-a';
const net = { cniNetwork: 'k8s-pod-network', tenant: 'default', network: 'pods' };

const pod = (ns: string, name: string, ports: Array<[string, number]> = []): string =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${ns}`,
    '  labels: {app: web}',
    'spec:',
    `  nodeName: ${NODE}`,
    '  containers:',
    '    - name: c',
    '      image: nlpod:test',
    ...(ports.length > 0 ? ['      ports:', ...ports.map(([n, p]) => `        - {name: ${n}, containerPort: ${p}}`)] : []),
    '',
  ].join('\n');

describe("the agent's pod and namespace caches (API stand-in, kubectl)", function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let api: KubeApiFixture | undefined;
  let pods: PodCache | undefined;
  let namespaces: NamespaceCache | undefined;
  const logger = createLogger('agent-caches-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });
  const stopping = new AbortController();
  const uidOf = async (ns: string, name: string): Promise<string> =>
    (await api!.kubectl(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();

  before(async () => {
    etcd = await startTestEtcd('ka-agent-caches', 27460);
    api = await startKubeApi({ name: 'ka-caches', etcdEndpoint: etcd.endpoint, port: 27466, bookmarkIntervalSeconds: 1 });
    const kubeconfig = loadKubeconfig(api.kubeconfig);
    [pods, namespaces] = await Promise.all([
      PodCache.start({ kubeconfig, nodeName: NODE, logger, signal: stopping.signal }),
      NamespaceCache.start({ kubeconfig, logger, signal: stopping.signal }),
    ]);
  });

  after(async () => {
    stopping.abort();
    await pods?.stop().catch(() => undefined);
    await namespaces?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  const resolver = () =>
    new PodAttachments({
      pods: {
        pod: (ns, name, ms, uid) => pods!.pod(ns, name, ms, uid),
        namespace: (name, ms) => namespaces!.namespace(name, ms),
      },
      tenantPerNamespace: false,
      waitMs: 10_000,
    });

  it("a pod that names no network takes its namespace's netloom.io/network, the namespace waited for when it comes after the ADD", async () => {
    // the ADD is asked before the namespace exists: it waits for it (and for the pod)
    const asked = resolver().resolve({ namespace: 'ac-blue', name: 'web' }, net);
    const namespace = [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata:',
      '  name: ac-blue',
      '  annotations: {netloom.io/network: blue, netloom.io/group: front}',
      '---',
      '',
    ].join('\n');
    await api!.kubectl(['apply', '-f', '-'], { input: namespace + pod('ac-blue', 'web') });
    const got = await asked;
    assert.deepEqual(got?.network, { cniNetwork: 'k8s-pod-network', tenant: 'default', network: 'blue', group: 'front' });
    assert.deepEqual(got?.labels, { app: 'web' });
  });

  it('a namespace annotation that is not a netloom name fails the ADD naming the namespace and the annotation', async () => {
    await api!.kubectl(['create', 'namespace', 'ac-bad']);
    await api!.kubectl(['annotate', 'namespace', 'ac-bad', 'netloom.io/network=not_a_name']);
    await api!.kubectl(['apply', '-f', '-'], { input: pod('ac-bad', 'web') });
    await waitForAnnotation('ac-bad');
    await assert.rejects(
      resolver().resolve({ namespace: 'ac-bad', name: 'web' }, net),
      (e: unknown) =>
        isNetloomError(e) &&
        e.code === 'INVALID_ARGUMENT' &&
        e.field === 'namespace.metadata.annotations.netloom.io/network' &&
        e.message.startsWith('namespace ac-bad annotation "netloom.io/network"'),
    );
  });

  it('a namespace that never comes fails the ADD (retryable) within its bound, naming K8S_POD_NAMESPACE', async () => {
    await assert.rejects(
      namespaces!.namespace('ac-never', 200),
      (e: unknown) => isNetloomError(e) && e.code === 'UNAVAILABLE' && e.field === 'K8S_POD_NAMESPACE',
    );
  });

  it('a pod deleted and made again under the same name: the ADD with the new UID gets the new pod, not the old one', async () => {
    await api!.kubectl(['create', 'namespace', 'ac-remake']);
    await api!.kubectl(['apply', '-f', '-'], { input: pod('ac-remake', 'srv', [['web', 80]]) });
    const oldUid = await uidOf('ac-remake', 'srv');
    const old = await pods!.pod('ac-remake', 'srv', 10_000, oldUid);
    assert.equal(old.metadata?.uid, oldUid);
    // the cache still holds the old pod while the ADD of the new one is asked: it waits for the new
    const stale = pods!.pod('ac-remake', 'srv', 200, 'not-this-pod');
    await assert.rejects(stale, (e: unknown) => isNetloomError(e) && e.code === 'UNAVAILABLE' && e.field === 'K8S_POD_UID');
    await api!.kubectl(['delete', 'pod', 'srv', '-n', 'ac-remake', '--grace-period=0']);
    await api!.kubectl(['apply', '-f', '-'], { input: pod('ac-remake', 'srv', [['web', 81]]) });
    const newUid = await uidOf('ac-remake', 'srv');
    assert.notEqual(newUid, oldUid);
    const got = await resolver().resolve({ namespace: 'ac-remake', name: 'srv', uid: newUid }, net);
    assert.equal(got?.pod.uid, newUid);
    assert.deepEqual(got?.pod.namedPorts, [{ name: 'web', protocol: 'TCP', port: 81 }]);
  });

  const waitForAnnotation = (ns: string): Promise<unknown> =>
    waitFor(
      `namespace ${ns}'s annotation to reach the cache`,
      async () => (await namespaces!.namespace(ns, 10_000)).metadata?.annotations?.['netloom.io/network'] !== undefined,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
});
