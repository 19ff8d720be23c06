/**
 * The incremental view engine against the whole-view computation: after any sequence of cluster
 * changes, every tracked host's view equals computeHostView, and a subscriber that applies the
 * changes it was told about (as the agent does) holds the same state. A change touches only the
 * hosts it concerns (counted), never every view.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { ViewEngine, type ViewSubscriber } from '../../../netmaster/agent/view-engine';
import { stableJson } from '../../../netmaster/agent/view-diff';
import { applyChange, emptyStore, stateOf, storeFromState, type StateStore } from '../../../netplugin/netmaster-client/apply';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { asReceived, ClusterBuilder } from './fixtures';
import { parseV4 } from '../../../netmaster/model/net';
import { blockKeys, encodeBlockValue } from '../../../netmaster/service/block-keys';
import type { AddressBlock__Output as AddressBlock } from '../../../proto/gen/netloom/v1/AddressBlock';
import type { KubeNetworkPolicy__Output as KubeNetworkPolicy } from '../../../proto/gen/netloom/v1/KubeNetworkPolicy';
import type { KubeNamespace__Output as KubeNamespace } from '../../../proto/gen/netloom/v1/KubeNamespace';

const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const NETS = ['web', 'db', 'flat'];
const GROUPS = ['g1', 'g2', 'g3'];

const sortedValues = <T>(m: Map<string, T>): T[] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

class Follower implements ViewSubscriber {
  readonly dirty = new Set<string>();
  store: StateStore = emptyStore();
  /** address blocks by key (kept here: the agent's store learns them with the agent's side of issue 15) */
  blocks = new Map<string, AddressBlock>();
  /** Kubernetes objects by key (kept here: the agent's side of issue 19 keeps them in its store) */
  kubePolicies = new Map<string, KubeNetworkPolicy>();
  kubeNamespaces = new Map<string, KubeNamespace>();
  notify(): void {}
  /** apply what changed, as a stream's group would */
  sync(engine: ViewEngine, host: string): void {
    for (const c of engine.changesFor(host, this.dirty)) {
      const r = asReceived(c);
      if (r.key.startsWith('kubePolicy/')) setOrDelete(this.kubePolicies, r.key, r.deleted ? undefined : r.kubePolicy!);
      else if (r.key.startsWith('kubeNamespace/')) setOrDelete(this.kubeNamespaces, r.key, r.deleted ? undefined : r.kubeNamespace!);
      else if (!r.key.startsWith('block/')) applyChange(this.store, r);
      else setOrDelete(this.blocks, r.key, r.deleted ? undefined : r.block!);
    }
    this.dirty.clear();
  }
  /** take a snapshot */
  load(snap: ReturnType<typeof stateOf>): void {
    this.store = storeFromState(snap);
    this.blocks = new Map(snap.blocks.map((x) => [`block/${x.network}/${x.cidr}`, x]));
    this.kubePolicies = new Map(snap.kubePolicies.map((x) => [`kubePolicy/${x.key}`, x]));
    this.kubeNamespaces = new Map(snap.kubeNamespaces.map((x) => [`kubeNamespace/${x.key}`, x]));
  }
  /** the state it holds */
  state(): ReturnType<typeof stateOf> {
    return {
      ...stateOf(this.store),
      blocks: sortedValues(this.blocks),
      kubePolicies: sortedValues(this.kubePolicies),
      kubeNamespaces: sortedValues(this.kubeNamespaces),
    };
  }
}

function setOrDelete<T>(m: Map<string, T>, key: string, value: T | undefined): void {
  if (value === undefined) m.delete(key);
  else m.set(key, value);
}

function base(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .network('t1', 'flat', 'vlan', 100, '10.3.0.0/24')
    .group('t1', 'g1', 'web', ['p1'])
    .group('t1', 'g2', 'db')
    .policy('t1', 'p1', [{ id: 'r1', from: 'g2' }])
    .agent('h1', '192.168.0.1')
    .agent('h2', '192.168.0.2')
    .agent('h3', '192.168.0.3')
    .endpoint('e1', 't1', 'web', 'h1', '10.1.0.2', 'g1')
    .endpoint('e2', 't1', 'web', 'h2', '10.1.0.3', '', '', { app: 'web' })
    .endpoint('e3', 't1', 'db', 'h3', '10.2.0.2', 'g2')
    .service('t1', 's1', 'web', '10.1.0.250', ['app=web']);
}

