import { strict as assert } from 'node:assert';
import type { PeerStatus } from '../../../netplugin/bgp/gobgp-client';
import { parseSpeakerConfig } from '../../../netplugin/bgp/speaker-config';
import { localPaths, planIsEmpty, planSpeaker } from '../../../netplugin/bgp/speaker-plan';
import type { RibPath } from '../../../netplugin/bgp/path-codec';

const desired = parseSpeakerConfig({
  global: { asn: 65001, routerId: '10.0.0.1' },
  peers: [
    { address: '10.0.0.254', peerAsn: 65000 },
    { address: '10.0.0.253', peerAsn: 65000 },
  ],
  paths: [
    { prefix: '10.1.0.0/24', nextHop: '10.0.0.1' },
    { prefix: '10.2.0.0/24', nextHop: '10.0.0.1' },
  ],
});
const running = { asn: 65001, routerId: '10.0.0.1', listenPort: 179, listenAddresses: ['0.0.0.0', '::'] };

function peer(address: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    address,
    peerAsn: 65000,
    localAsn: 65001,
    state: 'ESTABLISHED',
    adminDown: false,
    uptimeSince: 1,
    holdTimeS: 9,
    negotiatedHoldTimeS: 9,
    received: 0,
    accepted: 0,
    advertised: 0,
    addPathsReceive: true,
    ...over,
  };
}

describe('bgp: speaker plan', () => {
  it('a fresh gobgpd: start BGP, add every peer and path', () => {
    const p = planSpeaker(desired, { global: undefined, peers: [], paths: [] });
    assert.equal(p.start, true);
    assert.equal(p.stop, false);
    assert.deepEqual(
      p.addPeers.map((x) => x.address),
      ['10.0.0.254', '10.0.0.253'],
    );
    assert.equal(p.addPaths.length, 2);
  });

  it('nothing to do when gobgpd holds the desired state', () => {
    const p = planSpeaker(desired, { global: running, peers: [peer('10.0.0.254'), peer('10.0.0.253')], paths: desired.paths });
    assert.ok(planIsEmpty(p), JSON.stringify(p));
  });

  it('other global settings: stop, start and re-add everything (gobgpd forgets peers and paths)', () => {
    const p = planSpeaker(desired, { global: { ...running, asn: 65009 }, peers: [peer('10.0.0.254')], paths: desired.paths });
    assert.equal(p.stop, true);
    assert.equal(p.start, true);
    assert.deepEqual(p.deletePeers, []);
    assert.equal(p.addPeers.length, 2);
    assert.equal(p.addPaths.length, 2);
  });

  it('peers: extra deleted, changed deleted and re-added, missing added', () => {
    const p = planSpeaker(desired, {
      global: running,
      peers: [peer('10.0.0.254', { holdTimeS: 90 }), peer('10.0.0.9')],
      paths: desired.paths,
    });
    assert.deepEqual(p.deletePeers, ['10.0.0.254', '10.0.0.9']);
    assert.deepEqual(
      p.addPeers.map((x) => x.address),
      ['10.0.0.254', '10.0.0.253'],
    );
    const asn = planSpeaker(desired, { global: running, peers: [peer('10.0.0.254', { peerAsn: 1 }), peer('10.0.0.253')], paths: [] });
    assert.deepEqual(asn.deletePeers, ['10.0.0.254']);
  });

  it('paths: a withdrawn prefix is deleted; a new next hop is only added (GoBGP replaces our path in place)', () => {
    const p = planSpeaker(desired, {
      global: running,
      peers: [peer('10.0.0.254'), peer('10.0.0.253')],
      paths: [
        { prefix: '10.1.0.0/24', nextHop: '10.0.0.7' },
        { prefix: '10.9.0.0/24', nextHop: '10.0.0.1' },
      ],
    });
    assert.deepEqual(p.deletePaths, [{ prefix: '10.9.0.0/24', nextHop: '10.0.0.1' }]);
    assert.deepEqual(p.addPaths, desired.paths);
  });

  it('our paths in a RIB are the local ones that are not withdrawn', () => {
    const path = (over: Partial<RibPath>): RibPath => ({
      prefix: '10.1.0.0/24',
      nextHop: '10.0.0.1',
      best: true,
      local: true,
      uuid: '',
      neighbor: '',
      asPath: [],
      asPathLength: 0,
      origin: 0,
      med: 0,
      localPref: 100,
      identifier: 0,
      withdrawn: false,
      nextHopInvalid: false,
      stale: false,
      ...over,
    });
    const rib = [
      {
        prefix: '10.1.0.0/24',
        paths: [
          path({}),
          path({ local: false, neighbor: '10.0.0.254', nextHop: '10.0.0.2' }),
          path({ withdrawn: true, nextHop: '10.0.0.3' }),
        ],
      },
    ];
    assert.deepEqual(localPaths(rib), [{ prefix: '10.1.0.0/24', nextHop: '10.0.0.1' }]);
  });
});
