/**
 * Updates assembled from per-object encodings are the protobuf encoding of the same update: a
 * client decodes them to exactly what gRPC's own serializer gives, and each object is encoded
 * once however many updates carry it.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { UpdateEncoder, serializeUpdate } from '../../../netmaster/agent/update-encoder';
import { ViewEngine } from '../../../netmaster/agent/view-engine';
import { loadAgentProto } from '../../../proto/loader';
import type { DesiredStateUpdate } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';
import { ClusterBuilder } from './fixtures';

const watch = loadAgentProto().netloom.v1.Agent.service.WatchDesiredState;
const decode = (b: Buffer): unknown => watch.responseDeserialize(b);
const standard = (u: DesiredStateUpdate): unknown => decode(watch.responseSerialize(u));

function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('routing')
    .tenant('t1')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'flat', 'vlan', 100, '10.3.0.0/24')
    .group('t1', 'g1', 'web', ['p1'], 'prof1')
    .group('t1', 'g2', 'web')
    .policy('t1', 'p1', [{ id: 'r1', from: 'g2' }, { id: 'r2' }])
    .profile('t1', 'prof1', '10mbps')
    .bgp('hostA')
    .agent('hostB', '192.168.0.2')
    .pod('a1', 't1', 'web', 'hostA', '10.1.0.2', 'default', { app: 'a' }, 'g1')
    .kubeNamespace('default', { team: 'x' })
    .kubePolicy('default', 'web', {
      podSelector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }] },
      egressIsolation: true,
      ingress: [
        { peers: [{ namespaceSelector: { matchLabels: {}, matchExpressions: [] } }], ports: [{ protocol: 'TCP', namedPort: 'http' }] },
      ],
      egress: [
        { peers: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'UDP', port: 53, endPort: 60 }] },
      ],
    })
    .endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3', 'g2', '', { app: 'web' })
    .endpoint('a2', 't1', 'flat', 'hostA', '10.3.0.2')
    .service('t1', 'svc', 'web', '10.1.0.200', ['app=web'], ['80:8080:TCP', '53:53:UDP']);
}

describe('agent API update encoder', () => {
  const enc = new UpdateEncoder();

  it('a snapshot (and its parts) decodes exactly as the standard encoding of the same update', () => {
    const state = computeHostView(world().state, 'hostA');
    assert.ok(
      state.bgp &&
        state.policies.length === 1 &&
        state.profiles.length === 1 &&
        state.services[0]?.providers.length === 1 &&
        state.kubePolicies.length === 1 &&
        state.kubeNamespaces.length === 1 &&
        state.endpoints.some((e) => e.pod !== null),
      'a view with every kind',
    );
    for (const reason of ['INITIAL', 'COMPACTED', 'RESYNC'] as const)
      for (const more of [false, true])
        assert.deepEqual(
          decode(enc.snapshot('12345', reason, state, more)),
          standard({ revision: '12345', snapshot: { reason, state, more } }),
        );
    const empty = { ...state, global: null, bgp: null, endpoints: [], vteps: [] };
    assert.deepEqual(
      decode(enc.snapshot('7', 'INITIAL', empty, false)),
      standard({ revision: '7', snapshot: { reason: 'INITIAL', state: empty, more: false } }),
    );
  });

  it('batches of changes (puts of every kind, deletes, with and without commit) decode as the standard encoding', () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const sub = { dirty: new Set<string>(), notify: () => undefined };
    engine.track('hostA', sub);
    const all = engine.changesFor('hostA', [
      'global',
      'bgp',
      'tenant/t1',
      'network/t1:web',
      'group/t1:g1',
      'policy/t1:p1',
      'profile/t1:prof1',
      'vtep/hostB',
      'endpoint/b1',
      'service/t1:svc',
      'kubeNamespace/default',
      'kubePolicy/default/web',
      'kubePolicy/default/gone',
      'endpoint/gone',
    ]);
    assert.ok(all.some((c) => c.deleted));
    for (const commit of [true, false])
      assert.deepEqual(decode(enc.changes('99', all, commit)), standard({ revision: '99', changes: { changes: all, commit } }));
    assert.deepEqual(decode(enc.changes('100', [], true)), standard({ revision: '100', changes: { changes: [], commit: true } }));
  });

  it('encodes each shared object once, however many streams send it', () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const hosts = ['hostA', 'hostB', 'hostC', 'hostD'];
    for (const h of hosts) b.endpoint(`x-${h}`, 't1', 'web', h, `10.1.0.${10 + hosts.indexOf(h)}`, 'g1');
    b.takeChanges();
    for (const h of hosts) engine.track(h, { dirty: new Set(), notify: () => undefined });
    b.policy('t1', 'p1', [{ id: 'r9' }]);
    engine.apply(b.takeChanges());
    const e = new UpdateEncoder();
    const bufs = hosts.map((h) => e.changes('5', engine.changesFor(h, ['policy/t1:p1']), true));
    assert.equal(e.encoded, 1, 'one policy encoding for four streams');
    assert.ok(bufs.every((x) => x.equals(bufs[0]!)));
  });

  it('the serializer passes encoded updates through and serializes the rest', () => {
    const ser = serializeUpdate(watch.responseSerialize);
    const buf = enc.changes('1', [], true);
    assert.equal(ser(buf), buf);
    assert.deepEqual(decode(ser({ revision: '3', progress: {} })), standard({ revision: '3', progress: {} }));
  });
});
