import assert from 'node:assert/strict';
import { fieldErrorText } from '../../../tools/kube-apiserver/field-errors';
import type { JsonObject } from '../../../tools/kube-apiserver/json';
import { allocateServiceAddresses, DEFAULT_RANGES, ipRange, numberToIp } from '../../../tools/kube-apiserver/service-ips';

const svc = (name: string, spec: JsonObject): JsonObject => ({
  metadata: { name, namespace: 'ns' },
  spec: { ports: [{ port: 80 }], ...spec },
});
const spec = (o: JsonObject): JsonObject => o.spec as JsonObject;

describe('Service ClusterIP and NodePort allocation', () => {
  const existing = [
    svc('a', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
    svc('h', { clusterIP: 'None' }),
  ];

  it('knows the usable range of the CIDR (network and broadcast excluded)', () => {
    const r = ipRange('10.96.0.0/16');
    assert.equal(numberToIp(r.first), '10.96.0.1');
    assert.equal(numberToIp(r.last), '10.96.255.254');
  });

  it('gives a free address and node port when none is asked for (random, deterministic here)', () => {
    const s = svc('b', { type: 'NodePort' });
    assert.deepEqual(
      allocateServiceAddresses(s, existing, DEFAULT_RANGES, 'ns/b', undefined, () => 9 / 65534),
      [],
    );
    assert.equal(spec(s).clusterIP, '10.96.0.11', 'the taken 10.96.0.10 is skipped');
    assert.deepEqual(spec(s).clusterIPs, ['10.96.0.11']);
    assert.deepEqual(spec(s).ipFamilies, ['IPv4']);
    assert.equal(((spec(s).ports as JsonObject[])[0] as JsonObject).nodePort, 30000);
  });

  it('honours a free requested address and port, refuses taken or out-of-range ones as the real server words it', () => {
    const ok = svc('c', { clusterIP: '10.96.5.5' });
    assert.deepEqual(allocateServiceAddresses(ok, existing, DEFAULT_RANGES, 'ns/c'), []);
    const errs = (s: JsonObject): string[] => allocateServiceAddresses(s, existing, DEFAULT_RANGES, 'ns/x').map(fieldErrorText);
    assert.deepEqual(errs(svc('x', { clusterIP: '10.96.0.10' })), [
      'spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    ]);
    assert.deepEqual(errs(svc('x', { clusterIP: '10.97.0.1' })), [
      'spec.clusterIPs: Invalid value: ["10.97.0.1"]: failed to allocate IP 10.97.0.1: the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    ]);
    assert.deepEqual(errs(svc('x', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).slice(-1), [
      'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    ]);
    assert.deepEqual(errs(svc('x', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })).slice(-1), [
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    assert.deepEqual(errs(svc('x', { type: 'ClusterIP', ports: [{ port: 80, nodePort: 30099 }] })).slice(-1), [
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
  });

  it('keeps what an update leaves out, and lets a service keep its own address and port', () => {
    const own = existing[0] as JsonObject;
    const update = svc('a', { type: 'NodePort', ports: [{ port: 80 }] });
    assert.deepEqual(allocateServiceAddresses(update, existing, DEFAULT_RANGES, 'ns/a', own), []);
    assert.equal(spec(update).clusterIP, '10.96.0.10');
    assert.equal(((spec(update).ports as JsonObject[])[0] as JsonObject).nodePort, 30080);
  });

  it('gives a headless or ExternalName service no address', () => {
    const headless = svc('h2', { clusterIP: 'None' });
    assert.deepEqual(allocateServiceAddresses(headless, existing, DEFAULT_RANGES, 'ns/h2'), []);
    assert.deepEqual(spec(headless).clusterIPs, ['None']);
    const ext = svc('e', { type: 'ExternalName', externalName: 'example.com', clusterIP: '10.96.9.9' });
    assert.deepEqual(allocateServiceAddresses(ext, existing, DEFAULT_RANGES, 'ns/e'), []);
    assert.equal(spec(ext).clusterIP, undefined);
  });
});
