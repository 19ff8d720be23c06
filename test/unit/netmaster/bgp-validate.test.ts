/**
 * The BGP rules of netmaster's validation (issue 16, docs/bgp.md): encap `bgp` (no pktTag given),
 * routed subnets of different tenants never overlap (encap bgp, and Contiv's routing-mode VLAN
 * networks once BGP is configured), Bgp objects and the cluster-wide default checked field by
 * field. Each check sees only what it declares it needs (world.ts), as in the store.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { isRoutedNetwork, parseNeighbor } from '../../../lib/bgp/settings';
import { parseObject } from '../../../netmaster/model/keys';
import { checkUpsert, needsForUpsert } from '../../../netmaster/model/validate';
import type { ObjectOf, ObjectType } from '../../../netmaster/model/schemas';
import { DEFAULT_GLOBAL } from '../../../netmaster/service/service';
import { baseWorld, loadFromWorld, type World } from './world';

function upsert<T extends ObjectType>(type: T, body: unknown, world: World): { obj: ObjectOf[T] } {
  const obj = parseObject(type, body);
  return checkUpsert(type, obj, loadFromWorld(world, needsForUpsert(type, obj)));
}

function refused(fn: () => unknown, code: string, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NetloomError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const network = (over: Partial<ObjectOf['network']>): ObjectOf['network'] => ({
  tenantName: 't2',
  networkName: 'x',
  nwType: 'data',
  encap: 'bgp',
  pktTag: 1,
  subnet: '10.70.0.0/24',
  gateway: '',
  ipv6Subnet: '',
  ipv6Gateway: '',
  cfgdTag: '',
  nat: true,
  ...over,
});

/** The base world with routed network t2:r1 (10.70.0.0/24) and optionally a global change. */
function world(global: Partial<ObjectOf['global']> = {}, extra: Array<ObjectOf['network']> = []): World {
  const w = baseWorld();
  w.global = [{ ...DEFAULT_GLOBAL, ...global }];
  w.network = [...(w.network ?? []), network({ networkName: 'r1' }), ...extra];
  return w;
}

const bgpNet = (over: Record<string, unknown> = {}) => ({
  tenantName: 't1',
  networkName: 'rt',
  encap: 'bgp',
  subnet: '10.80.0.0/24',
  ...over,
});
const bgpObj = (over: Record<string, unknown> = {}) => ({ hostname: 'host1', routerip: '10.213.1.1/24', as: '65001', ...over });

