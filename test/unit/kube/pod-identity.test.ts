import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { podIdentity, type IdentityDefaults, type NamespaceObject, type PodObject } from '../../../netplugin/kube/pod-identity';

const defaults: IdentityDefaults = { tenantPerNamespace: false, tenant: 'k8s', network: 'pods', group: '' };

const pod = (over: Partial<NonNullable<PodObject['metadata']>> = {}, spec?: PodObject['spec']): PodObject => ({
  metadata: { namespace: 'x', name: 'a', uid: 'u-1', labels: { pod: 'a' }, ...over },
  ...(spec ? { spec } : {}),
});

const ns = (over: Partial<NonNullable<NamespaceObject['metadata']>> = {}): NamespaceObject => ({
  metadata: { name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' }, ...over },
});

describe('pod identity', () => {
  it('takes the configured defaults when the pod says nothing', () => {
    const id = podIdentity(pod(), ns(), defaults);
    assert.deepEqual(
      { tenant: id.tenant, network: id.network, group: id.group, labels: id.labels, pod: id.pod },
      { tenant: 'k8s', network: 'pods', group: '', labels: { pod: 'a' }, pod: { namespace: 'x', name: 'a', uid: 'u-1', namedPorts: [] } },
    );
  });

  it('makes the namespace the tenant when configured so', () => {
    assert.equal(podIdentity(pod(), ns(), { ...defaults, tenantPerNamespace: true }).tenant, 'x');
  });

  it("prefers netloom's annotations to Contiv's labels, and those to the defaults", () => {
    const contiv = { pod: 'a', 'io.contiv.tenant': 'ct', 'io.contiv.network': 'cn', 'io.contiv.net-group': 'cg' };
    const fromContiv = podIdentity(pod({ labels: contiv }), ns(), defaults);
    assert.deepEqual([fromContiv.tenant, fromContiv.network, fromContiv.group], ['ct', 'cn', 'cg']);
    const ann = { 'netloom.io/tenant': 'nt', 'netloom.io/network': 'nn', 'netloom.io/group': 'ng' };
    const fromAnn = podIdentity(pod({ labels: contiv, annotations: ann }), ns(), defaults);
    assert.deepEqual([fromAnn.tenant, fromAnn.network, fromAnn.group], ['nt', 'nn', 'ng']);
    // an annotation for one field only: the others still come from the labels
    const mixed = podIdentity(pod({ labels: contiv, annotations: { 'netloom.io/group': 'ng' } }), ns(), defaults);
    assert.deepEqual([mixed.tenant, mixed.network, mixed.group], ['ct', 'cn', 'ng']);
  });

  it("takes what the pod does not say from its namespace's annotations, then its namespace's Contiv labels", () => {
    const nsAnn = { 'netloom.io/tenant': 'st', 'netloom.io/network': 'sn', 'netloom.io/group': 'sg' };
    const nsContiv = { 'io.contiv.tenant': 'lt', 'io.contiv.network': 'ln', 'io.contiv.net-group': 'lg' };
    const fromNsLabels = podIdentity(pod(), ns({ labels: nsContiv }), defaults);
    assert.deepEqual([fromNsLabels.tenant, fromNsLabels.network, fromNsLabels.group], ['lt', 'ln', 'lg']);
    const fromNsAnn = podIdentity(pod(), ns({ labels: nsContiv, annotations: nsAnn }), defaults);
    assert.deepEqual([fromNsAnn.tenant, fromNsAnn.network, fromNsAnn.group], ['st', 'sn', 'sg']);
    // per field: the pod's annotation, then the pod's Contiv label, then the namespace's annotation, then its label
    const mixed = podIdentity(
      pod({ labels: { pod: 'a', 'io.contiv.network': 'pn' }, annotations: { 'netloom.io/group': 'pg' } }),
      ns({ labels: nsContiv, annotations: { 'netloom.io/network': 'sn' } }),
      defaults,
    );
    assert.deepEqual([mixed.tenant, mixed.network, mixed.group], ['lt', 'pn', 'pg']);
    // the namespace's labels are not the endpoint's: only the pod's are
    assert.deepEqual(fromNsAnn.labels, { pod: 'a' });
    // an empty value is no value: the next source decides
    const empty = podIdentity(
      pod({ annotations: { 'netloom.io/network': '' } }),
      ns({ annotations: { 'netloom.io/network': 'sn' } }),
      defaults,
    );
    assert.equal(empty.network, 'sn');
    // a namespace's tenant wins over tenant-per-namespace, which is only the default
    assert.equal(
      podIdentity(pod(), ns({ annotations: { 'netloom.io/tenant': 'st' } }), { ...defaults, tenantPerNamespace: true }).tenant,
      'st',
    );
  });

  it('names the annotation or label that is not a netloom name, and whose it is', () => {
    const refused = (p: PodObject, n: NamespaceObject, field: string, message: RegExp) =>
      assert.throws(
        () => podIdentity(p, n, defaults),
        (e: unknown) => isNetloomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field && message.test(e.message),
      );
    refused(
      pod({ annotations: { 'netloom.io/network': 'no spaces allowed' } }),
      ns(),
      'pod.metadata.annotations.netloom.io/network',
      /^pod x\/a annotation "netloom.io\/network": "no spaces allowed" is not a netloom name/,
    );
    refused(
      pod({ labels: { 'io.contiv.net-group': '-bad' } }),
      ns(),
      'pod.metadata.labels.io.contiv.net-group',
      /^pod x\/a label "io.contiv.net-group"/,
    );
    refused(
      pod(),
      ns({ annotations: { 'netloom.io/network': 'no spaces allowed' } }),
      'namespace.metadata.annotations.netloom.io/network',
      /^namespace x annotation "netloom.io\/network": "no spaces allowed" is not a netloom name/,
    );
    refused(
      pod(),
      ns({ labels: { 'io.contiv.tenant': 'x'.repeat(100) } }),
      'namespace.metadata.labels.io.contiv.tenant',
      /^namespace x label/,
    );
    // a valid value earlier in the order hides a bad one later: it is never read
    assert.equal(
      podIdentity(pod({ annotations: { 'netloom.io/network': 'good' } }), ns({ annotations: { 'netloom.io/network': 'b a d' } }), defaults)
        .network,
      'good',
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
      ns(),
      defaults,
    );
    assert.deepEqual(id.pod.namedPorts, [
      { name: 'serve-80-tcp', protocol: 'TCP', port: 80 },
      { name: 'serve-81-udp', protocol: 'UDP', port: 81 },
    ]);
  });

  it('refuses a pod without namespace or name, and labels netloom cannot carry', () => {
    assert.throws(() => podIdentity({ metadata: { name: 'a' } }, ns(), defaults), /namespace and name/);
    assert.throws(
      () => podIdentity(pod({ labels: { 'a=b': 'x' } }), ns(), defaults),
      (e: unknown) => isNetloomError(e) && (e.field ?? '').startsWith('pod.metadata.labels'),
    );
  });
});
