/**
 * Which networks are routed (netloom's `-e bgp` and Contiv's routing mode with BGP settings), and
 * the OVS pipeline's part of a state: routed networks, their groups, endpoints and services (and
 * tenants left with nothing else) produce no flow, meter or group.
 */
import assert from 'node:assert/strict';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { desiredMeters } from '../../../netplugin/pipeline/meters';
import { isRouted, ovsState, routedNetworkKeys } from '../../../netplugin/routed/routed-networks';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';

const net = (tenant: string, name: string, encap: string, pktTag: number, networkId: number, subnet: string) => ({
  key: `${tenant}:${name}`,
  tenant,
  name,
  encap,
  pktTag,
  subnet,
  networkId,
});
const ep = (id: string, network: string, host: string, ip: string, mac: string, group = '') => ({
  id,
  network,
  group,
  host,
  ip,
  mac,
  vtepIp: host === 'h1' ? '192.168.0.1' : '192.168.0.2',
});

function state(over: Record<string, unknown> = {}): HostState {
  return parseHostState({
    global: { fwdMode: 'bridge' },
    tenants: [
      { name: 'blue', ctZone: 1, vrfId: 1 },
      { name: 'red', ctZone: 2, vrfId: 2 },
    ],
    networks: [
      net('blue', 'web', 'vxlan', 5001, 5001, '10.1.1.0/24'),
      net('blue', 'routed', 'bgp', 7, 0x2000007, '10.60.0.0/16'),
      net('blue', 'flat', 'vlan', 100, 0x1000064, '10.3.0.0/24'),
      net('red', 'routed', 'bgp', 8, 0x2000008, '10.70.0.0/16'),
    ],
    groups: [
      { key: 'blue:front', tenant: 'blue', name: 'front', network: 'web', groupId: 1, netProfile: 'gold' },
      { key: 'blue:rback', tenant: 'blue', name: 'rback', network: 'routed', groupId: 2, netProfile: 'gold' },
    ],
    profiles: [{ key: 'blue:gold', tenant: 'blue', name: 'gold', bandwidthKbps: 1000, burstKb: 10, dscp: 10 }],
    endpoints: [
      ep('w1', 'blue:web', 'h1', '10.1.1.2', '02:00:00:00:00:01', 'blue:front'),
      ep('r1', 'blue:routed', 'h1', '10.60.0.2', '02:00:00:00:00:02', 'blue:rback'),
      ep('r2', 'blue:routed', 'h2', '10.60.0.3', '02:00:00:00:00:03'),
      ep('f1', 'blue:flat', 'h1', '10.3.0.2', '02:00:00:00:00:04'),
    ],
    services: [
      { key: 'blue:svc', tenant: 'blue', network: 'routed', ip: '10.60.9.9', ports: [{ port: 80, targetPort: 80, protocol: 'tcp' }] },
    ],
    ...over,
  });
}

const local = {
  hostName: 'h1',
  vtepIp: '192.168.0.1',
  ports: { w1: { ofport: 10, intfName: 'nlw1' }, f1: { ofport: 11, intfName: 'nlf1' } },
  bridge: { uplink: 1, vxlan: 2 },
};

describe('routed networks (BGP mode)', () => {
  it('encap bgp is routed; a VLAN network is routed only in routing mode with BGP settings (Contiv form)', () => {
    const s = state();
    assert.deepEqual([...routedNetworkKeys(s)], ['blue:routed', 'red:routed']);
    const vlan = { encap: 'vlan' as const };
    assert.equal(isRouted({ global: { ...s.global, fwdMode: 'routing' } }, vlan), false, 'routing mode alone is OVS routing');
    const bgp = { hostname: 'h1', routerIp: '', as: 65000, neighbor: '', neighborAs: 0 };
    assert.equal(isRouted({ global: { ...s.global, fwdMode: 'routing' }, bgp }, vlan), true);
    assert.equal(isRouted({ global: s.global, bgp }, vlan), false, 'bridge mode: VLAN stays bridged');
    assert.equal(isRouted({ global: s.global }, { encap: 'vxlan' }), false);
  });

  it('the OVS part has no routed network, group, endpoint, service, and no tenant left without a network', () => {
    const o = ovsState(state());
    assert.deepEqual(
      o.networks.map((n) => n.key),
      ['blue:web', 'blue:flat'],
    );
    assert.deepEqual(
      o.groups.map((g) => g.key),
      ['blue:front'],
    );
    assert.deepEqual(
      o.endpoints.map((e) => e.id),
      ['w1', 'f1'],
    );
    assert.deepEqual(o.services, []);
    assert.deepEqual(
      o.tenants.map((t) => t.name),
      ['blue'],
    );
    const plain = state({ networks: [net('blue', 'web', 'vxlan', 5001, 5001, '10.1.1.0/24')], endpoints: [], groups: [], services: [] });
    assert.equal(ovsState(plain), plain, 'nothing routed: the same object');
    const s = state();
    assert.equal(ovsState(s), ovsState(s), 'memoised per state');
  });

  it('the pipeline is the same with or without the routed part, and no flow or meter names a routed endpoint', () => {
    const s = state();
    const flows = computePipeline({ state: s, local });
    const without = computePipeline({ state: ovsState(s), local });
    assert.deepEqual(flows, without);
    const text = JSON.stringify(flows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    for (const routed of ['10.60.0.2', '10.60.0.3', '02:00:00:00:00:02', '10.70.', '10.60.9.9'])
      assert.ok(!text.includes(routed), `no flow mentions ${routed}`);
    assert.ok(text.includes('10.1.1.2'), 'the VXLAN endpoint has its flows');
    assert.deepEqual(
      desiredMeters({ state: ovsState(s), local }).map((m) => m.object.split(':')[0]),
      ['w1', 'w1'],
      'only the OVS endpoint gets a meter',
    );
  });
});
