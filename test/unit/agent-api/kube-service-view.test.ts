/**
 * Kubernetes Services in host views (issue 19, kube-service-view.ts): a stored kubeService becomes
 * a ServiceLB keyed `kube:<namespace>/<name>` with its cluster IP, no network, `kube` set, its
 * endpoints resolved to pod endpoints (each with its own target ports), in the views of the hosts
 * with a pod of its tenant, accepted by the agent's own checks and pipeline. What cannot be
 * realized is left out and said (no endpoint for an address, another tenant, SCTP). Incrementally:
 * a Service change or a pod taking a Service endpoint's address updates the views with pods.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { ViewEngine, type ViewSubscriber } from '../../../netmaster/agent/view-engine';
import { stableJson } from '../../../netmaster/agent/view-diff';
import { kubeServiceProblems } from '../../../netmaster/agent/kube-service-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { ClusterBuilder } from './fixtures';

const PORTS = [
  { name: 'http', protocol: 'TCP', port: 80, nodePort: 0 },
  { name: 'sctp', protocol: 'SCTP', port: 90, nodePort: 0 },
];
const ENDPOINTS = [
  { ip: '10.1.0.2', pod: { namespace: 'default', name: 'p-web' }, ports: [8080, 0] },
  { ip: '10.1.0.4', pod: { namespace: 'default', name: 'p-web2' }, ports: [9090, 0] },
];

function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t2', 'other', 'vxlan', 6001, '10.9.0.0/24', '10.9.0.1')
    .agent('hostP', '192.168.0.1')
    .agent('hostQ', '192.168.0.2')
    .agent('hostN', '192.168.0.3')
    .agent('hostT', '192.168.0.4')
    .pod('p-web', 't1', 'web', 'hostP', '10.1.0.2', 'default', { app: 'web' })
    .pod('p-web2', 't1', 'web', 'hostQ', '10.1.0.4', 'default', { app: 'web' })
    .endpoint('n-web', 't1', 'web', 'hostN', '10.1.0.3')
    .pod('t-other', 't2', 'other', 'hostT', '10.9.0.2', 'default')
    .kubeService('default', 'web', {
      clusterIP: '10.96.0.10',
      ports: PORTS,
      endpoints: ENDPOINTS,
    });
}

class Sub implements ViewSubscriber {
  readonly dirty = new Set<string>();
  notify(): void {}
}

describe('agent API: Kubernetes Services in host views', () => {
  it('a host with a pod of the tenant gets the Service: cluster IP, no network, providers with their own ports', () => {
    const b = world();
    const v = computeHostView(b.state, 'hostP');
    assert.deepEqual(v.services, [
      {
        key: 'kube:default/web',
        tenant: 't1',
        network: '',
        ip: '10.96.0.10',
        ports: [{ port: 80, targetPort: 8080, protocol: 'tcp', name: 'http', nodePort: 0 }],
        providers: [
          { endpointId: 'p-web', ip: '10.1.0.2', targetPorts: [8080] },
          { endpointId: 'p-web2', ip: '10.1.0.4', targetPorts: [9090] },
        ],
        kube: true,
        externalTrafficLocal: false,
      },
    ]);
    // the agent's own checks take it
    assert.equal(parseHostState(JSON.parse(stableJson(v))).services[0]!.kube, true);
    // a NodePort Service's externalTrafficPolicy Local reaches the agents
    const local = world().kubeService('default', 'web', {
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }],
      endpoints: ENDPOINTS.map((e) => ({ ...e, ports: [e.ports[0]] })),
    });
    const lv = parseHostState(JSON.parse(stableJson(computeHostView(local.state, 'hostP'))));
    assert.deepEqual(
      lv.services.map((s) => [s.ports[0]!.nodePort, s.externalTrafficLocal]),
      [[30080, true]],
    );
    assert.deepEqual(
      computeHostView(b.state, 'hostQ').services.map((s) => s.key),
      ['kube:default/web'],
    );
    assert.deepEqual(computeHostView(b.state, 'hostN').services, [], 'no pod on hostN');
    assert.deepEqual(computeHostView(b.state, 'hostT').services, [], 'its pod is of another tenant');
  });

  it('says what it cannot realize: SCTP, an address without endpoint, an endpoint of another tenant', () => {
    const b = world().kubeService('default', 'web', {
      ports: PORTS,
      endpoints: [...ENDPOINTS, { ip: '10.1.0.99', ports: [80, 0] }, { ip: '10.9.0.2', ports: [80, 0] }],
    });
    assert.deepEqual(kubeServiceProblems(b.state, 'default:web'), [
      'port 90/SCTP: netloom balances TCP and UDP only',
      'endpoint 10.1.0.99: no netloom endpoint has this address',
      "endpoint 10.9.0.2: its pod is in tenant t2, the service's other endpoints in t1",
    ]);
    assert.deepEqual(
      computeHostView(b.state, 'hostP').services[0]!.providers.map((p) => p.endpointId),
      ['p-web', 'p-web2'],
    );
    // a slice naming another pod than the one with the address: not that endpoint
    const c = world().kubeService('default', 'web', {
      endpoints: [{ ip: '10.1.0.2', pod: { namespace: 'default', name: 'gone' }, ports: [80] }],
    });
    assert.deepEqual(computeHostView(c.state, 'hostP').services, [], 'no endpoint resolves: no tenant, in no view');
  });

  it('incrementally: an endpoint leaving the Service, and a pod taking a Service address, update the views with pods', () => {
    const b = world();
    const engine = new ViewEngine(() => b.state);
    const subs = new Map(['hostP', 'hostQ', 'hostN'].map((h) => [h, new Sub()]));
    for (const [h, s] of subs) engine.track(h, s);
    b.takeChanges();
    for (const s of subs.values()) s.dirty.clear();
    b.kubeService('default', 'web', { ports: PORTS, endpoints: [ENDPOINTS[0]] });
    engine.apply(b.takeChanges());
    assert.ok(subs.get('hostP')!.dirty.has('service/kube:default/web'));
    assert.deepEqual(
      engine.stateOf('hostQ')!.services[0]!.providers.map((p) => p.endpointId),
      ['p-web'],
    );
    assert.equal(subs.get('hostN')!.dirty.size, 0, 'a host without pods is not concerned');
    // a new pod with an address the Service lists: it becomes a provider
    b.kubeService('default', 'web', { ports: PORTS, endpoints: [ENDPOINTS[0], { ip: '10.1.0.7', ports: [8080, 0] }] });
    engine.apply(b.takeChanges());
    b.pod('p-new', 't1', 'web', 'hostN', '10.1.0.7', 'default');
    engine.apply(b.takeChanges());
    for (const h of ['hostP', 'hostQ', 'hostN']) assert.equal(stableJson(engine.stateOf(h)), stableJson(computeHostView(b.state, h)), h);
    assert.deepEqual(
      engine.stateOf('hostN')!.services[0]!.providers.map((p) => p.endpointId),
      ['p-new', 'p-web'],
    );
    b.del('/netloom/v1/cfg/kubeService/default:web');
    engine.apply(b.takeChanges());
    for (const h of ['hostP', 'hostQ', 'hostN']) assert.deepEqual(engine.stateOf(h)!.services, [], h);
  });
});
