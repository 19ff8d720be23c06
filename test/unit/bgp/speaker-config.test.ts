import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { parseSpeakerConfig } from '../../../netplugin/bgp/speaker-config';
import { GobgpSupervisor } from '../../../netplugin/bgp/supervisor';

const good = {
  global: { asn: 65001, routerId: '10.0.0.1' },
  peers: [{ address: '10.0.0.254', peerAsn: 65000 }],
  paths: [{ prefix: '10.1.0.0/24', nextHop: '10.0.0.1' }],
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseSpeakerConfig(input);
  } catch (e) {
    assert.ok(isNetloomError(e, 'INVALID_ARGUMENT'), String(e));
    assert.ok(e.message.includes(e.field ?? '?'), `message names the field: ${e.message}`);
    return e.field;
  }
  return undefined;
}

describe('bgp: speaker config', () => {
  it('fills defaults: port 179, hold 9 s, connect retry 5 s, ADD-PATH receive', () => {
    const c = parseSpeakerConfig(good);
    assert.equal(c.global.listenPort, 179);
    assert.deepEqual(c.peers[0], {
      address: '10.0.0.254',
      peerAsn: 65000,
      holdTimeS: 9,
      connectRetryS: 5,
      addPathsReceive: true,
      passive: false,
    });
  });

  it('refuses bad input naming the field', () => {
    assert.equal(fieldOf({ ...good, global: { ...good.global, asn: 0 } }), 'global.asn');
    assert.equal(fieldOf({ ...good, global: { ...good.global, asn: 4294967296 } }), 'global.asn');
    assert.equal(fieldOf({ ...good, global: { ...good.global, routerId: '10.0.0' } }), 'global.routerId');
    assert.equal(fieldOf({ ...good, global: { ...good.global, listenPort: 70000 } }), 'global.listenPort');
    assert.equal(fieldOf({ ...good, peers: [{ address: '10.0.0.300', peerAsn: 1 }] }), 'peers.0.address');
    assert.equal(fieldOf({ ...good, peers: [{ address: '10.0.0.2', peerAsn: 1, holdTimeS: 2 }] }), 'peers.0.holdTimeS');
    assert.equal(fieldOf({ ...good, peers: [good.peers[0], good.peers[0]] }), 'peers.1.address');
    assert.equal(fieldOf({ ...good, paths: [{ prefix: '10.1.0.1/24', nextHop: '10.0.0.1' }] }), 'paths.0.prefix');
    assert.equal(fieldOf({ ...good, paths: [{ prefix: '10.1.0.0/33', nextHop: '10.0.0.1' }] }), 'paths.0.prefix');
    assert.equal(fieldOf({ ...good, paths: [{ prefix: '10.1.0.0/24', nextHop: 'x' }] }), 'paths.0.nextHop');
    assert.equal(fieldOf({ ...good, paths: [good.paths[0], good.paths[0]] }), 'paths.1.prefix');
    assert.equal(fieldOf(good), undefined);
  });

  it('the supervisor refuses an API address gobgpd cannot listen on', () => {
    assert.throws(
      () => new GobgpSupervisor({ api: 'localhost' }),
      (e) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'api',
    );
    assert.ok(new GobgpSupervisor({ api: '127.0.0.1:50051' }));
    assert.ok(new GobgpSupervisor({ api: 'unix:///run/netloom/gobgp.sock' }));
  });
});
