/**
 * Kubernetes in host views (issue 19): a host with a local pod endpoint gets every NetworkPolicy
 * and namespace, sorted by key, and every pod endpoint of its pods' tenants with their networks
 * (accepted by the agent's own checks); a host without pods gets none of that. Incrementally: a
 * changed policy or namespace is one key marked in each view with pods and nothing recomputed; a
 * delete is a Change with `deleted` and the key; a host whose last pod goes drops them all.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { ViewEngine, type ViewSubscriber } from '../../../netmaster/agent/view-engine';
import { diffViews, stableJson } from '../../../netmaster/agent/view-diff';
import { parseHostState } from '../../../netplugin/state/host-state';
import { pipelineView } from '../../../netplugin/pipeline/input';
import { snapshotParts } from '../../../netmaster/agent/message-parts';
import { memoJson } from '../../../netmaster/agent/view-diff';
import { ClusterBuilder } from './fixtures';

function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .network('t1', 'quiet', 'vxlan', 5003, '10.3.0.0/24', '10.3.0.1')
    .network('t2', 'other', 'vxlan', 6001, '10.9.0.0/24', '10.9.0.1')
    .group('t1', 'g-db', 'db')
    .agent('hostP', '192.168.0.1')
    .agent('hostQ', '192.168.0.2')
    .agent('hostN', '192.168.0.3')
    .agent('hostT', '192.168.0.4')
    .pod('p-web', 't1', 'web', 'hostP', '10.1.0.2', 'default', { app: 'web' })
    .pod('q-db', 't1', 'db', 'hostQ', '10.2.0.2', 'prod', { app: 'db' }, 'g-db')
    .endpoint('n-web', 't1', 'web', 'hostN', '10.1.0.3')
    .endpoint('n-quiet', 't1', 'quiet', 'hostN', '10.3.0.2')
    .pod('t-other', 't2', 'other', 'hostT', '10.9.0.2', 'default')
    .kubeNamespace('prod', { env: 'prod' })
    .kubeNamespace('default')
    .kubePolicy('prod', 'deny-all')
    .kubePolicy('default', 'web', {
      podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] },
      egressIsolation: true,
      ingress: [
        {
          peers: [
            {
              namespaceSelector: { matchLabels: { env: 'prod' }, matchExpressions: [] },
              podSelector: { matchLabels: {}, matchExpressions: [] },
            },
          ],
          ports: [{ protocol: 'TCP', namedPort: 'http' }],
        },
      ],
      egress: [
        { peers: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] } }], ports: [{ protocol: 'UDP', port: 53, endPort: 54 }] },
      ],
    });
}

class Sub implements ViewSubscriber {
  readonly dirty = new Set<string>();
  notify(): void {}
}

describe('agent API: Kubernetes objects and pods in host views', () => {
  it('a host with a pod gets every policy and namespace, sorted, and the pods of its tenant with their networks', () => {
    const v = computeHostView(world().state, 'hostP');
    assert.deepEqual(
      v.kubePolicies.map((p) => p.key),
      ['default/web', 'prod/deny-all'],
    );
    assert.deepEqual(
      v.kubeNamespaces.map((n) => [n.key, n.labels]),
      [
        ['default', { 'kubernetes.io/metadata.name': 'default' }],
        ['prod', { env: 'prod', 'kubernetes.io/metadata.name': 'prod' }],
      ],
    );
    const web = v.kubePolicies[0]!;
    assert.deepEqual(web.ingress[0]!.peers[0]!.ipBlock, null, 'absent and empty selectors stay apart');
    assert.deepEqual(web.ingress[0]!.ports[0], { protocol: 'TCP', port: 0, namedPort: 'http', endPort: 0 });
    assert.deepEqual(web.egress[0]!.peers[0]!.podSelector, null);
    assert.deepEqual(web.egress[0]!.peers[0]!.ipBlock, { cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] });
    assert.deepEqual([web.ingressIsolation, web.egressIsolation], [true, true]);
    // its own network's endpoints, and every pod of t1 (q-db in db) with its network and group; not
    // n-quiet (no pod), not t2's pod
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['n-web', 'p-web', 'q-db'],
    );
    assert.deepEqual(
      v.networks.map((n) => n.key),
      ['t1:db', 't1:web'],
    );
    assert.deepEqual(
      v.groups.map((g) => g.key),
      ['t1:g-db'],
    );
    const q = v.endpoints.find((e) => e.id === 'q-db')!;
    assert.deepEqual(q.pod, {
      namespace: 'prod',
      name: 'q-db',
      uid: 'uid-q-db',
      namedPorts: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
    assert.deepEqual(q.labels, { app: 'db' });
    assert.equal(v.endpoints.find((e) => e.id === 'n-web')!.pod, null);
    // the agent's own checks accept it (every endpoint's network and group is in the view)
    const state = parseHostState(JSON.parse(JSON.stringify(v)));
    pipelineView({ state, local: { hostName: 'hostP', vtepIp: '192.168.0.1', ports: {}, bridge: {} } });
  });

  it('a host without pods gets no Kubernetes object and no pod of other networks', () => {
    const v = computeHostView(world().state, 'hostN');
    assert.deepEqual([v.kubePolicies, v.kubeNamespaces], [[], []]);
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['n-quiet', 'n-web', 'p-web'],
      'p-web is in its network web; q-db is not',
    );
    // a pod of another tenant sees only its tenant's pods (and the cluster's Kubernetes objects)
    const t = computeHostView(world().state, 'hostT');
    assert.deepEqual(
      t.endpoints.map((e) => e.id),
      ['t-other'],
    );
    assert.equal(t.kubePolicies.length, 2);
  });

  it('incrementally: a policy change is one key in each view with pods, nothing recomputed; a delete is a deleted Change with its key', () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const subs = new Map<string, Sub>();
    for (const h of ['hostP', 'hostQ', 'hostN', 'hostT']) {
      const s = new Sub();
      engine.track(h, s);
      subs.set(h, s);
    }
    const before = { ...engine.stats };
    b.kubePolicy('prod', 'deny-all', { egressIsolation: true });
    b.kubeNamespace('default', { team: 'a' });
    engine.apply(b.takeChanges());
    assert.equal(engine.stats.hostParts, before.hostParts, 'no host part recomputed');
    assert.equal(engine.stats.endpointLayers, before.endpointLayers);
    for (const h of ['hostP', 'hostQ', 'hostT'])
      assert.deepEqual([...subs.get(h)!.dirty].sort(), ['kubeNamespace/default', 'kubePolicy/prod/deny-all'], h);
    assert.equal(subs.get('hostN')!.dirty.size, 0, 'a host without pods hears nothing');
    const changes = engine.changesFor('hostP', subs.get('hostP')!.dirty);
    assert.deepEqual(
      changes.map((c) => [c.key, c.deleted, c.kubePolicy?.egressIsolation ?? c.kubeNamespace?.labels?.team]),
      [
        ['kubeNamespace/default', false, 'a'],
        ['kubePolicy/prod/deny-all', false, true],
      ],
    );
    for (const s of subs.values()) s.dirty.clear();

    b.del('/netloom/v1/cfg/kubeNetworkPolicy/prod:deny-all');
    engine.apply(b.takeChanges());
    assert.deepEqual(engine.changesFor('hostQ', subs.get('hostQ')!.dirty), [{ deleted: true, key: 'kubePolicy/prod/deny-all' }]);
    assert.deepEqual(
      engine.stateOf('hostQ')!.kubePolicies.map((p) => p.key),
      ['default/web'],
    );
    for (const h of ['hostP', 'hostQ', 'hostN', 'hostT'])
      assert.equal(stableJson(engine.stateOf(h)), stableJson(computeHostView(b.state, h)), h);
  });

  it("a host's first pod brings every Kubernetes object and the tenant's pods; its last pod gone takes them away", () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const s = new Sub();
    engine.track('hostN', s);
    b.pod('n-pod', 't1', 'quiet', 'hostN', '10.3.0.9', 'default');
    engine.apply(b.takeChanges());
    const put = engine.changesFor('hostN', s.dirty);
    s.dirty.clear();
    assert.deepEqual(
      put.filter((c) => c.key!.startsWith('kube')).map((c) => c.key),
      ['kubeNamespace/default', 'kubeNamespace/prod', 'kubePolicy/default/web', 'kubePolicy/prod/deny-all'],
    );
    assert.ok(
      put.some((c) => c.key === 'endpoint/q-db') && put.some((c) => c.key === 'network/t1:db'),
      'the pods of t1 with their networks',
    );
    b.del('/netloom/v1/ep/n-pod');
    engine.apply(b.takeChanges());
    const gone = engine.changesFor('hostN', s.dirty);
    assert.deepEqual(
      gone.filter((c) => c.deleted).map((c) => c.key),
      [
        'kubePolicy/prod/deny-all',
        'kubePolicy/default/web',
        'kubeNamespace/prod',
        'kubeNamespace/default',
        'endpoint/q-db',
        'endpoint/n-pod',
        'vtep/hostQ',
        'group/t1:g-db',
        'network/t1:db',
      ],
      'deletes in reverse dependency order',
    );
    assert.equal(stableJson(engine.stateOf('hostN')), stableJson(computeHostView(b.state, 'hostN')));
  });

  it("a pod in a network new to its tenant's pods brings that network to every view with pods; a group losing its id takes its pods out", () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const s = new Sub();
    engine.track('hostP', s);
    b.pod('q-quiet', 't1', 'quiet', 'hostQ', '10.3.0.7', 'prod');
    engine.apply(b.takeChanges());
    assert.deepEqual([...s.dirty].sort(), ['endpoint/q-quiet', 'network/t1:quiet']);
    assert.equal(stableJson(engine.stateOf('hostP')), stableJson(computeHostView(b.state, 'hostP')));
    s.dirty.clear();
    // group g-db without an id is not usable: its pod leaves the view of hostP (which has no group use of its own)
    b.group('t1', 'g-db', 'db', [], '', 0);
    engine.apply(b.takeChanges());
    assert.ok(s.dirty.has('endpoint/q-db'), [...s.dirty].join());
    assert.equal(
      engine.stateOf('hostP')!.endpoints.some((e) => e.id === 'q-db'),
      false,
    );
    assert.equal(stableJson(engine.stateOf('hostP')), stableJson(computeHostView(b.state, 'hostP')));
  });

  it('a reload recomputes the Kubernetes lists; resuming from a past view diffs them like any object', () => {
    const b = world();
    const past = JSON.parse(JSON.stringify(computeHostView(b.state, 'hostP'))) as ReturnType<typeof computeHostView>;
    const engine = new ViewEngine(() => b.state);
    engine.track('hostP', new Sub());
    assert.equal(engine.stateOf('hostP')!.kubePolicies.length, 2);
    b.kubePolicy('default', 'extra');
    b.takeChanges();
    engine.reload();
    assert.deepEqual(
      engine.stateOf('hostP')!.kubePolicies.map((p) => p.key),
      ['default/extra', 'default/web', 'prod/deny-all'],
    );
    b.del('/netloom/v1/cfg/kubeNamespace/prod');
    assert.deepEqual(
      diffViews(past, computeHostView(b.state, 'hostP')).map((c) => [c.key, c.deleted]),
      [
        ['kubePolicy/default/extra', false],
        ['kubeNamespace/prod', true],
      ],
    );
  });

  it('a snapshot in parts carries every policy and namespace once, in order, each part under the size', () => {
    const b = world();
    for (let i = 0; i < 40; i++)
      b.kubePolicy('default', `p${String(i).padStart(2, '0')}`, { podSelector: { matchLabels: { app: `a${i}` }, matchExpressions: [] } });
    const v = computeHostView(b.state, 'hostP');
    const max = 2000;
    const parts = snapshotParts(v, max);
    assert.ok(parts.length > 2, `${parts.length} parts`);
    for (const p of parts) assert.ok(memoJson(p).length < max * 1.5, 'each part about under the size');
    assert.deepEqual(
      parts.flatMap((p) => p.kubePolicies.map((x) => x.key)),
      v.kubePolicies.map((x) => x.key),
    );
    assert.deepEqual(
      parts.flatMap((p) => p.kubeNamespaces.map((x) => x.key)),
      ['default', 'prod'],
    );
  });
});
