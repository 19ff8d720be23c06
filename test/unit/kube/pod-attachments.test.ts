import { strict as assert } from 'node:assert';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { followPodLabels, PodAttachments, type PodSource } from '../../../netplugin/kube/pod-attachments';
import type { NamespaceObject, PodObject } from '../../../netplugin/kube/pod-identity';

const net = { cniNetwork: 'k8s-pod-network', tenant: 'default', network: 'pods' };

function source(
  pods: Record<string, PodObject>,
  namespaces: Record<string, NamespaceObject> = { x: { metadata: { name: 'x' } } },
): PodSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    pod(namespace, name) {
      asked.push(`${namespace}/${name}`);
      const p = pods[`${namespace}/${name}`];
      return p ? Promise.resolve(p) : Promise.reject(new NetloomError('UNAVAILABLE', 'not bound', { field: 'K8S_POD_NAME' }));
    },
    namespace(name) {
      asked.push(`namespace ${name}`);
      const n = namespaces[name];
      return n ? Promise.resolve(n) : Promise.reject(new NetloomError('UNAVAILABLE', 'no namespace', { field: 'K8S_POD_NAMESPACE' }));
    },
  };
}

describe('pod attachments', () => {
  const pods = source({
    'x/a': {
      metadata: { namespace: 'x', name: 'a', uid: 'u', labels: { pod: 'a' }, annotations: { 'netloom.io/group': 'web' } },
      spec: { containers: [{ ports: [{ name: 'serve-80-tcp', containerPort: 80 }] }] },
    },
  });

  it('leaves a request without a pod namespace alone (podman passes K8S_POD_NAME only)', async () => {
    const r = new PodAttachments({ pods, tenantPerNamespace: false, waitMs: 10 });
    assert.equal(await r.resolve(undefined, net), undefined);
    assert.equal(await r.resolve({ name: 'a' }, net), undefined);
  });

  it("takes network, group and labels from the pod, the CNI configuration's as defaults", async () => {
    const r = new PodAttachments({ pods, tenantPerNamespace: true, waitMs: 10 });
    const got = await r.resolve({ name: 'a', namespace: 'x' }, net);
    assert.deepEqual(got, {
      network: { cniNetwork: 'k8s-pod-network', tenant: 'x', network: 'pods', group: 'web' },
      labels: { pod: 'a' },
      pod: { namespace: 'x', name: 'a', uid: 'u', namedPorts: [{ name: 'serve-80-tcp', protocol: 'TCP', port: 80 }] },
    });
  });

  it("takes the network from the pod's namespace when the pod names none", async () => {
    const withNs = source(
      { 'y/a': { metadata: { namespace: 'y', name: 'a', uid: 'u2' } } },
      { y: { metadata: { name: 'y', annotations: { 'netloom.io/network': 'blue' } } } },
    );
    const r = new PodAttachments({ pods: withNs, tenantPerNamespace: false, waitMs: 10 });
    const got = await r.resolve({ name: 'a', namespace: 'y' }, net);
    assert.deepEqual(got?.network, { cniNetwork: 'k8s-pod-network', tenant: 'default', network: 'blue' });
    assert.deepEqual(withNs.asked.sort(), ['namespace y', 'y/a']);
  });

  it('fails the ADD (retryable) when the namespace never reaches the cache', async () => {
    const r = new PodAttachments({
      pods: source({ 'x/a': { metadata: { namespace: 'x', name: 'a' } } }, {}),
      tenantPerNamespace: false,
      waitMs: 10,
    });
    await assert.rejects(
      r.resolve({ name: 'a', namespace: 'x' }, net),
      (e: unknown) => isNetloomError(e) && e.code === 'UNAVAILABLE' && e.field === 'K8S_POD_NAMESPACE',
    );
  });

  it('fails the ADD (retryable) when the pod never reaches the cache', async () => {
    const r = new PodAttachments({ pods, tenantPerNamespace: false, waitMs: 10 });
    await assert.rejects(r.resolve({ name: 'b', namespace: 'x' }, net), (e: unknown) => isNetloomError(e) && e.code === 'UNAVAILABLE');
  });

  it("pushes a pod's new labels to its endpoints only, and keeps going after a failure", async () => {
    const set: Array<[string, Record<string, string>]> = [];
    const logger = createLogger('test', { level: 'silent' });
    await followPodLabels(
      { metadata: { namespace: 'x', name: 'a', labels: { pod: 'a', tier: 'web' } } },
      [
        { endpointId: 'e1', podNamespace: 'x', podName: 'a' },
        { endpointId: 'e2', podNamespace: 'y', podName: 'a' },
        { endpointId: 'e3', podNamespace: 'x', podName: 'a' },
      ],
      (id, labels) => {
        set.push([id, labels]);
        return id === 'e1' ? Promise.reject(new Error('netmaster away')) : Promise.resolve();
      },
      logger,
    );
    assert.deepEqual(set, [
      ['e1', { pod: 'a', tier: 'web' }],
      ['e3', { pod: 'a', tier: 'web' }],
    ]);
  });
});