type Op = (b: ClusterBuilder) => void;

const LABELS: Array<Record<string, string>> = [{}, { app: 'web' }, { app: 'web', tier: 'x' }, { app: 'db' }];

const host = fc.constantFrom(...HOSTS);
const net = fc.constantFrom(...NETS);
const grp = fc.constantFrom(...GROUPS);
const epId = fc.constantFrom('e1', 'e2', 'e3', 'e4', 'e5', 'e6');
const ip = fc.integer({ min: 2, max: 250 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  // endpoints: add/move (a group only in its own network), labels that make them providers or not, delete
  fc.tuple(epId, net, host, ip, fc.option(grp, { nil: undefined }), fc.constantFrom('', '10.0.0.9'), fc.constantFrom(...LABELS)).map(
    ([id, n, h, x, g, vtep, labels]): Op =>
      (b) => {
        const group = g && GROUP_NET[g] === n ? g : '';
        b.endpoint(id, 't1', n, h, `10.${NETS.indexOf(n) + 1}.0.${x}`, group, vtep, labels);
      },
  ),
  // services: on a network, with or without an address, selecting some labels; gone; another tenant's
  fc
    .tuple(fc.constantFrom('s1', 's2'), net, fc.boolean(), fc.constantFrom<string[]>(['app=web'], ['app=web', 'tier=x'], ['app=db'], []))
    .map(
      ([s, n, withIp, selectors]): Op =>
        (b) =>
          b.service('t1', s, n, withIp ? `10.${NETS.indexOf(n) + 1}.0.251` : '', selectors),
    ),
  fc.constantFrom('s1', 's2').map(
    (s): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/serviceLB/t1:${s}`),
  ),
  fc.constant<Op>((b) => b.service('t2', 's1', 'web', '10.1.0.251', ['app=web'])),
  // Kubernetes (issue 19): pods in any network of t1 (their hosts' views hold every pod of t1), and
  // NetworkPolicies and namespaces (every view with a pod holds them all)
  fc.tuple(epId, net, host, ip, fc.option(grp, { nil: undefined }), fc.constantFrom('default', 'x'), fc.constantFrom(...LABELS)).map(
    ([id, n, h, x, g, ns, labels]): Op =>
      (b) =>
        b.pod(id, 't1', n, h, `10.${NETS.indexOf(n) + 1}.0.${x}`, ns, labels, g && GROUP_NET[g] === n ? g : ''),
  ),
  fc.tuple(fc.constantFrom('default', 'x'), fc.constantFrom('deny', 'web'), fc.constantFrom('app', 'tier')).map(
    ([ns, name, label]): Op =>
      (b) =>
        b.kubePolicy(ns, name, { podSelector: { matchLabels: { [label]: 'web' }, matchExpressions: [] } }),
  ),
  fc.tuple(fc.constantFrom('default', 'x'), fc.constantFrom('deny', 'web')).map(
    ([ns, name]): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/kubeNetworkPolicy/${ns}:${name}`),
  ),
  fc.tuple(fc.constantFrom('default', 'x'), fc.constantFrom('a', 'b')).map(
    ([ns, team]): Op =>
      (b) =>
        b.kubeNamespace(ns, { team }),
  ),
  fc.constantFrom('default', 'x').map(
    (ns): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/kubeNamespace/${ns}`),
  ),
  // Kubernetes Services: ClusterIP or NodePort (every view holds those), over some of the pods'
  // addresses (so they resolve to t1), or gone
  fc.tuple(fc.constantFrom('default', 'x'), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 63 })).map(
    ([ns, nodePort, local, mask]): Op =>
      (b) => {
        const pods = [...b.state.endpoints.values()].map((x) => x.ep).filter((e) => e.pod !== undefined);
        const ips = [...new Set(pods.map((e) => e.ipAddress))].sort().filter((_, i) => (mask >> i) & 1);
        b.kubeService(ns, 'web', {
          type: nodePort ? 'NodePort' : 'ClusterIP',
          externalTrafficPolicy: local ? 'Local' : 'Cluster',
          ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: nodePort ? 30080 : 0 }],
          endpoints: ips.map((ip) => ({ ip, ports: [8080] })),
        });
      },
  ),
  fc.constantFrom('default', 'x').map(
    (ns): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/kubeService/${ns}:web`),
  ),
  // one EndpointSlice of such a Service alone (its Service stored or not): some pods' addresses, or gone
  fc.tuple(fc.constantFrom('default', 'x'), fc.constantFrom('web-0', 'web-9'), fc.integer({ min: -1, max: 63 })).map(
    ([ns, slice, mask]): Op =>
      (b) => {
        if (mask < 0) {
          b.del(`/netloom/v1/cfg/kubeServiceSlice/${ns}:web:${slice}`);
          return;
        }
        const pods = [...b.state.endpoints.values()].map((x) => x.ep).filter((e) => e.pod !== undefined);
        const ips = [...new Set(pods.map((e) => e.ipAddress))].sort().filter((_, i) => (mask >> i) & 1);
        b.kubeSlice(
          ns,
          'web',
          slice,
          [{ name: 'http', protocol: 'TCP', port: 8080 }],
          ips.map((ip) => ({ ip })),
        );
      },
  ),
  epId.map(
    (id): Op =>
      (b) =>
        b.del(`/netloom/v1/ep/${id}`),
  ),
  // an external endpoint (a registered server: no host), in the VLAN network or in a group
  fc.tuple(epId, ip, fc.boolean()).map(
    ([id, x, grouped]): Op =>
      (b) =>
        b.external(id, 't1', grouped ? 'web' : 'flat', `10.${grouped ? 1 : 3}.0.${x}`, grouped ? 'g1' : ''),
  ),
  // agents: register with a VTEP (maybe another host's: reachability), or gone
  fc.tuple(host, fc.constantFrom('192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.4', '192.168.0.9')).map(
    ([h, v]): Op =>
      (b) =>
        b.agent(h, v),
  ),
  host.map(
    (h): Op =>
      (b) =>
        b.del(agentLayout.host(h)),
  ),
  // groups: policies, id allocated or not, gone
  fc.tuple(grp, fc.subarray(['p1', 'p2']), fc.boolean(), fc.constantFrom('', 'prof1')).map(
    ([g, pols, withId, prof]): Op =>
      (b) =>
        b.group('t1', g, GROUP_NET[g]!, pols, prof, withId ? GROUPS.indexOf(g) + 1 : 0),
  ),
  grp.map(
    (g): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/endpointGroup/t1:${g}`),
  ),
  // policies and rules naming groups or a network
  fc
    .tuple(
      fc.constantFrom('p1', 'p2'),
      fc.constantFrom('r1', 'r2'),
      fc.option(grp, { nil: undefined }),
      fc.option(grp, { nil: undefined }),
      fc.option(net, { nil: undefined }),
    )
    .map(
      ([p, r, from, to, fromNetwork]): Op =>
        (b) =>
          b.policy('t1', p, [{ id: r, ...(from ? { from } : fromNetwork ? { fromNetwork } : {}), ...(to ? { to } : {}) }]),
    ),
  fc.tuple(fc.constantFrom('p1', 'p2'), fc.constantFrom('r1', 'r2')).map(
    ([p, r]): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/rule/t1:${p}:${r}`),
  ),
  fc.constantFrom('p1', 'p2').map(
    (p): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/policy/t1:${p}`),
  ),
  fc.constantFrom('10mbps', '1gbps').map(
    (bw): Op =>
      (b) =>
        b.profile('t1', 'prof1', bw),
  ),
  // networks: re-tagged, gateway or not (routing), routed (bgp) or not, gone; a second tenant's network
  fc.tuple(net, fc.boolean(), fc.boolean()).map(
    ([n, gw, routed]): Op =>
      (b) =>
        b.network(
          't1',
          n,
          n === 'flat' ? 'vlan' : routed ? 'bgp' : 'vxlan',
          5000 + NETS.indexOf(n),
          `10.${NETS.indexOf(n) + 1}.0.0/24`,
          gw ? `10.${NETS.indexOf(n) + 1}.0.1` : '',
        ),
  ),
  net.map(
    (n): Op =>
      (b) =>
        b.del(`/netloom/v1/cfg/network/t1:${n}`),
  ),
  fc.constant<Op>((b) => b.network('t1', 'extra', 'vxlan', 5009, '10.9.0.0/24', '10.9.0.1')),
  // another tenant's routed network: carried (without endpoints) by hosts with routed networks
  fc.boolean().map(
    (on): Op =>
      (b) =>
        on ? b.network('t2', 'routed', 'bgp', 7, '10.70.0.0/16') : b.del('/netloom/v1/cfg/network/t2:routed'),
  ),
  // address blocks (issue 15): claimed by a host in a network (also one it has no endpoint in), released
  fc.tuple(host, net, fc.integer({ min: 0, max: 3 })).map(
    ([h, n, k]): Op =>
      (b) => {
        const block = { base: parseV4(`10.${NETS.indexOf(n) + 1}.0.${k * 64}`)!, prefix: 26 };
        b.raw(blockKeys.key(`t1:${n}`, block), encodeBlockValue(h, block, new Date(0)));
      },
  ),
  fc.tuple(net, fc.integer({ min: 0, max: 3 })).map(
    ([n, k]): Op =>
      (b) =>
        b.del(blockKeys.key(`t1:${n}`, { base: parseV4(`10.${NETS.indexOf(n) + 1}.0.${k * 64}`)!, prefix: 26 })),
  ),
  // tenant ids, global mode, bgp
  fc.boolean().map(
    (on): Op =>
      (b) =>
        on ? b.raw(agentLayout.tenantIdOf('t1'), '1') : b.del(agentLayout.tenantIdOf('t1')),
  ),
  fc.constantFrom<'bridge' | 'routing'>('bridge', 'routing').map(
    (m): Op =>
      (b) =>
        b.global(m),
  ),
  host.map(
    (h): Op =>
      (b) =>
        b.bgp(h),
  ),
);

const GROUP_NET: Record<string, string> = { g1: 'web', g2: 'db', g3: 'web' };

describe('agent API view engine', () => {
  it('keeps every host view equal to the whole computation, and its subscribers in step (random changes)', function () {
    this.timeout(60_000); // 300 random histories: seconds on a quiet machine, more on a busy one
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), (batches) => {
        const b = base();
        b.takeChanges();
        const engine = new ViewEngine(() => b.state);
        const followers = new Map<string, Follower>();
        for (const h of HOSTS) {
          const f = new Follower();
          engine.track(h, f);
          f.load(JSON.parse(JSON.stringify(engine.stateOf(h))) as ReturnType<typeof stateOf>);
          followers.set(h, f);
        }
        for (const batch of batches) {
          for (const op of batch) op(b);
          engine.apply(b.takeChanges());
          for (const h of HOSTS) {
            const expected = stableJson(computeHostView(b.state, h));
            assert.equal(stableJson(engine.stateOf(h)), expected, `engine view of ${h}`);
            const f = followers.get(h)!;
            f.sync(engine, h);
            assert.equal(stableJson(f.state()), expected, `subscriber of ${h}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a host's new VTEP reaches the providers of a ClusterIP Service in the views holding it (not only node port ones)", () => {
    const b = new ClusterBuilder().global('bridge').tenant('t1').network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24');
    b.agent('h1', '192.168.0.1').agent('h2', '192.168.0.2');
    b.pod('e1', 't1', 'web', 'h1', '10.1.0.2', 'default').pod('e2', 't1', 'web', 'h2', '10.1.0.3', 'default');
    b.kubeService('default', 'web', { endpoints: [{ ip: '10.1.0.2', ports: [8080] }] });
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const f = new Follower();
    engine.track('h2', f);
    const hostIps = () => engine.stateOf('h2')!.services.flatMap((x) => x.providers.map((p) => p.hostIp));
    assert.deepEqual(hostIps(), ['192.168.0.1']);
    b.agent('h1', '192.168.0.4');
    engine.apply(b.takeChanges());
    assert.deepEqual(hostIps(), ['192.168.0.4']);
    assert.equal(stableJson(engine.stateOf('h2')), stableJson(computeHostView(b.state, 'h2')));
    assert.ok(f.dirty.has('service/kube:default/web'), [...f.dirty].join(' '));
  });

  it('a rule change recomputes only the host parts of the hosts whose groups use the policy, and no endpoint layer', () => {
    const b = new ClusterBuilder()
      .global('bridge')
      .tenant('t1')
      .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/16')
      .network('t1', 'far', 'vxlan', 5002, '10.2.0.0/16');
    b.group('t1', 'web', 'web', ['p']).policy('t1', 'p', [{ id: 'r1' }]);
    for (let i = 0; i < 50; i++) b.agent(`w${i}`, `192.168.1.${i + 1}`).endpoint(`w${i}`, 't1', 'web', `w${i}`, `10.1.0.${i + 2}`, 'web');
    for (let i = 0; i < 50; i++) b.agent(`f${i}`, `192.168.2.${i + 1}`).endpoint(`f${i}`, 't1', 'far', `f${i}`, `10.2.0.${i + 2}`);
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const subs = new Map<string, Follower>();
    for (let i = 0; i < 50; i++)
      for (const h of [`w${i}`, `f${i}`]) {
        const f = new Follower();
        engine.track(h, f);
        subs.set(h, f);
      }
    const before = { ...engine.stats };
    b.policy('t1', 'p', [{ id: 'r2' }]);
    engine.apply(b.takeChanges());
    assert.equal(engine.stats.hostParts - before.hostParts, 50, 'the 50 hosts of group web, not the 50 of network far');
    assert.equal(engine.stats.endpointLayers - before.endpointLayers, 0, 'no endpoint layer rebuilt');
    assert.deepEqual([...subs.get('w3')!.dirty], ['policy/t1:p']);
    assert.equal(subs.get('f3')!.dirty.size, 0);

    const mid = { ...engine.stats };
    b.endpoint('w-new', 't1', 'web', 'w7', '10.1.1.1', 'web');
    engine.apply(b.takeChanges());
    assert.equal(engine.stats.hostParts - mid.hostParts, 1, 'only the endpoint host part');
    assert.equal(engine.stats.endpointChecks - mid.endpointChecks, 50, 'one check in each view of network web');
    assert.deepEqual([...subs.get('w9')!.dirty].sort(), ['endpoint/w-new', 'policy/t1:p']);
    assert.equal(subs.get('f9')!.dirty.size, 0);
  });

  it('batches enqueued while it is busy are applied together: each host part once for all of them', async () => {
    const b = base();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const f = new Follower();
    engine.track('h1', f);
    const before = { ...engine.stats };
    for (const id of ['r5', 'r6', 'r7']) {
      b.policy('t1', 'p1', [{ id }]);
      engine.enqueue(b.takeChanges());
    }
    assert.equal(engine.stats.hostParts, before.hostParts, 'nothing applied yet');
    assert.ok(
      engine.stateOf('h1')!.policies[0]!.rules.some((r) => r.ruleId === 'r7'),
      'a read applies what is pending first',
    );
    assert.equal(engine.stats.batches - before.batches, 1);
    assert.equal(engine.stats.merged - before.merged, 2);
    assert.equal(engine.stats.hostParts - before.hostParts, 1, 'h1 recomputed once for three rule changes');
    b.policy('t1', 'p1', [{ id: 'r8' }]);
    engine.enqueue(b.takeChanges());
    await new Promise((r) => setImmediate(r));
    assert.ok(f.dirty.has('policy/t1:p1'), 'applied soon without a read');
  });

  it('drops a view and its index entries when its last subscriber leaves', () => {
    const b = base().policy('t1', 'p1', [{ id: 'r1', from: 'g2' }]);
    const engine = new ViewEngine(() => b.state);
    const f = new Follower();
    const stop = engine.track('h1', f);
    assert.equal(engine.hosts, 1);
    const held = engine.indexSizes();
    assert.ok(held.deps > 0 && held.srcNet > 0 && held.srcGrp > 0 && held.services > 0, JSON.stringify(held));
    stop();
    assert.equal(engine.hosts, 0);
    assert.deepEqual(
      engine.indexSizes(),
      { deps: 0, srcNet: 0, srcGrp: 0, srcPod: 0, carried: 0, services: 0, kube: 0, pending: 0 },
      'no index entry outlives its view',
    );
    b.endpoint('e9', 't1', 'web', 'h2', '10.1.0.99');
    engine.apply(b.takeChanges());
    assert.equal(f.dirty.size, 0, 'no longer told');
  });
});
