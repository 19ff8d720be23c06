/**
 * A Service and its EndpointSlices as kubeService intent (netmaster/kube/service-from-api.ts),
 * checked by the kind's schema (netmaster/kube/intent.ts checkService).
 */
import { strict as assert } from 'node:assert';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { isNetloomError } from '../../../lib/errors';
import { checkService } from '../../../netmaster/kube/intent';
import { serviceFromApi, sliceServiceKey } from '../../../netmaster/kube/service-from-api';

const svc = (spec: NonNullable<V1Service['spec']>): V1Service => ({ metadata: { namespace: 'x', name: 'web' }, spec });
const WEB = svc({
  type: 'ClusterIP',
  clusterIP: '10.96.0.10',
  ports: [
    { name: 'http', port: 80, targetPort: 'http' },
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
  ],
});
const slice = (name: string, httpPort: number, endpoints: NonNullable<V1EndpointSlice['endpoints']>): V1EndpointSlice => ({
  metadata: { namespace: 'x', name, labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [
    { name: 'http', port: httpPort, protocol: 'TCP' },
    { name: 'dns', port: 5353, protocol: 'UDP' },
  ],
  endpoints,
});
const pod = (name: string) => ({ kind: 'Pod', namespace: 'x', name });

describe('Kubernetes Services as intent', () => {
  it('joins the ready endpoints of every slice, each with its own port per service port', () => {
    const s = serviceFromApi(WEB, [
      slice('web-a', 8080, [
        { addresses: ['10.1.0.3'], conditions: { ready: true }, targetRef: pod('b') },
        { addresses: ['10.1.0.2'], targetRef: pod('a') }, // ready unset: ready
        { addresses: ['10.1.0.9'], conditions: { ready: false }, targetRef: pod('c') },
      ]),
      slice('web-b', 9090, [{ addresses: ['10.1.0.4'], conditions: { ready: true }, targetRef: pod('d') }]),
    ]);
    assert.deepEqual(s, {
      namespace: 'x',
      name: 'web',
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      externalTrafficPolicy: 'Cluster',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, nodePort: 0 },
        { name: 'dns', protocol: 'UDP', port: 53, nodePort: 0 },
      ],
      endpoints: [
        { ip: '10.1.0.2', pod: { namespace: 'x', name: 'a' }, ports: [8080, 5353] },
        { ip: '10.1.0.3', pod: { namespace: 'x', name: 'b' }, ports: [8080, 5353] },
        { ip: '10.1.0.4', pod: { namespace: 'x', name: 'd' }, ports: [9090, 5353] },
      ],
    });
    assert.equal(checkService(s!).key, 'x:web', 'the store takes it');
  });

  it('balances only Services with a cluster IP; NodePort and LoadBalancer keep their node ports', () => {
    assert.equal(serviceFromApi(svc({ clusterIP: 'None', ports: [{ port: 80 }] }), []), undefined, 'headless');
    assert.equal(serviceFromApi(svc({ type: 'ExternalName', externalName: 'x.example' }), []), undefined);
    for (const type of ['NodePort', 'LoadBalancer']) {
      const s = serviceFromApi(svc({ type, clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080 }] }), []);
      assert.deepEqual([s?.type, s?.ports[0]?.nodePort, s?.externalTrafficPolicy], ['NodePort', 30080, 'Cluster'], type);
    }
    const local = serviceFromApi(
      svc({ type: 'NodePort', clusterIP: '10.96.0.12', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30081 }] }),
      [],
    );
    assert.equal(local?.externalTrafficPolicy, 'Local', 'externalTrafficPolicy Local is kept');
    assert.equal(checkService(local!).key, 'x:web');
    assert.equal(sliceServiceKey(slice('s', 80, [])), 'x/web');
    assert.equal(sliceServiceKey({ metadata: { namespace: 'x', name: 'manual' }, addressType: 'IPv4', endpoints: [] }), '');
  });

  it('a slice without the port of a service port gives 0; the store refuses bad objects naming the field', () => {
    const s = serviceFromApi(WEB, [
      {
        metadata: { namespace: 'x', name: 'w' },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: ['10.1.0.2'] }],
      },
    ])!;
    assert.deepEqual(s.endpoints[0]!.ports, [8080, 0]);
    const refused = (body: object, field: RegExp) =>
      assert.throws(
        () => checkService({ ...s, ...body }),
        (e: unknown) => isNetloomError(e) && field.test(e.field ?? ''),
      );
    refused({ clusterIP: '10.96.0' }, /clusterIP/);
    refused({ externalTrafficPolicy: 'Somewhere' }, /externalTrafficPolicy/);
    refused({ ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] }, /ports\.0\.nodePort/);
    refused({ endpoints: [{ ip: '10.1.0.2', ports: [1] }] }, /endpoints\.0\.ports/);
  });
});