describe('netmaster validation: BGP mode', () => {
  describe('encap bgp', () => {
    it('is accepted without pktTag (netmaster gives it an id)', () => {
      assert.equal(upsert('network', bgpNet(), world()).obj.encap, 'bgp');
    });

    it('refuses a given pktTag, naming pktTag', () => {
      refused(
        () => upsert('network', bgpNet({ pktTag: 5 }), world()),
        'INVALID_ARGUMENT',
        'pktTag',
        /bgp network is routed.*leave pktTag out/,
      );
    });

    it('an update may repeat the stored id, but not change it', () => {
      const w = world({}, [network({ tenantName: 't1', networkName: 'rt', subnet: '10.80.0.0/24', pktTag: 3 })]);
      assert.equal(upsert('network', bgpNet({ pktTag: 3 }), w).obj.pktTag, 3);
      assert.equal(upsert('network', bgpNet(), w).obj.pktTag, 3, 'pktTag 0 keeps the id');
      refused(() => upsert('network', bgpNet({ pktTag: 4 }), w), 'CONFLICT', 'pktTag', /cannot change pktTag/);
    });

    it('netctl-style bad encap names the allowed ones', () => {
      refused(() => upsert('network', bgpNet({ encap: 'ipip' }), world()), 'INVALID_ARGUMENT', 'encap', /'vlan', 'vxlan' or 'bgp'/);
    });
  });

  describe('routed subnets of different tenants', () => {
    it("a bgp network overlapping another tenant's bgp network is refused, naming subnet and the other network", () => {
      refused(
        () => upsert('network', bgpNet({ subnet: '10.70.0.128/25' }), world()),
        'CONFLICT',
        'subnet',
        /10\.70\.0\.128\/25 overlaps subnet 10\.70\.0\.0\/24 of network t2:r1: routed networks of different tenants/,
      );
      refused(() => upsert('network', bgpNet({ subnet: '10.0.0.0/8' }), world()), 'CONFLICT', 'subnet', /network t2:r1/);
    });

    it('adjacent routed subnets are fine', () => {
      upsert('network', bgpNet({ subnet: '10.70.1.0/24' }), world());
    });

    it("a bgp network may overlap another tenant's bridged (VXLAN) network: tenants' overlays stay apart", () => {
      const w = world({}, [network({ tenantName: 't2', networkName: 'ov', encap: 'vxlan', subnet: '10.90.0.0/24', pktTag: 900 })]);
      upsert('network', bgpNet({ subnet: '10.90.0.0/24' }), w);
    });

    it("a VXLAN network may overlap another tenant's routed one", () => {
      upsert('network', { tenantName: 't1', networkName: 'ov', encap: 'vxlan', subnet: '10.70.0.0/24' }, world());
    });

    it('Contiv form: a VLAN network in routing mode with BGP configured is routed, so it may not overlap either', () => {
      const vlan = { tenantName: 't1', networkName: 'v', encap: 'vlan', subnet: '10.70.0.0/24' };
      upsert('network', vlan, world({ fwdMode: 'routing' })); // no BGP settings: routing between networks in OVS, as before
      refused(() => upsert('network', vlan, world({ fwdMode: 'routing', bgpAs: '65000' })), 'CONFLICT', 'subnet', /network t2:r1/);
      const withObject = world({ fwdMode: 'routing' });
      withObject.Bgp = [parseObject('Bgp', bgpObj())];
      refused(() => upsert('network', vlan, withObject), 'CONFLICT', 'subnet', /network t2:r1/);
      upsert('network', vlan, world({ bgpAs: '65000' })); // bridge mode: VLAN stays bridged
    });

    it("the same tenant's overlap keeps its own message", () => {
      refused(
        () => upsert('network', bgpNet({ tenantName: 't2', networkName: 'r2', subnet: '10.70.0.0/25' }), world()),
        'CONFLICT',
        'subnet',
        /overlaps subnet 10\.70\.0\.0\/24 of network t2:r1$/,
      );
    });

    it('the first BGP settings are refused when they would make overlapping routing-mode VLAN networks routed', () => {
      const vlans = [
        network({ tenantName: 't1', networkName: 'va', encap: 'vlan', pktTag: 20, subnet: '10.95.0.0/24' }),
        network({ tenantName: 't2', networkName: 'vb', encap: 'vlan', pktTag: 21, subnet: '10.95.0.0/24' }),
      ];
      const w = world({ fwdMode: 'routing' }, vlans);
      refused(
        () => upsert('global', { ...DEFAULT_GLOBAL, fwdMode: 'routing', bgpAs: '65000' }, w),
        'CONFLICT',
        'bgpAs',
        /the BGP default\) would make network t1:va \(10\.95\.0\.0\/24\) and network t2:vb \(10\.95\.0\.0\/24\) routed/,
      );
      refused(() => upsert('Bgp', bgpObj(), w), 'CONFLICT', 'hostname', /first BGP settings \(Bgp host1\)/);
      // in bridge mode they stay bridged: nothing to refuse
      const bridged = world({}, vlans);
      upsert('global', { ...DEFAULT_GLOBAL, bgpAs: '65000' }, bridged);
      upsert('Bgp', bgpObj(), bridged);
    });
  });

  describe('Bgp objects (Contiv form)', () => {
    const cases: Array<[string, Record<string, unknown>, string, string, RegExp]> = [
      ['AS 0', { as: '0' }, 'INVALID_ARGUMENT', 'as', /AS number \(1-4294967295\)/],
      ['AS above 4 bytes', { as: '4294967296' }, 'INVALID_ARGUMENT', 'as', /AS number/],
      ['AS not a number', { as: '65k' }, 'INVALID_ARGUMENT', 'as', /AS number/],
      ['neighbor-as 0', { neighbor: '10.213.1.254', 'neighbor-as': '0' }, 'INVALID_ARGUMENT', 'neighbor-as', /AS number/],
      ['router IP without length', { routerip: '10.213.1.1' }, 'INVALID_ARGUMENT', 'routerip', /prefix length/],
      ['router IP not an address', { routerip: '10.213.1.300/24' }, 'INVALID_ARGUMENT', 'routerip', /prefix length/],
      ['router IP with leading zeros', { routerip: '010.213.1.1/24' }, 'INVALID_ARGUMENT', 'routerip', /prefix length/],
      ['neighbor a CIDR', { neighbor: '10.213.1.254/24', 'neighbor-as': '65000' }, 'INVALID_ARGUMENT', 'neighbor', /IPv4 address/],
      ['neighbor IPv6', { neighbor: 'fd00::1', 'neighbor-as': '65000' }, 'INVALID_ARGUMENT', 'neighbor', /IPv4 address/],
      ['neighbor without its AS', { neighbor: '10.213.1.254' }, 'INVALID_ARGUMENT', 'neighbor-as', /needs its AS/],
      ['AS without a neighbor', { 'neighbor-as': '65000' }, 'INVALID_ARGUMENT', 'neighbor', /needs a neighbor address/],
      ['neighbors entry without AS', { neighbors: ['10.213.1.253'] }, 'INVALID_ARGUMENT', 'neighbors.0', /'IP:AS'/],
      ['neighbors entry with a bad AS', { neighbors: ['10.213.1.253:0'] }, 'INVALID_ARGUMENT', 'neighbors.0', /'IP:AS'/],
      [
        'neighbors repeating the neighbor',
        { neighbor: '10.213.1.254', 'neighbor-as': '65000', neighbors: ['10.213.1.254:65000'] },
        'INVALID_ARGUMENT',
        'neighbors',
        /10\.213\.1\.254 twice/,
      ],
      ['hold time 0 (never expires)', { holdTime: 0 }, 'INVALID_ARGUMENT', 'holdTime', /between 3 and 65535/],
      [
        'keepalive not below hold time',
        { holdTime: 9, keepaliveTime: 9 },
        'INVALID_ARGUMENT',
        'keepaliveTime',
        /shorter than the hold time 9/,
      ],
    ];
    for (const [name, over, code, field, message] of cases) {
      it(`refuses ${name}, naming ${field}`, () => refused(() => upsert('Bgp', bgpObj(over), world()), code, field, message));
    }

    it("accepts Contiv's object and several neighbors", () => {
      upsert('Bgp', bgpObj({ neighbor: '10.213.1.254', 'neighbor-as': '65000' }), world());
      const b = upsert(
        'Bgp',
        bgpObj({ neighbors: ['10.213.1.254:65000', '10.213.1.253:4200000000'], holdTime: 6, keepaliveTime: 2 }),
        world(),
      );
      assert.deepEqual(b.obj.neighbors, ['10.213.1.254:65000', '10.213.1.253:4200000000']);
    });
  });

  describe('the cluster-wide default (global object)', () => {
    const g = (over: Record<string, unknown>) => ({ ...DEFAULT_GLOBAL, ...over });
    it('accepts AS, neighbors and timers', () => {
      upsert('global', g({ bgpAs: '65000', bgpNeighbors: ['10.213.1.254:65000'], bgpHoldTime: 9, bgpKeepaliveTime: 3 }), world());
    });
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['a bad AS', { bgpAs: '0' }, 'bgpAs', /AS number/],
      ['neighbors without an AS', { bgpNeighbors: ['10.213.1.254:65000'] }, 'bgpNeighbors', /needs bgpAs/],
      ['timers without an AS', { bgpHoldTime: 9 }, 'bgpHoldTime', /needs bgpAs/],
      ['a bad neighbor', { bgpAs: '65000', bgpNeighbors: ['tor:65000'] }, 'bgpNeighbors.0', /'IP:AS'/],
      ['a repeated neighbor', { bgpAs: '65000', bgpNeighbors: ['10.0.0.1:1', '10.0.0.1:2'] }, 'bgpNeighbors', /twice/],
      ['a keepalive longer than the hold time', { bgpAs: '65000', bgpHoldTime: 3, bgpKeepaliveTime: 5 }, 'bgpKeepaliveTime', /shorter/],
    ];
    for (const [name, over, field, message] of cases) {
      it(`refuses ${name}, naming ${field}`, () => refused(() => upsert('global', g(over), world()), 'INVALID_ARGUMENT', field, message));
    }
  });

  describe('lib/bgp/settings', () => {
    it('reads neighbors as IP:AS', () => {
      assert.deepEqual(parseNeighbor('10.0.0.1:65000'), { address: '10.0.0.1', as: 65000 });
      for (const bad of ['10.0.0.1', '10.0.0.1:', ':65000', '10.0.0.256:1', '10.0.0.1:4294967296', '10.0.0.1:0', 'fd00::1:1'])
        assert.equal(parseNeighbor(bad), undefined, bad);
    });
    it('which networks are routed', () => {
      assert.equal(isRoutedNetwork('bgp', 'bridge', false), true);
      assert.equal(isRoutedNetwork('vlan', 'routing', true), true);
      assert.equal(isRoutedNetwork('vlan', 'routing', false), false);
      assert.equal(isRoutedNetwork('vlan', 'bridge', true), false);
      assert.equal(isRoutedNetwork('vxlan', 'routing', true), false);
    });
  });
});
