import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { podIdentity, type IdentityDefaults, type PodObject } from '../../../netplugin/kube/pod-identity';

const defaults: IdentityDefaults = { tenantPerNamespace: false, tenant: 'k8s', network: 'pods', group: '' };

const pod = (over: Partial<NonNullable<PodObject['metadata']>> = {}, spec?: PodObject['spec']): PodObject => ({
  metadata: { namespace: 'x', name: 'a', uid: 'u-1', labels: { pod: 'a' }, ...over },
  ...(spec ? { spec } : {}),
});

describe('pod identity', () => {
  it('takes the configured defaults when the pod says nothing', () => {
    const id = podIdentity(pod(), defaults);
    assert.deepEqual(
      { tenant: id.tenant, network: id.network, group: id.group, labels: id.labels, pod: id.pod },
      { tenant: 'k8s', network: 'pods', group: '', labels: { pod: 'a' }, pod: { namespace: 'x', name: 'a', uid: 'u-1', namedPorts: [] } },
    );
  });

  it('makes the namespace the tenant when configured so', () => {
    assert.equal(podIdentity(pod(), { ...defaults, tenantPerNamespace: true }).tenant, 'x');
  });

  it("prefers netloom's annotations to Contiv's labels, and those to the defaults", () => {
    const contiv = { pod: 'a', 'io.contiv.tenant': 'ct', 'io.contiv.network': 'cn', 'io.contiv.net-group': 'cg' };
    const fromContiv = podIdentity(pod({ labels: contiv }), defaults);
    assert.deepEqual([fromContiv.tenant, fromContiv.network, fromContiv.group], ['ct', 'cn', 'cg']);
    const ann = { 'netloom.io/tenant': 'nt', 'netloom.io/network': 'nn', 'netloom.io/group': 'ng' };
    const fromAnn = podIdentity(pod({ labels: contiv, annotations: ann }), defaults);
    assert.deepEqual([fromAnn.tenant, fromAnn.network, fromAnn.group], ['nt', 'nn', 'ng']);
    // an annotation for one field only: the others still come from the labels
    const mixed = podIdentity(pod({ labels: contiv, annotations: { 'netloom.io/group': 'ng' } }), defaults);
    assert.deepEqual([mixed.tenant, mixed.network, mixed.group], ['ct', 'cn', 'ng']);
  });

  it('names the annotation that is not a netloom name', () => {
    assert.throws(
      () => podIdentity(pod({ annotations: { 'netloom.io/network': 'no spaces allowed' } }), defaults),
      (e: unknown) => isNetloomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'annotation.netloom.io/network',
    );
  });

  it('collects named ports of every container, protocol TCP by default, sorted', () => {
    const id = podIdentity(
      pod(
        {},
        {
          containers: [
            { ports: [{ name: 'serve-81-udp', containerPort: 81, protocol: 'UDP' }, { containerPort: 9000 }] },
            {
              ports: [
                { name: 'serve-80-tcp', containerPort: 80 },
                { name: 'serve-81-udp', containerPort: 1081, protocol: 'UDP' },
              ],
            },
          ],
        },
      ),
      defaults,
    );
    assert.deepEqual(id.pod.namedPorts, [
      { name: 'serve-80-tcp', protocol: 'TCP', port: 80 },
      { name: 'serve-81-udp', protocol: 'UDP', port: 81 },
    ]);
  });

  it('refuses a pod without namespace or name, and labels netloom cannot carry', () => {
    assert.throws(() => podIdentity({ metadata: { name: 'a' } }, defaults), /namespace and name/);
    assert.throws(
      () => podIdentity(pod({ labels: { 'a=b': 'x' } }), defaults),
      (e: unknown) => isNetloomError(e) && (e.field ?? '').startsWith('pod.metadata.labels'),
    );
  });
});
