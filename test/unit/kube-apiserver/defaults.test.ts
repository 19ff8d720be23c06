import assert from 'node:assert/strict';
import type { JsonObject } from '../../../tools/kube-apiserver/json';
import { applyDefaults, strategyOf } from '../../../tools/kube-apiserver/strategies';

describe('defaults and create-time fields (as kube-apiserver fills them)', () => {
  it('Service: type, session affinity, protocol and targetPort', () => {
    const svc: JsonObject = { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } };
    applyDefaults('Service', svc);
    assert.deepEqual(svc.spec, {
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
    });
  });

  it('NetworkPolicy: port protocols, and policyTypes from the rules present', () => {
    const ingressOnly: JsonObject = { spec: { ingress: [{ ports: [{ port: 80 }] }] } };
    applyDefaults('NetworkPolicy', ingressOnly);
    assert.deepEqual(ingressOnly.spec, {
      podSelector: {},
      ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }],
      policyTypes: ['Ingress'],
    });
    const both: JsonObject = { spec: { podSelector: {}, egress: [{}] } };
    applyDefaults('NetworkPolicy', both);
    assert.deepEqual((both.spec as JsonObject).policyTypes, ['Ingress', 'Egress']);
  });

  it('Pod: policies, pull policy by tag, env fieldRef apiVersion, volume modes', () => {
    const pod: JsonObject = {
      spec: {
        containers: [
          { name: 'a', image: 'nginx', env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] },
          { name: 'b', image: 'registry:5000/x:1.2', ports: [{ containerPort: 80 }] },
        ],
        volumes: [
          { name: 'c', configMap: { name: 'cm' } },
          { name: 'h', hostPath: { path: '/x' } },
        ],
      },
    };
    applyDefaults('Pod', pod);
    const spec = pod.spec as JsonObject;
    const [a, b] = spec.containers as JsonObject[];
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(a?.imagePullPolicy, 'Always');
    assert.equal(b?.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual((b?.ports as JsonObject[])[0], { containerPort: 80, protocol: 'TCP' });
    assert.deepEqual((((a?.env as JsonObject[])[0] as JsonObject).valueFrom as JsonObject).fieldRef, {
      fieldPath: 'spec.nodeName',
      apiVersion: 'v1',
    });
    assert.deepEqual(spec.volumes, [
      { name: 'c', configMap: { name: 'cm', defaultMode: 420 } },
      { name: 'h', hostPath: { path: '/x', type: '' } },
    ]);
  });

  it('Deployment and DaemonSet: strategies, history limits, the template defaulted as a pod', () => {
    const d: JsonObject = { spec: { template: { spec: { containers: [{ name: 'c', image: 'i:1' }] } } } };
    applyDefaults('Deployment', d);
    const spec = d.spec as JsonObject;
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(((spec.template as JsonObject).spec as JsonObject).restartPolicy, 'Always');
    const ds: JsonObject = { spec: { template: { spec: { containers: [] } } } };
    applyDefaults('DaemonSet', ds);
    assert.deepEqual((ds.spec as JsonObject).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });

  it('create: a Namespace gets its name label and Active, a Pod Pending, whatever the body said', () => {
    const ns: JsonObject = {
      metadata: { name: 'x', labels: { 'kubernetes.io/metadata.name': 'forged', a: 'b' } },
      status: { phase: 'Terminating' },
    };
    strategyOf('Namespace').prepareCreate?.(ns);
    assert.deepEqual(ns, { metadata: { name: 'x', labels: { 'kubernetes.io/metadata.name': 'x', a: 'b' } }, status: { phase: 'Active' } });
    const pod: JsonObject = {
      spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }] },
      status: { phase: 'Running', podIP: '1.2.3.4' },
    };
    strategyOf('Pod').prepareCreate?.(pod);
    assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'Burstable' });
  });
});
