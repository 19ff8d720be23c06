/**
 * The effective BGP settings in a host's view (issue 16): its Bgp object, else the cluster-wide
 * default on the global object; neighbors and timers; a change of either reaches the view; routed
 * (`bgp`) networks stay out of views until the agent routes them.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { effectiveBgp } from '../../../netmaster/agent/bgp-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { ClusterBuilder } from './fixtures';

const DEFAULT = { bgpAs: '65000', bgpNeighbors: ['10.213.1.254:65000', '10.213.1.253:65000'], bgpHoldTime: 6, bgpKeepaliveTime: 2 };

describe('agent API host view: effective BGP settings', () => {
  it('no object and no default: no BGP settings', () => {
    const v = computeHostView(new ClusterBuilder().global('bridge').state, 'host1');
    assert.equal(v.bgp, null);
  });

  it('no object: the default, named for the host, with every neighbor and its timers', () => {
    const v = computeHostView(new ClusterBuilder().global('bridge', DEFAULT).state, 'host1');
    assert.deepEqual(v.bgp, {
      hostname: 'host1',
      routerIp: '',
      as: 65000,
      neighbor: '10.213.1.254',
      neighborAs: 65000,
      neighbors: [
        { address: '10.213.1.254', as: 65000 },
        { address: '10.213.1.253', as: 65000 },
      ],
      holdTime: 6,
      keepaliveTime: 2,
      fromDefault: true,
    });
    assert.equal(computeHostView(new ClusterBuilder().global('bridge', DEFAULT).state, 'host2').bgp?.hostname, 'host2');
  });

  it("the host's object wins over the default; its own neighbors follow Contiv's one; timers fall back to the default's", () => {
    const b = new ClusterBuilder().global('bridge', DEFAULT).bgpObject('host1', {
      routerip: '10.213.1.1/24',
      as: '65001',
      neighbor: '10.213.1.254',
      'neighbor-as': '65000',
      neighbors: ['10.213.1.250:65100'],
    });
    const v = computeHostView(b.state, 'host1');
    assert.equal(v.bgp?.as, 65001);
    assert.equal(v.bgp?.fromDefault, false);
    assert.deepEqual(v.bgp?.neighbors, [
      { address: '10.213.1.254', as: 65000 },
      { address: '10.213.1.250', as: 65100 },
    ]);
    assert.deepEqual([v.bgp?.holdTime, v.bgp?.keepaliveTime], [6, 2]);
    assert.equal(computeHostView(b.state, 'host2').bgp?.fromDefault, true, 'another host still gets the default');
  });

  it('timers of the object win; without either, 9 s and 3 s', () => {
    const own = { hostname: 'h', routerip: '1.1.1.1/24', as: '1', neighbor: '', 'neighbor-as': '', holdTime: 30, keepaliveTime: 10 };
    assert.deepEqual([effectiveBgp('h', own, { bgpHoldTime: 6 })?.holdTime, effectiveBgp('h', own, undefined)?.keepaliveTime], [30, 10]);
    const bare = { ...own, holdTime: undefined, keepaliveTime: undefined };
    assert.deepEqual([effectiveBgp('h', bare, undefined)?.holdTime, effectiveBgp('h', bare, undefined)?.keepaliveTime], [9, 3]);
    assert.deepEqual(effectiveBgp('h', bare, undefined)?.neighbors, [], 'no neighbor: none listed');
  });

  it('the same stored objects give the same message (views compare by identity)', () => {
    const b = new ClusterBuilder().global('bridge', DEFAULT);
    assert.equal(computeHostView(b.state, 'host1').bgp, computeHostView(b.state, 'host1').bgp);
  });

  it('an agent of today accepts the view (the new fields are additive)', () => {
    const v = computeHostView(new ClusterBuilder().global('bridge', DEFAULT).state, 'host1');
    assert.equal(parseHostState(v).bgp?.as, 65000);
  });

  it('a routed (bgp) network is in the views of hosts with endpoints in it, and the agent accepts the view', () => {
    const b = new ClusterBuilder()
      .global('bridge', DEFAULT)
      .tenant('t1')
      .network('t1', 'routed', 'bgp', 7, '10.60.0.0/24')
      .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24')
      .agent('host1', '192.168.0.1')
      .agent('host2', '192.168.0.2')
      .endpoint('r1', 't1', 'routed', 'host1', '10.60.0.2')
      .endpoint('r2', 't1', 'routed', 'host2', '10.60.0.3')
      .endpoint('w1', 't1', 'web', 'host1', '10.1.0.2');
    const v = computeHostView(b.state, 'host1');
    assert.deepEqual(
      v.networks.map((n) => [n.key, n.encap, n.networkId]),
      [
        ['t1:routed', 'bgp', 0x2000007],
        ['t1:web', 'vxlan', 5001],
      ],
    );
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['r1', 'r2', 'w1'],
    );
    assert.deepEqual(
      parseHostState(JSON.parse(JSON.stringify(v))).networks.map((n) => n.encap),
      ['bgp', 'vxlan'],
    );
  });

  it("a host with a routed network carries every tenant's routed network (the tenant guard), without their endpoints", () => {
    const b = new ClusterBuilder()
      .global('bridge', DEFAULT)
      .tenant('t1')
      .tenant('t2')
      .network('t1', 'routed', 'bgp', 7, '10.60.0.0/24')
      .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24')
      .network('t2', 'routed', 'bgp', 8, '10.70.0.0/24')
      .network('t2', 'web', 'vxlan', 5002, '10.2.0.0/24')
      .agent('host1', '192.168.0.1')
      .agent('host2', '192.168.0.2')
      .endpoint('r1', 't1', 'routed', 'host1', '10.60.0.2')
      .endpoint('q1', 't2', 'routed', 'host2', '10.70.0.2')
      .endpoint('w1', 't1', 'web', 'host2', '10.1.0.2');
    const v = computeHostView(b.state, 'host1');
    assert.deepEqual(
      v.networks.map((n) => n.key),
      ['t1:routed', 't2:routed'],
      "not another tenant's VXLAN network",
    );
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['r1'],
    );
    assert.deepEqual(
      computeHostView(b.state, 'host2').networks.map((n) => n.key),
      ['t1:routed', 't1:web', 't2:routed'],
    );
    // a host without routed networks carries none
    b.del('/netloom/v1/ep/q1');
    assert.deepEqual(
      computeHostView(b.state, 'host2').networks.map((n) => n.key),
      ['t1:web'],
    );
  });
});
