/**
 * The stand-in's EndpointSlice controller seen through @kubernetes/client-node: a Service's slice
 * follows its pods' addresses and readiness (written through the pod status subresource, as a
 * kubelet does), named targetPorts resolved per pod (pods that resolve differently get their own
 * slice), pods deleted or relabelled leave it, and the Service's deletion takes its slices. Real etcd.
 */
import assert from 'node:assert/strict';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../../lib/clock';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const NS = 'ka-eps';

describe('kube-apiserver stand-in: EndpointSlices follow pods', function () {
  let etcd: EtcdFixture;
  let api: KubeApiFixture;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;

  const pod = (name: string, labels: Record<string, string>, port: number): V1Pod => ({
    metadata: { name, labels },
    spec: { nodeName: `node-${name}`, containers: [{ name: 'c', image: 'pause', ports: [{ name: 'http', containerPort: port }] }] },
  });

  /** what a kubelet reports: an address, Running, and the Ready condition */
  async function setStatus(name: string, ip: string, ready: boolean): Promise<void> {
    const cur = await core.readNamespacedPod({ name, namespace: NS });
    cur.status = {
      ...cur.status,
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    };
    await core.replaceNamespacedPodStatus({ name, namespace: NS, body: cur });
  }

  const slices = async (): Promise<V1EndpointSlice[]> =>
    (await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' })).items;

  /** port -> sorted "ip ready node" of every endpoint, over every slice */
  async function view(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const s of await slices()) {
      const key = (s.ports ?? []).map((p) => `${p.name ?? ''}:${p.port ?? ''}/${p.protocol ?? ''}`).join(',') || '-';
      out[key] = (s.endpoints ?? []).map((e) => `${e.addresses.join(',')} ${String(e.conditions?.ready)} ${e.nodeName ?? ''}`).sort();
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }

  const settles = (want: Record<string, string[]>): Promise<true> =>
    waitFor(`slices ${JSON.stringify(want)}`, async () => {
      const got = await view();
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}`);
      return true as const;
    });

  before(async function () {
    etcd = await startTestEtcd('ka-eps', 27420);
    api = await startKubeApi({ name: 'ka-eps', etcdEndpoint: etcd.endpoint, port: 27423 });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async function () {
    await api?.stop();
    await etcd?.stop();
  });

  it('keeps an empty slice for a Service whose pods have no address yet, owned by the Service and labelled as upstream', async function () {
    await core.createNamespacedPod({ namespace: NS, body: pod('p1', { app: 'web' }, 8080) });
    await core.createNamespacedPod({ namespace: NS, body: pod('p2', { app: 'web' }, 8080) });
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    });
    await settles({ '-': [] });
    const [slice] = await slices();
    assert.equal(slice?.addressType, 'IPv4');
    assert.match(slice?.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
    assert.equal(slice?.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.deepEqual(
      slice?.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['Service', 'web', svc.metadata?.uid, true]],
    );
  });

  it('lists pods as they get addresses, with readiness from their Ready condition and named ports resolved', async function () {
    await setStatus('p1', '10.1.0.1', false);
    await settles({ 'http:8080/TCP': ['10.1.0.1 false node-p1'] });
    await setStatus('p2', '10.1.0.2', true);
    await setStatus('p1', '10.1.0.1', true);
    await settles({ 'http:8080/TCP': ['10.1.0.1 true node-p1', '10.1.0.2 true node-p2'] });
    const ep = (await slices())[0]?.endpoints?.find((e) => e.addresses[0] === '10.1.0.2');
    assert.equal(ep?.targetRef?.kind, 'Pod');
    assert.equal(ep?.targetRef?.name, 'p2');
    assert.equal(ep?.conditions?.serving, true);
  });

  it('puts a pod whose named port resolves to another number in a slice of its own', async function () {
    await core.createNamespacedPod({ namespace: NS, body: pod('p3', { app: 'web' }, 9090) });
    await setStatus('p3', '10.1.0.3', true);
    await settles({ 'http:8080/TCP': ['10.1.0.1 true node-p1', '10.1.0.2 true node-p2'], 'http:9090/TCP': ['10.1.0.3 true node-p3'] });
  });

  it('drops pods that are deleted, stop matching, lose readiness or finish', async function () {
    await core.deleteNamespacedPod({ name: 'p3', namespace: NS });
    await settles({ 'http:8080/TCP': ['10.1.0.1 true node-p1', '10.1.0.2 true node-p2'] });
    await setStatus('p2', '10.1.0.2', false);
    await settles({ 'http:8080/TCP': ['10.1.0.1 true node-p1', '10.1.0.2 false node-p2'] });
    const p2 = await core.readNamespacedPod({ name: 'p2', namespace: NS });
    p2.metadata = { ...p2.metadata, labels: { app: 'other' } };
    await core.replaceNamespacedPod({ name: 'p2', namespace: NS, body: p2 });
    await settles({ 'http:8080/TCP': ['10.1.0.1 true node-p1'] });
    const p1 = await core.readNamespacedPod({ name: 'p1', namespace: NS });
    p1.status = { ...p1.status, phase: 'Succeeded' };
    await core.replaceNamespacedPodStatus({ name: 'p1', namespace: NS, body: p1 });
    await settles({ '-': [] });
  });

  it('removes the slices of a deleted Service', async function () {
    await core.deleteNamespacedService({ name: 'web', namespace: NS });
    await waitFor('no slices', async () => (await slices()).length === 0);
  });
});
