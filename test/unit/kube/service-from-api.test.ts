/**
 * A Service and its EndpointSlices as kubeService and kubeServiceSlice intent
 * (netmaster/kube/service-from-api.ts), checked by the kinds' schemas (netmaster/kube/intent.ts).
 */
import { strict as assert } from 'node:assert';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { isNetloomError } from '../../../lib/errors';
import { LIMITS } from '../../../lib/kinds/limits';
import { checkService, checkSlice, sliceKeyOf } from '../../../netmaster/kube/intent';
import { serviceFromApi, sliceFromApi, sliceServiceKey } from '../../../netmaster/kube/service-from-api';

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
  it('a Service is its ports; each slice its own ready endpoints and ports, stored apart', () => {
    const s = serviceFromApi(WEB);
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
    });
    assert.equal(checkService(s!).key, 'x:web', 'the store takes it');
    const a = sliceFromApi(
      slice('web-a', 8080, [
        { addresses: ['10.1.0.3'], conditions: { ready: true }, targetRef: pod('b') },
        { addresses: ['10.1.0.2'], targetRef: pod('a') }, // ready unset: ready
        { addresses: ['10.1.0.9'], conditions: { ready: false }, targetRef: pod('c') },
      ]),
    );
    assert.deepEqual(a, {
      namespace: 'x',
      service: 'web',
      slice: 'web-a',
      ports: [
        { name: 'http', protocol: 'TCP', port: 8080 },
        { name: 'dns', protocol: 'UDP', port: 5353 },
      ],
      endpoints: [
        { ip: '10.1.0.2', pod: { namespace: 'x', name: 'a' } },
        { ip: '10.1.0.3', pod: { namespace: 'x', name: 'b' } },
      ],
    });
    assert.equal(checkSlice(a!).key, 'x:web:web-a', 'keyed namespace:service:slice');
    assert.equal(sliceKeyOf(a!), 'x/web/web-a');
    assert.equal(sliceFromApi({ ...slice('v6', 80, []), addressType: 'IPv6' }), undefined, 'IPv6 slices are not balanced');
    assert.equal(
      sliceFromApi({ metadata: { namespace: 'x', name: 'manual' }, addressType: 'IPv4', endpoints: [] }),
      undefined,
      'no Service',
    );
  });

  it('balances only Services with a cluster IP; NodePort and LoadBalancer keep their node ports', () => {
    assert.equal(serviceFromApi(svc({ clusterIP: 'None', ports: [{ port: 80 }] })), undefined, 'headless');
    assert.equal(serviceFromApi(svc({ type: 'ExternalName', externalName: 'x.example' })), undefined);
    for (const type of ['NodePort', 'LoadBalancer']) {
      const s = serviceFromApi(svc({ type, clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080 }] }));
      assert.deepEqual([s?.type, s?.ports[0]?.nodePort, s?.externalTrafficPolicy], ['NodePort', 30080, 'Cluster'], type);
    }
    const local = serviceFromApi(
      svc({ type: 'NodePort', clusterIP: '10.96.0.12', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30081 }] }),
    );
    assert.equal(local?.externalTrafficPolicy, 'Local', 'externalTrafficPolicy Local is kept');
    assert.equal(checkService(local!).key, 'x:web');
    assert.equal(sliceServiceKey(slice('s', 80, [])), 'x/web');
    assert.equal(sliceServiceKey({ metadata: { namespace: 'x', name: 'manual' }, addressType: 'IPv4', endpoints: [] }), '');
  });

  it('the store refuses bad Services and slices naming the field, and a slice past the limits', () => {
    const s = serviceFromApi(WEB)!;
    const refused = (check: () => unknown, field: RegExp) =>
      assert.throws(check, (e: unknown) => isNetloomError(e) && field.test(e.field ?? ''));
    refused(() => checkService({ ...s, clusterIP: '10.96.0' }), /clusterIP/);
    refused(() => checkService({ ...s, externalTrafficPolicy: 'Somewhere' as 'Local' }), /externalTrafficPolicy/);
    refused(() => checkService({ ...s, ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] }), /ports\.0\.nodePort/);
    const a = sliceFromApi(slice('web-a', 8080, [{ addresses: ['10.1.0.2'] }]))!;
    refused(() => checkSlice({ ...a, endpoints: [{ ip: '10.1.0' }] }), /endpoints\.0\.ip/);
    refused(() => checkSlice({ ...a, endpoints: [{ ip: '10.1.0.2' }, { ip: '10.1.0.2' }] }), /endpoints\.1\.ip/);
    // Kubernetes allows 1000 endpoints in a slice; a stored one holds LIMITS.list
    const many = Array.from({ length: LIMITS.list + 1 }, (_, i) => ({ ip: `10.2.${i >> 8}.${i & 255}` }));
    assert.throws(
      () => checkSlice({ ...a, endpoints: many }),
      (e: unknown) => isNetloomError(e) && e.field === 'endpoints' && /x\/web\/web-a/.test(e.message) && /at most 256/.test(e.message),
    );
    assert.equal(checkSlice({ ...a, endpoints: many.slice(0, LIMITS.list) }).config.endpoints.length, LIMITS.list);
  });
});
