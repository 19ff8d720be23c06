/**
 * Kubernetes Services in host views (issue 19, kube-service-view.ts): a stored kubeService becomes
 * a ServiceLB keyed `kube:<namespace>/<name>` with its cluster IP, no network, `kube` set, its
 * endpoints resolved to pod endpoints (each with its own target ports), in the views of the hosts
 * with a pod of its tenant, accepted by the agent's own checks and pipeline. What cannot be
 * realized is left out and said (no endpoint for an address, another tenant, SCTP). Incrementally:
 * a Service change or a pod taking a Service endpoint's address updates the views with pods.
 * A Service with a node port is in every host's view (kube-proxy answers node ports on every
 * node), its providers with their hosts' addresses, and nothing else of its tenant comes with it;
 * kept incrementally in the views without pods too. Its endpoints are its stored slices, merged
 * (a change of one slice updates the views like a Service change); past SERVICE_PROVIDERS_MAX
 * providers, the first by endpoint id are balanced and a problem says so.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { ViewEngine, type ViewSubscriber } from '../../../netmaster/agent/view-engine';
import { stableJson } from '../../../netmaster/agent/view-diff';
import { kubeServiceEndpoints, kubeServiceProblems } from '../../../netmaster/agent/kube-service-view';
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';
import { parseHostState } from '../../../netplugin/state/host-state';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
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
          { endpointId: 'p-web', ip: '10.1.0.2', targetPorts: [8080], hostIp: '192.168.0.1' },
          { endpointId: 'p-web2', ip: '10.1.0.4', targetPorts: [9090], hostIp: '192.168.0.2' },
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

  it("merges the Service with its slices: each endpoint at its slice's port; an address in two slices keeps the first slice's", () => {
    const b = world().kubeService('default', 'web', { ports: PORTS });
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9090 }], [{ ip: '10.1.0.4' }, { ip: '10.1.0.2' }]);
    b.kubeSlice(
      'default',
      'web',
      'web-a',
      [{ name: 'http', protocol: 'TCP', port: 8080 }],
      [{ ip: '10.1.0.2', pod: { namespace: 'default', name: 'p-web' } }],
    );
    // another Service's slice, and a slice of a Service not stored: not merged
    b.kubeSlice('default', 'other', 'other-a', [{ name: 'http', protocol: 'TCP', port: 7070 }], [{ ip: '10.1.0.3' }]);
    assert.deepEqual(kubeServiceEndpoints(b.state, 'default:web'), [
      { ip: '10.1.0.2', pod: { namespace: 'default', name: 'p-web' }, ports: [8080, 0] },
      { ip: '10.1.0.4', ports: [9090, 0] },
    ]);
    assert.deepEqual(kubeServiceEndpoints(b.state, 'default:other'), []);
    assert.deepEqual(
      computeHostView(b.state, 'hostP').services[0]!.providers.map((p) => [p.endpointId, p.targetPorts]),
      [
        ['p-web', [8080]],
        ['p-web2', [9090]],
      ],
    );
    // memoised while nothing changes; a slice's change is seen
    const first = kubeServiceEndpoints(b.state, 'default:web');
    assert.equal(kubeServiceEndpoints(b.state, 'default:web'), first);
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9191 }], [{ ip: '10.1.0.4' }]);
    assert.deepEqual(
      kubeServiceEndpoints(b.state, 'default:web').map((e) => e.ports[0]),
      [8080, 9191],
    );
  });

  it('incrementally: one slice changed or deleted puts the new message in the views that hold it, as the whole computation', () => {
    const b = world().kubeService('default', 'web', { ports: PORTS });
    b.kubeSlice('default', 'web', 'web-a', [{ name: 'http', protocol: 'TCP', port: 8080 }], [{ ip: '10.1.0.2' }]);
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9090 }], [{ ip: '10.1.0.4' }]);
    const engine = new ViewEngine(() => b.state);
    const hosts = ['hostP', 'hostQ', 'hostN', 'hostT'];
    const subs = new Map(hosts.map((h) => [h, new Sub()]));
    for (const [h, s] of subs) engine.track(h, s);
    b.takeChanges();
    const step = (what: string) => {
      for (const s of subs.values()) s.dirty.clear();
      engine.apply(b.takeChanges());
      for (const h of hosts) assert.equal(stableJson(engine.stateOf(h)), stableJson(computeHostView(b.state, h)), `${what}: ${h}`);
    };
    const parts = engine.stats.hostParts;
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9191 }], [{ ip: '10.1.0.4' }]);
    step("a slice's port");
    assert.equal(engine.stats.hostParts, parts, 'the views that hold it keep holding it: only its message is put, no host part recomputed');
    assert.ok(subs.get('hostP')!.dirty.has('service/kube:default/web'));
    assert.deepEqual(
      engine.stateOf('hostP')!.services[0]!.providers.map((p) => p.targetPorts[0]),
      [8080, 9191],
    );
    b.del('/netloom/v1/cfg/kubeServiceSlice/default:web:web-a');
    step('a slice deleted');
    assert.deepEqual(
      engine.stateOf('hostQ')!.services[0]!.providers.map((p) => p.endpointId),
      ['p-web2'],
    );
    // its last resolved endpoint gone: no tenant, in no view (the host parts that held it recompute)
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9191 }], [{ ip: '10.1.0.99' }]);
    step('no endpoint resolves');
    for (const h of hosts) assert.deepEqual(engine.stateOf(h)!.services, [], h);
    // its endpoints now in tenant t2 (hostT's pod): it leaves t1's views and enters hostT's
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9191 }], [{ ip: '10.9.0.2' }]);
    step('another tenant');
    assert.deepEqual(
      hosts.map((h) => engine.stateOf(h)!.services.length),
      [0, 0, 0, 1],
    );
    b.kubeSlice('default', 'web', 'web-b', [{ name: 'http', protocol: 'TCP', port: 9191 }], [{ ip: '10.1.0.4' }]);
    step('back');
    assert.deepEqual(
      hosts.map((h) => engine.stateOf(h)!.services.length),
      [1, 1, 0, 0],
    );
    assert.equal(subs.get('hostN')!.dirty.size, 0, 'a host without pods is not concerned');
  });

  it(`past ${SERVICE_PROVIDERS_MAX} providers: the first by endpoint id are balanced, and a problem says so`, () => {
    const b = world().network('t1', 'big', 'vxlan', 5002, '10.2.0.0/16', '10.2.0.1');
    const n = SERVICE_PROVIDERS_MAX + 2;
    const ips: string[] = [];
    for (let i = 0; i < n; i++) {
      const ip = `10.2.${1 + (i >> 8)}.${i & 255}`;
      ips.push(ip);
      b.pod(`big${String(i).padStart(4, '0')}`, 't1', 'big', i % 2 ? 'hostP' : 'hostQ', ip, 'default');
    }
    b.kubeService('default', 'big', { clusterIP: '10.96.0.20', ports: [{ name: '', protocol: 'TCP', port: 80, nodePort: 0 }] });
    for (let k = 0; k * 250 < n; k++)
      b.kubeSlice(
        'default',
        'big',
        `big-${k}`,
        [{ name: '', protocol: 'TCP', port: 8080 }],
        ips.slice(k * 250, (k + 1) * 250).map((ip) => ({ ip })),
      );
    assert.deepEqual(kubeServiceProblems(b.state, 'default:big'), [
      `${n} ready endpoints are more than the ${SERVICE_PROVIDERS_MAX} a service balances over: the first ${SERVICE_PROVIDERS_MAX} by endpoint id get its connections`,
    ]);
    const svc = computeHostView(b.state, 'hostP').services.find((s) => s.key === 'kube:default/big')!;
    assert.equal(svc.providers.length, SERVICE_PROVIDERS_MAX);
    assert.equal(svc.providers.at(-1)!.endpointId, `big${String(SERVICE_PROVIDERS_MAX - 1).padStart(4, '0')}`);
  });

  describe('NodePort Services on every host', () => {
    const NODE_PORTS = [
      { name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 },
      { name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 },
    ];
    const npWorld = (fields: Record<string, unknown> = {}) =>
      world()
        .agent('hostE', '192.168.0.5')
        .kubeService('default', 'web', {
          type: 'NodePort',
          ports: NODE_PORTS,
          endpoints: ENDPOINTS.map((e) => ({ ...e, ports: [e.ports[0], 53] })),
          ...fields,
        });

    it('every host gets it with its providers’ host addresses, and nothing else of its tenant; the agent serves its node ports only', () => {
      const b = npWorld();
      const full = computeHostView(b.state, 'hostP').services;
      assert.deepEqual(
        full[0]!.providers.map((p) => [p.endpointId, p.hostIp]),
        [
          ['p-web', '192.168.0.1'],
          ['p-web2', '192.168.0.2'],
        ],
      );
      for (const h of ['hostN', 'hostT', 'hostE']) {
        const v = computeHostView(b.state, h);
        assert.deepEqual(v.services, full, `${h} gets the Service as hostP does`);
      }
      // hostT (a pod of t2) and hostE (nothing at all): nothing of t1 but the Service
      const t = computeHostView(b.state, 'hostT');
      assert.deepEqual(
        t.tenants.map((x) => x.name),
        ['t2'],
      );
      assert.ok(
        t.networks.every((n) => n.tenant === 't2') && t.endpoints.every((e) => e.network.startsWith('t2:')),
        'no network or endpoint of t1',
      );
      assert.deepEqual(t.kubePolicies.length + t.kubeNamespaces.length, 0);
      const e = computeHostView(b.state, 'hostE');
      const { services, global, ...rest } = e;
      assert.ok(services.length === 1 && global !== null);
      assert.ok(
        Object.values(rest).every((x) => x === null || (Array.isArray(x) && x.length === 0)),
        `hostE has nothing else: ${JSON.stringify(rest)}`,
      );
      // the agents take it: no flows of it where the tenant is unknown, node ports forwarded to the providers' hosts
      // (hostN has the tenant, not its pods: it reaches them the same way)
      const vtep: Record<string, string> = { hostN: '192.168.0.3', hostT: '192.168.0.4', hostE: '192.168.0.5' };
      for (const h of ['hostN', 'hostT', 'hostE']) {
        const state = parseHostState(JSON.parse(stableJson(computeHostView(b.state, h))));
        const input = { state, local: { hostName: h, vtepIp: vtep[h]!, ports: {}, bridge: {} } };
        const flows = computePipeline(input).some((f) => f.object?.includes('kube:default/web'));
        assert.equal(flows, h === 'hostN', `${h}: flows of the Service only where its tenant is known`);
        assert.deepEqual(
          desiredHostNet(input, { addresses: [] }).nodePorts?.rules.map((r) => [r.protocol, r.nodePort, r.backends.length, r.remote]),
          [
            ['tcp', 30080, 0, ['192.168.0.1', '192.168.0.2']],
            ['udp', 30053, 0, ['192.168.0.1', '192.168.0.2']],
          ],
        );
      }
      // a ClusterIP Service stays with the hosts of its tenant's pods
      const c = npWorld({ type: 'ClusterIP', ports: NODE_PORTS.map((p) => ({ ...p, nodePort: 0 })) });
      for (const h of ['hostN', 'hostT', 'hostE']) assert.deepEqual(computeHostView(c.state, h).services, [], h);
    });

    it('incrementally: the Service’s changes, its endpoints’ pods and its providers’ hosts reach every view, without recomputing views without pods', () => {
      const b = npWorld({ type: 'ClusterIP', ports: NODE_PORTS.map((p) => ({ ...p, nodePort: 0 })) });
      const engine = new ViewEngine(() => b.state);
      const hosts = ['hostP', 'hostQ', 'hostN', 'hostT', 'hostE'];
      const subs = new Map(hosts.map((h) => [h, new Sub()]));
      for (const [h, s] of subs) engine.track(h, s);
      b.takeChanges();
      const same = (what: string) => {
        for (const h of hosts) assert.equal(stableJson(engine.stateOf(h)), stableJson(computeHostView(b.state, h)), `${what}: ${h}`);
      };
      const clear = () => {
        for (const s of subs.values()) s.dirty.clear();
      };
      // it gets a node port: in every view
      clear();
      b.kubeService('default', 'web', {
        type: 'NodePort',
        ports: NODE_PORTS,
        endpoints: ENDPOINTS.map((e) => ({ ...e, ports: [e.ports[0], 53] })),
      });
      engine.apply(b.takeChanges());
      same('a node port');
      for (const h of hosts) assert.deepEqual([...subs.get(h)!.dirty], ['service/kube:default/web'], h);
      // an endpoint leaves it: the views without pods get the new message, their host parts are not recomputed
      clear();
      const parts = engine.stats.hostParts;
      b.kubeService('default', 'web', { type: 'NodePort', ports: NODE_PORTS, endpoints: [{ ...ENDPOINTS[0]!, ports: [8080, 53] }] });
      engine.apply(b.takeChanges());
      same('an endpoint gone');
      assert.deepEqual(
        engine.stateOf('hostE')!.services[0]!.providers.map((p) => p.endpointId),
        ['p-web'],
      );
      assert.ok(subs.get('hostE')!.dirty.has('service/kube:default/web'));
      assert.equal(engine.stats.hostParts - parts, 3, 'only the views with pods (hostP, hostQ, hostT) recompute their host part');
      // a pod takes an address the Service lists: it becomes a provider everywhere
      b.kubeService('default', 'web', {
        type: 'NodePort',
        ports: NODE_PORTS,
        endpoints: [
          { ...ENDPOINTS[0]!, ports: [8080, 53] },
          { ip: '10.1.0.7', ports: [8080, 53] },
        ],
      });
      engine.apply(b.takeChanges());
      clear();
      b.pod('p-new', 't1', 'web', 'hostN', '10.1.0.7', 'default');
      engine.apply(b.takeChanges());
      same('a pod with a Service address');
      assert.ok(subs.get('hostE')!.dirty.has('service/kube:default/web'));
      // a provider's host moves to another address: its hostIp follows in every view
      clear();
      b.agent('hostP', '192.168.0.11');
      engine.apply(b.takeChanges());
      same('a new VTEP');
      assert.deepEqual(
        engine.stateOf('hostE')!.services[0]!.providers.map((p) => p.hostIp),
        ['192.168.0.3', '192.168.0.11'],
      );
      // back to ClusterIP: it leaves the views without pods of t1
      clear();
      b.kubeService('default', 'web', { type: 'ClusterIP', ports: NODE_PORTS.map((p) => ({ ...p, nodePort: 0 })), endpoints: [] });
      engine.apply(b.takeChanges());
      same('no node port');
      for (const h of ['hostE', 'hostT']) assert.deepEqual(engine.stateOf(h)!.services, [], h);
      assert.ok(subs.get('hostE')!.dirty.has('service/kube:default/web'));
    });
  });
});
