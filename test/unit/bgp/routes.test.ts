import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import type { RibDestination } from '../../../netplugin/bgp/gobgp-client';
import { kernelAfter, parseKernelRoutes, planKernelRoutes } from '../../../netplugin/bgp/kernel-routes';
import type { RibPath } from '../../../netplugin/bgp/path-codec';
import { ribRoutes } from '../../../netplugin/bgp/rib-routes';

function learned(nextHop: string, over: Partial<RibPath> = {}): RibPath {
  return {
    prefix: '10.9.0.0/24',
    nextHop,
    best: false,
    local: false,
    uuid: '',
    neighbor: '10.0.0.254',
    asPath: [65000, 65001],
    asPathLength: 2,
    origin: 0,
    med: 0,
    localPref: 100,
    identifier: 1,
    withdrawn: false,
    nextHopInvalid: false,
    stale: false,
    ...over,
  };
}
const dest = (...paths: RibPath[]): RibDestination => ({ prefix: paths[0]?.prefix ?? '', paths });

describe('bgp: RIB -> kernel routes', () => {
  it('best path plus every equal-cost path (relaxed AS path), next hops in address order', () => {
    const t = ribRoutes([dest(learned('10.0.0.3', { best: true, asPath: [65000, 65003] }), learned('10.0.0.1'), learned('10.0.0.20'))]);
    assert.deepEqual(t.get('10.9.0.0/24'), ['10.0.0.1', '10.0.0.3', '10.0.0.20']);
  });

  it('a worse path (longer AS path, lower local pref, higher MED, worse origin) is not a next hop', () => {
    const best = learned('10.0.0.1', { best: true });
    for (const worse of [{ asPathLength: 3 }, { localPref: 50 }, { med: 10 }, { origin: 2 }])
      assert.deepEqual(ribRoutes([dest(best, learned('10.0.0.2', worse))]).get('10.9.0.0/24'), ['10.0.0.1'], JSON.stringify(worse));
  });

  it('no route for our own prefix, for our own next hop, for withdrawn or unresolvable paths', () => {
    const own = dest(learned('10.0.0.1', { best: true, local: true, neighbor: '' }), learned('10.0.0.2'));
    assert.equal(ribRoutes([own]).size, 0);
    const self = ribRoutes([dest(learned('10.0.0.5', { best: true }), learned('10.0.0.2'))], { selfAddresses: ['10.0.0.5'] });
    assert.equal(self.size, 0, 'the best path loops back to us: nothing rather than a worse choice');
    const gone = ribRoutes([
      dest(learned('10.0.0.1', { best: true }), learned('10.0.0.2', { withdrawn: true }), learned('10.0.0.3', { nextHopInvalid: true })),
    ]);
    assert.deepEqual(gone.get('10.9.0.0/24'), ['10.0.0.1']);
  });

  it('at most maxPaths next hops, the best one always among them', () => {
    const t = ribRoutes([dest(learned('10.0.0.9', { best: true }), learned('10.0.0.1'), learned('10.0.0.2'))], { maxPaths: 2 });
    assert.deepEqual(t.get('10.9.0.0/24'), ['10.0.0.1', '10.0.0.9']);
  });

  const listing = JSON.stringify([
    {
      dst: '10.9.0.0/24',
      protocol: '80',
      flags: [],
      nexthops: [
        { gateway: '10.0.0.3', dev: 'eth0' },
        { gateway: '10.0.0.1', dev: 'eth0' },
      ],
    },
    { dst: '10.8.0.5', gateway: '10.0.0.1', dev: 'eth0', protocol: '80', flags: [] },
    { dst: '10.0.0.0/24', dev: 'eth0', protocol: '2', scope: '253', flags: [] },
    { dst: '10.7.0.9', dev: 'veth1', protocol: '81', scope: '253', flags: [] },
    { dst: 'default', gateway: '10.0.0.254', dev: 'eth0', flags: [] },
  ]);

  it('parses ip -N -j route show: ours (proto 80, /32 spelled out, next hops sorted) and the rest', () => {
    const k = parseKernelRoutes(listing);
    assert.deepEqual(
      [...k.ours],
      [
        ['10.9.0.0/24', ['10.0.0.1', '10.0.0.3']],
        ['10.8.0.5/32', ['10.0.0.1']],
      ],
    );
    assert.deepEqual([...k.others], ['10.0.0.0/24', '10.7.0.9/32', '0.0.0.0/0']);
    assert.equal(parseKernelRoutes('').ours.size, 0);
    assert.throws(
      () => parseKernelRoutes('{'),
      (e) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.throws(
      () => parseKernelRoutes('[{"gateway":"1.1.1.1"}]'),
      (e) => isNetloomError(e, 'DECODE_ERROR') && /dst/.test(e.message),
    );
  });

  it('plans replace for new and changed routes (ECMP as nexthop lists), nothing for the same, deletes only when allowed', () => {
    const k = parseKernelRoutes(listing);
    const want = new Map([
      ['10.9.0.0/24', ['10.0.0.1', '10.0.0.3']],
      ['10.6.0.0/16', ['10.0.0.2']],
      ['10.5.0.0/16', ['10.0.0.1', '10.0.0.2']],
    ]);
    const held = planKernelRoutes(want, k, { deletes: false });
    assert.deepEqual(held.lines, [
      'route replace 10.6.0.0/16 proto 80 via 10.0.0.2',
      'route replace 10.5.0.0/16 proto 80 nexthop via 10.0.0.1 nexthop via 10.0.0.2',
    ]);
    assert.deepEqual(held.kept, ['10.8.0.5/32']);
    const full = planKernelRoutes(want, k, { deletes: true });
    assert.deepEqual(full.lines[0], 'route del 10.8.0.5/32 proto 80');
    assert.deepEqual(full.deleted, ['10.8.0.5/32']);
    const after = kernelAfter(k, full, want);
    assert.equal(planKernelRoutes(want, after, { deletes: true }).lines.length, 0, 'after applying, nothing is left to do');
  });

  it('with a routed uplink every next hop goes through it (onlink); a route through another device is replaced, one through it is kept', () => {
    const k = parseKernelRoutes(listing);
    assert.deepEqual(k.devices.get('10.9.0.0/24'), ['eth0']);
    const want = new Map([
      ['10.9.0.0/24', ['10.0.0.1', '10.0.0.3']],
      ['10.8.0.5/32', ['10.0.0.1']],
    ]);
    assert.deepEqual(planKernelRoutes(want, k, { deletes: true }).lines, [], 'without a device the kernel picks it');
    const p = planKernelRoutes(want, k, { deletes: true, dev: 'eth2' });
    assert.deepEqual(p.lines, [
      'route replace 10.9.0.0/24 proto 80 nexthop via 10.0.0.1 dev eth2 onlink nexthop via 10.0.0.3 dev eth2 onlink',
      'route replace 10.8.0.5/32 proto 80 via 10.0.0.1 dev eth2 onlink',
    ]);
    const after = kernelAfter(k, p, want);
    assert.deepEqual(after.devices.get('10.8.0.5/32'), ['eth2']);
    assert.deepEqual(planKernelRoutes(want, after, { deletes: true, dev: 'eth2' }).lines, [], 'after applying, nothing is left to do');
    const onEth2 = parseKernelRoutes(
      JSON.stringify([{ dst: '10.8.0.5', gateway: '10.0.0.1', dev: 'eth2', protocol: '80', flags: ['onlink'] }]),
    );
    assert.deepEqual(planKernelRoutes(new Map([['10.8.0.5/32', ['10.0.0.1']]]), onEth2, { deletes: true, dev: 'eth2' }).lines, []);
  });

  it('never replaces a route another protocol owns (connected subnet, local endpoint, default)', () => {
    const k = parseKernelRoutes(listing);
    const want = new Map([
      ['10.0.0.0/24', ['10.0.0.9']],
      ['10.7.0.9/32', ['10.0.0.9']],
      ['0.0.0.0/0', ['10.0.0.9']],
    ]);
    const p = planKernelRoutes(want, k, { deletes: false });
    assert.deepEqual(p.shadowed, ['10.0.0.0/24', '10.7.0.9/32', '0.0.0.0/0']);
    assert.deepEqual(p.lines, []);
  });
});
