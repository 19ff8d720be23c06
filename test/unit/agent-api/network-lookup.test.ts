/**
 * LookupNetwork's answer (pure): a network outside a host's span is found by tenant and name or
 * by tenant and subnet, as the very message the desired state carries for a host that has it;
 * a missing network is NOT_FOUND naming tenant and network (or subnet); a name with another
 * subnet, or a subnet shared by two networks, is CONFLICT; neither name nor subnet is refused.
 */
import assert from 'node:assert/strict';
import { isNetloomError, type ErrorCode } from '../../../lib/errors';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { listNetworks, lookupNetwork, networkMessage, normalCidr } from '../../../netmaster/agent/network-lookup';
import { parseHostState } from '../../../netplugin/state/host-state';
import { ClusterBuilder } from './fixtures';

function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'flat', 'vlan', 100, '10.3.0.0/24')
    .network('t2', 'web', 'vxlan', 6001, '10.1.0.0/24', '10.1.0.254')
    .agent('hostA', '192.168.0.1')
    .agent('hostB', '192.168.0.2')
    .endpoint('b-web', 't1', 'web', 'hostB', '10.1.0.3');
}

const rejects = (fn: () => unknown, code: ErrorCode, field: string, text: RegExp) =>
  assert.throws(fn, (e: unknown) => isNetloomError(e, code) && e.field === field && text.test(e.message));

describe('agent API LookupNetwork', () => {
  it('finds a network the asking host does not carry, equal to what the desired state carries', () => {
    const c = world().state;
    assert.equal(computeHostView(c, 'hostA').networks.length, 0, 'hostA has no endpoint: no network in its view');
    const got = lookupNetwork(c, { tenant: 't1', network: 'web', subnet: '' });
    const carried = computeHostView(c, 'hostB').networks.find((n) => n.key === 't1:web');
    assert.deepEqual(got, carried);
    assert.equal(got.networkId, 5001);
    // and the agent accepts it as a network of its state
    assert.equal(parseHostState({ networks: [got] }).networks[0]?.gateway, '10.1.0.1');
    const vlan = lookupNetwork(c, { tenant: 't1', network: 'flat', subnet: '' });
    assert.equal(vlan.encap, 'vlan');
    assert.equal(vlan.networkId, 0x1000000 | 100);
  });

  it("carries the network's nat setting: on when stored without one (networks stored before it existed), off when stored off", () => {
    const c = world().state;
    assert.equal(lookupNetwork(c, { tenant: 't1', network: 'web', subnet: '' }).nat, true);
    assert.equal(computeHostView(c, 'hostB').networks.find((n) => n.key === 't1:web')?.nat, true);
    const stored = {
      tenantName: 't1',
      networkName: 'x',
      nwType: 'data' as const,
      encap: 'vxlan' as const,
      pktTag: 9,
      subnet: '10.9.0.0/24',
    };
    const off = networkMessage('t1:x', { config: { ...stored, gateway: '', ipv6Subnet: '', ipv6Gateway: '', cfgdTag: '', nat: false } });
    assert.equal(off.nat, false);
    assert.equal(parseHostState({ networks: [off] }).networks[0]?.nat, false, 'the agent reads it');
  });

  it('carries the tag in use of a network created without one (config pktTag 0, the allocated tag in its oper)', () => {
    const c = world()
      .allocatedNetwork('t1', 'auto', 'vxlan', 5005, '10.5.0.0/24')
      .allocatedNetwork('t1', 'autovlan', 'vlan', 205, '10.6.0.0/24')
      .allocatedNetwork('t1', 'routed', 'bgp', 42, '10.8.0.0/24')
      .endpoint('b-auto', 't1', 'auto', 'hostB', '10.5.0.3').state;
    const got = lookupNetwork(c, { tenant: 't1', network: 'auto', subnet: '' });
    assert.equal(got.pktTag, 5005);
    assert.equal(got.networkId, 5005);
    assert.deepEqual(lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.5.0.0/24' }), got, 'by subnet too');
    assert.deepEqual(
      computeHostView(c, 'hostB').networks.find((n) => n.key === 't1:auto'),
      got,
      'the host view carries the network (usable: it has a tag) with that tag',
    );
    assert.equal(lookupNetwork(c, { tenant: 't1', network: 'autovlan', subnet: '' }).networkId, 0x1000000 | 205);
    // a bgp network's pktTag is netmaster's id for it (docs/bgp.md): its network id is built from it
    assert.equal(lookupNetwork(c, { tenant: 't1', network: 'routed', subnet: '' }).networkId, 0x2000000 | 42);
    assert.equal(listNetworks(c).find((n) => n.key === 't1:auto')?.pktTag, 5005);
  });

  it('finds by subnet within the tenant (two tenants may share a subnet), in any CIDR spelling', () => {
    const c = world().state;
    assert.equal(lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.1.0.0/24' }).key, 't1:web');
    assert.equal(lookupNetwork(c, { tenant: 't2', network: '', subnet: '10.1.0.0/24' }).key, 't2:web');
    assert.equal(lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.1.0.7/24' }).key, 't1:web', 'host bits ignored');
    assert.equal(lookupNetwork(c, { tenant: 't1', network: 'web', subnet: '10.1.0.0/24' }).key, 't1:web', 'name and matching subnet');
    assert.equal(normalCidr('10.1.0.9/16'), '10.1.0.0/16');
    assert.equal(normalCidr('fd00::/64'), undefined);
  });

  it('an empty tenant means "default", as CreateEndpoint', () => {
    const c = world().tenant('default').network('default', 'd', 'vxlan', 7000, '10.7.0.0/24').state;
    assert.equal(lookupNetwork(c, { tenant: '', network: 'd', subnet: '' }).key, 'default:d');
  });

  it('NOT_FOUND names tenant and network, or the subnet', () => {
    const c = world().state;
    rejects(
      () => lookupNetwork(c, { tenant: 't1', network: 'nope', subnet: '' }),
      'NOT_FOUND',
      'network',
      /network 'nope' of tenant 't1' does not exist/,
    );
    rejects(() => lookupNetwork(c, { tenant: 't3', network: 'web', subnet: '' }), 'NOT_FOUND', 'network', /tenant 't3'/);
    rejects(
      () => lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.99.0.0/24' }),
      'NOT_FOUND',
      'subnet',
      /tenant 't1' has no network with subnet 10\.99\.0\.0\/24/,
    );
    // a deleted network is gone
    const b = world();
    b.del('/netloom/v1/cfg/network/t1:flat');
    rejects(() => lookupNetwork(b.state, { tenant: 't1', network: 'flat', subnet: '' }), 'NOT_FOUND', 'network', /flat/);
  });

  it('CONFLICT for a name with another subnet, or a subnet two networks share; bad input refused', () => {
    const c = world().network('t1', 'web2', 'vxlan', 5003, '10.1.0.0/24').state;
    rejects(
      () => lookupNetwork(c, { tenant: 't1', network: 'flat', subnet: '10.1.0.0/24' }),
      'CONFLICT',
      'subnet',
      /has subnet 10\.3\.0\.0\/24, not 10\.1\.0\.0\/24/,
    );
    rejects(() => lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.1.0.0/24' }), 'CONFLICT', 'subnet', /web, web2/);
    rejects(() => lookupNetwork(c, { tenant: 't1', network: '', subnet: '' }), 'INVALID_ARGUMENT', 'network', /name or its subnet/);
    rejects(() => lookupNetwork(c, { tenant: 't1', network: '', subnet: '10.1.0.0' }), 'INVALID_ARGUMENT', 'subnet', /not an IPv4 CIDR/);
  });
});
