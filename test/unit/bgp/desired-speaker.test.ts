import { strict as assert } from 'node:assert';
import { desiredPaths, desiredSpeaker } from '../../../netplugin/bgp/desired-speaker';
import { parseSpeakerConfig } from '../../../netplugin/bgp/speaker-config';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';

const BGP = { hostname: 'h1', routerIp: '', as: 65000, neighbor: '10.213.1.254', neighborAs: 65000 };

/** A state with a Contiv-form routed network (vlan, routing mode, BGP settings) and a VXLAN one (never routed). */
function state(over: Partial<HostState> = {}): HostState {
  const net = (name: string, subnet: string, pktTag: number, encap = 'vlan') => ({
    key: `t1:${name}`,
    tenant: 't1',
    name,
    encap,
    pktTag,
    subnet,
    gateway: '',
    networkId: pktTag,
    gatewayMac: '02:00:00:00:00:01',
    mtu: 1500,
    blockPrefix: 26,
  });
  const ep = (id: string, network: string, host: string, ip: string) => ({ id, network, host, ip, mac: '02:00:00:00:00:02', vtepIp: '' });
  return {
    ...parseHostState({
      global: { fwdMode: 'routing' },
      tenants: [{ name: 't1', ctZone: 1, vrfId: 1 }],
      networks: [net('routed', '10.60.0.0/16', 10), net('other', '10.70.0.0/16', 11, 'vxlan')],
      endpoints: [
        ep('e1', 't1:routed', 'h1', '10.60.0.5'),
        ep('e2', 't1:routed', 'h1', '10.60.9.9'),
        ep('e3', 't1:routed', 'h2', '10.60.0.70'),
        ep('e4', 't1:other', 'h1', '10.70.9.9'),
      ],
      blocks: [
        { network: 't1:routed', cidr: '10.60.0.0/26', host: 'h1', vtepIp: '10.213.1.1' },
        { network: 't1:routed', cidr: '10.60.0.64/26', host: 'h2', vtepIp: '10.213.1.2' },
        { network: 't1:routed', cidr: '10.60.1.0/26', host: 'h1', vtepIp: '10.213.1.1' },
        { network: 't1:other', cidr: '10.70.0.0/26', host: 'h1', vtepIp: '10.213.1.1' },
      ],
      bgp: BGP,
    }),
    ...over,
  };
}

describe('bgp: desired speaker from the host state', () => {
  it("announces this host's blocks of routed networks and /32s only for its endpoints outside them", () => {
    assert.deepEqual(
      desiredPaths(state(), 'h1', '10.213.1.1').map((p) => p.prefix),
      // 10.60.0.5 is in h1's block; 10.60.9.9 is not; h2's block and endpoint are not ours; the VXLAN network is not routed
      ['10.60.0.0/26', '10.60.1.0/26', '10.60.9.9/32'],
    );
    assert.ok(desiredPaths(state(), 'h1', '10.213.1.1').every((p) => p.nextHop === '10.213.1.1'));
  });

  it('encap bgp is routed whatever the forwarding mode; routing mode without BGP settings is not', () => {
    const s = state({ global: { ...state().global, fwdMode: 'bridge' } });
    assert.deepEqual(desiredPaths(s, 'h1', '10.213.1.1'), []);
    const bgpNet = { ...s, networks: s.networks.map((n) => (n.name === 'other' ? { ...n, encap: 'bgp' as never } : n)) };
    assert.deepEqual(
      desiredPaths(bgpNet, 'h1', '10.213.1.1').map((p) => p.prefix),
      ['10.70.0.0/26', '10.70.9.9/32'],
    );
  });

  it('global settings and peers from HostState.bgp; next hop and router id the VTEP address unless a router IP is given', () => {
    const cfg = parseSpeakerConfig(desiredSpeaker(state(), { hostName: 'h1', vtepIp: '10.213.1.1' }));
    assert.deepEqual(cfg.global, { asn: 65000, routerId: '10.213.1.1', listenPort: 179, listenAddresses: [] });
    assert.deepEqual(
      cfg.peers.map((p) => [p.address, p.peerAsn, p.holdTimeS, p.keepaliveS]),
      [['10.213.1.254', 65000, 9, 3]],
    );
    const withRouter = state({ bgp: { ...BGP, routerIp: '10.9.0.1/24' } });
    const c2 = parseSpeakerConfig(desiredSpeaker(withRouter, { hostName: 'h1', vtepIp: '10.213.1.1' }));
    assert.equal(c2.global.routerId, '10.9.0.1');
    assert.ok(c2.paths.every((p) => p.nextHop === '10.9.0.1'));
  });

  it("with a routed uplink its address is every path's next hop (also beside a router IP, which stays the router id), and the router id without one", () => {
    const facts = { hostName: 'h1', vtepIp: '10.213.1.1', routedIp: '10.213.1.101' };
    const cfg = parseSpeakerConfig(desiredSpeaker(state(), facts));
    assert.equal(cfg.global.routerId, '10.213.1.101');
    assert.ok(cfg.paths.length > 0 && cfg.paths.every((p) => p.nextHop === '10.213.1.101'));
    const c2 = parseSpeakerConfig(desiredSpeaker(state({ bgp: { ...BGP, routerIp: '10.213.1.1/24' } }), facts));
    assert.equal(c2.global.routerId, '10.213.1.1');
    assert.ok(c2.paths.every((p) => p.nextHop === '10.213.1.101'));
  });

  it('several neighbors and timers (issue 16 fields) replace the one Contiv neighbor', () => {
    const s = state({
      bgp: {
        ...BGP,
        neighbors: [
          { address: '10.213.1.254', as: 65000 },
          { address: '10.213.1.253', as: 65010 },
        ],
        holdTime: 6,
        keepaliveTime: 2,
      },
    });
    const cfg = parseSpeakerConfig(desiredSpeaker(s, { hostName: 'h1', vtepIp: '10.213.1.1' }));
    assert.deepEqual(
      cfg.peers.map((p) => [p.address, p.peerAsn, p.holdTimeS, p.keepaliveS]),
      [
        ['10.213.1.254', 65000, 6, 2],
        ['10.213.1.253', 65010, 6, 2],
      ],
    );
  });

  it('no BGP settings: no speaker; no address to announce from: INVALID_ARGUMENT naming the field', () => {
    const { bgp: _b, ...rest } = state();
    assert.equal(desiredSpeaker(rest, { hostName: 'h1', vtepIp: '10.213.1.1' }), undefined);
    assert.throws(() => desiredSpeaker(state(), { hostName: 'h1', vtepIp: '' }), { code: 'INVALID_ARGUMENT', field: 'vtep-ip' });
  });

  it('the agent state keeps the neighbors and timers netmaster sends', () => {
    const s = parseHostState({ bgp: { ...BGP, neighbors: [{ address: '10.0.0.1', as: 1 }], holdTime: 6, keepaliveTime: 2 } });
    assert.deepEqual(s.bgp?.neighbors, [{ address: '10.0.0.1', as: 1 }]);
    assert.equal(s.bgp?.holdTime, 6);
  });
});
