/**
 * Services in the host views: providers are the endpoints of the service's network whose labels
 * hold every selector (sorted by id), a service reaches every host with a local endpoint in its
 * tenant (with its network, so the providers' endpoints come too), and a provider that comes or
 * goes changes the service in exactly the views that hold it.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { hostsConcerned } from '../../../netmaster/agent/concerned';
import { labelsMatch, portsOf, selectorsOf } from '../../../netmaster/model/service-match';
import { ViewEngine, type ViewSubscriber } from '../../../netmaster/agent/view-engine';
import { diffViews } from '../../../netmaster/agent/view-diff';
import { ClusterBuilder } from './fixtures';
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';

class Dirty implements ViewSubscriber {
  readonly dirty = new Set<string>();
  notify(): void {}
}

function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .network('t2', 'web', 'vxlan', 5003, '10.1.0.0/24', '10.1.0.1')
    .agent('h1', '192.168.0.1')
    .agent('h2', '192.168.0.2')
    .agent('h3', '192.168.0.3')
    .agent('h4', '192.168.0.4')
    .endpoint('p2', 't1', 'web', 'h2', '10.1.0.12', '', '', { app: 'web', tier: 'front' })
    .endpoint('p1', 't1', 'web', 'h1', '10.1.0.11', '', '', { app: 'web' })
    .endpoint('x1', 't1', 'web', 'h1', '10.1.0.13', '', '', { app: 'db' })
    .endpoint('d1', 't1', 'db', 'h3', '10.2.0.11', '', '', { app: 'web' })
    .endpoint('o1', 't2', 'web', 'h4', '10.1.0.11', '', '', { app: 'web' })
    .service('t1', 'websvc', 'web', '10.1.0.200', ['app=web'], ['80:8080:TCP', '53:5353:UDP']);
}

describe('services in host views', () => {
  it(`a service whose selectors match more than ${SERVICE_PROVIDERS_MAX} endpoints: the first ${SERVICE_PROVIDERS_MAX} by id (one select group's most)`, () => {
    const b = world().network('t1', 'big', 'vxlan', 5009, '10.9.0.0/16', '10.9.0.1');
    for (let i = 0; i <= SERVICE_PROVIDERS_MAX; i++)
      b.endpoint(`b${String(i).padStart(4, '0')}`, 't1', 'big', 'h2', `10.9.${1 + (i >> 8)}.${i & 255}`, '', '', { app: 'big' });
    b.service('t1', 'bigsvc', 'big', '10.9.0.200', ['app=big']);
    const svc = computeHostView(b.state, 'h2').services.find((x) => x.key === 't1:bigsvc')!;
    assert.equal(svc.providers.length, SERVICE_PROVIDERS_MAX);
    assert.equal(svc.providers.at(-1)!.endpointId, `b${String(SERVICE_PROVIDERS_MAX - 1).padStart(4, '0')}`);
  });

  it('selectors, labels and ports', () => {
    assert.deepEqual(selectorsOf({ selectors: ['app=web', 'x=a=b', 'empty='] }), [
      ['app', 'web'],
      ['x', 'a=b'],
      ['empty', ''],
    ]);
    assert.equal(labelsMatch({ app: 'web', tier: 'x' }, [['app', 'web']]), true, 'more labels than selectors: a match');
    assert.equal(
      labelsMatch({ app: 'web' }, [
        ['app', 'web'],
        ['tier', 'x'],
      ]),
      false,
      'every selector must hold',
    );
    assert.equal(labelsMatch({ app: 'web' }, []), false, 'no selector selects nothing');
    assert.equal(labelsMatch({ empty: '' }, [['empty', '']]), true);
    assert.equal(labelsMatch({}, [['toString', '']]), false, 'only own labels');
    assert.deepEqual(portsOf({ ports: ['80:8080:TCP', '53:5353:UDP'] }), [
      { port: 80, targetPort: 8080, protocol: 'tcp' },
      { port: 53, targetPort: 5353, protocol: 'udp' },
    ]);
  });

  it('providers: the endpoints of the service network whose labels hold every selector, sorted by id', () => {
    const v = computeHostView(world().state, 'h1');
    assert.equal(v.services.length, 1);
    const s = v.services[0]!;
    assert.deepEqual(
      { ...s, providers: s.providers.map((p) => [p.endpointId, p.ip]) },
      {
        key: 't1:websvc',
        tenant: 't1',
        network: 't1:web',
        ip: '10.1.0.200',
        ports: [
          { port: 80, targetPort: 8080, protocol: 'tcp', name: '', nodePort: 0 },
          { port: 53, targetPort: 5353, protocol: 'udp', name: '', nodePort: 0 },
        ],
        providers: [
          ['p1', '10.1.0.11'],
          ['p2', '10.1.0.12'],
        ],
        kube: false,
        externalTrafficLocal: false,
      },
      'x1 (other labels), d1 (other network) and o1 (other tenant) are not providers',
    );
  });

  it('reaches every host with a local endpoint in its tenant, with its network and providers', () => {
    const b = world();
    // h3 has an endpoint of t1 only in db: it gets the service and the web network with both providers
    const v3 = computeHostView(b.state, 'h3');
    assert.deepEqual(
      v3.services.map((s) => s.key),
      ['t1:websvc'],
    );
    assert.ok(v3.networks.some((n) => n.key === 't1:web'));
    for (const id of ['p1', 'p2'])
      assert.ok(
        v3.endpoints.some((e) => e.id === id),
        `provider ${id} in h3's view`,
      );
    assert.deepEqual(computeHostView(b.state, 'h4').services, [], 'h4 has endpoints of t2 only');
    assert.deepEqual(computeHostView(b.state, 'h5').services, [], 'h5 has no endpoint');
    assert.deepEqual(hostsConcerned(b.state, { service: 't1:websvc' }), ['h1', 'h2', 'h3']);
    // a service without an address (not allocated yet) reaches nobody
    b.service('t1', 'websvc', 'web', '', ['app=web']);
    assert.deepEqual(computeHostView(b.state, 'h1').services, []);
  });

  it('a provider that comes or goes changes the service in exactly the views that hold it', () => {
    const b = world();
    b.takeChanges();
    const engine = new ViewEngine(() => b.state);
    const subs = new Map<string, Dirty>();
    for (const h of ['h1', 'h2', 'h3', 'h4']) {
      const s = new Dirty();
      engine.track(h, s);
      subs.set(h, s);
    }
    const before = engine.stats.hostParts;
    // p3 joins on h2 (a new endpoint of t1:web with the label)
    b.endpoint('p3', 't1', 'web', 'h2', '10.1.0.14', '', '', { app: 'web' });
    engine.apply(b.takeChanges());
    for (const h of ['h1', 'h3']) assert.deepEqual([...subs.get(h)!.dirty].sort(), ['endpoint/p3', 'service/t1:websvc'], h);
    assert.ok(subs.get('h2')!.dirty.has('service/t1:websvc'));
    assert.deepEqual([...subs.get('h4')!.dirty], [], 'another tenant: untouched');
    assert.equal(engine.stats.hostParts - before, 1, "only p3's own host part is recomputed");
    assert.deepEqual(
      engine.stateOf('h3')!.services[0]!.providers.map((p) => p.endpointId),
      ['p1', 'p2', 'p3'],
    );
    for (const s of subs.values()) s.dirty.clear();
    // an endpoint that is no provider before or after does not touch the service
    b.endpoint('x2', 't1', 'web', 'h2', '10.1.0.15', '', '', { app: 'db' });
    engine.apply(b.takeChanges());
    assert.deepEqual([...subs.get('h1')!.dirty], ['endpoint/x2']);
    for (const s of subs.values()) s.dirty.clear();
    // p1 goes: every holder is told, and the message is shared by the views
    b.del('/netloom/v1/ep/p1');
    engine.apply(b.takeChanges());
    for (const h of ['h1', 'h2', 'h3']) assert.ok(subs.get(h)!.dirty.has('service/t1:websvc'), h);
    assert.equal(engine.stateOf('h2')!.services[0], engine.stateOf('h3')!.services[0], 'one message for every view');
    assert.deepEqual(
      engine.stateOf('h2')!.services[0]!.providers.map((p) => p.endpointId),
      ['p2', 'p3'],
    );
  });

  it('a diff puts a changed service after the endpoints it names and deletes it before them', () => {
    const b = world();
    const prev = computeHostView(b.state, 'h3');
    b.endpoint('p3', 't1', 'web', 'h2', '10.1.0.14', '', '', { app: 'web' });
    const changes = diffViews(prev, computeHostView(b.state, 'h3'));
    assert.deepEqual(
      changes.map((c) => c.key),
      ['endpoint/p3', 'service/t1:websvc'],
    );
    const held = computeHostView(b.state, 'h1');
    b.del('/netloom/v1/cfg/serviceLB/t1:websvc').del('/netloom/v1/ep/p2');
    assert.deepEqual(
      diffViews(held, computeHostView(b.state, 'h1')).map((c) => [c.key, c.deleted]),
      [
        ['service/t1:websvc', true],
        ['endpoint/p2', true],
      ],
    );
  });
});
