import { strict as assert } from 'node:assert';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { namespaceFromApi, policyFromApi } from '../../../netmaster/kube/from-api';

const np = (spec: NonNullable<V1NetworkPolicy['spec']>): V1NetworkPolicy => ({ metadata: { namespace: 'x', name: 'p' }, spec });

describe('Kubernetes objects as intent', () => {
  it('resolves policyTypes as the API server does', () => {
    const onlyIngress = policyFromApi(np({ podSelector: {} }));
    assert.deepEqual([onlyIngress.ingressIsolation, onlyIngress.egressIsolation], [true, false]);
    const withEgress = policyFromApi(np({ podSelector: {}, egress: [{}] }));
    assert.deepEqual([withEgress.ingressIsolation, withEgress.egressIsolation], [true, true]);
    const onlyEgress = policyFromApi(np({ podSelector: {}, policyTypes: ['Egress'] }));
    assert.deepEqual([onlyEgress.ingressIsolation, onlyEgress.egressIsolation], [false, true]);
  });

  it('keeps absent and empty selectors apart and defaults the protocol to TCP', () => {
    const p = policyFromApi(
      np({
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [
          {
            _from: [
              { namespaceSelector: {} },
              { podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            ],
            ports: [{ port: 80 }, { port: 'serve-81-udp', protocol: 'UDP' }, { port: 8000, endPort: 8080, protocol: 'tcp' }],
          },
        ],
      }),
    );
    assert.equal(p.key, 'x/p');
    assert.deepEqual(p.podSelector, { matchLabels: { pod: 'a' }, matchExpressions: [] });
    const [r] = p.ingress;
    assert.deepEqual(r?.peers, [
      { podSelector: null, namespaceSelector: { matchLabels: {}, matchExpressions: [] }, ipBlock: null },
      {
        podSelector: { matchLabels: {}, matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] },
        namespaceSelector: null,
        ipBlock: null,
      },
      { podSelector: null, namespaceSelector: null, ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
    ]);
    assert.deepEqual(r?.ports, [
      { protocol: 'TCP', port: 80, namedPort: '', endPort: 0 },
      { protocol: 'UDP', port: 0, namedPort: 'serve-81-udp', endPort: 0 },
      { protocol: 'TCP', port: 8000, namedPort: '', endPort: 8080 },
    ]);
  });

  it('reads ingress peers from raw JSON (`from`, as watch events carry them) like typed ones (`_from`)', () => {
    const raw = JSON.parse(
      '{"metadata":{"namespace":"x","name":"p"},"spec":{"podSelector":{},"ingress":[{"from":[{"podSelector":{}}]}]}}',
    ) as V1NetworkPolicy;
    assert.equal(policyFromApi(raw).ingress[0]?.peers.length, 1);
  });

  it('gives every namespace its name label, over a label of the same key it had', () => {
    assert.deepEqual(namespaceFromApi({ metadata: { name: 'y', labels: { ns: 'y', 'kubernetes.io/metadata.name': 'other' } } }), {
      key: 'y',
      labels: { ns: 'y', 'kubernetes.io/metadata.name': 'y' },
    });
  });
});
