/**
 * Model parsing of Contiv's exact request bodies (as its netctl sends them, from the reference),
 * key building, links on output, and the address helpers the checks rely on.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { keyOf, linksOf, parseObject, COLLECTIONS } from '../../../netmaster/model/keys';
import {
  freeRuns,
  parseBandwidth,
  parseV4Subnet,
  rangesText,
  toRuns,
  v6AtOffset,
  parseV6Cidr,
  formatV4,
  parseTagRanges,
  parseV4Cidr,
  isV4AddressOrCidr,
} from '../../../netmaster/model/net';
import { OBJECT_TYPES } from '../../../netmaster/model/schemas';
import { bandwidthKbps } from '../../../netmaster/agent/host-view';
import { formatPrefix, setPrefixes } from '../../../lib/policy/ranges';

describe('netmaster model: Contiv request bodies', () => {
  it('tenant with link-sets placeholder', () => {
    const t = parseObject('tenant', { tenantName: 't1', 'link-sets': {} });
    assert.deepEqual(t, { tenantName: 't1', defaultNetwork: '' });
    assert.equal(keyOf('tenant', t), 't1');
  });

  it('network as netctl sends it (zero and empty fields omitted)', () => {
    const n = parseObject('network', {
      encap: 'vxlan',
      gateway: '10.2.1.1',
      networkName: 'n',
      nwType: 'data',
      pktTag: 100,
      subnet: '10.2.1.0/24',
      tenantName: 't1',
      'link-sets': {},
      links: { Tenant: {} },
    });
    assert.deepEqual(n, {
      tenantName: 't1',
      networkName: 'n',
      nwType: 'data',
      encap: 'vxlan',
      pktTag: 100,
      subnet: '10.2.1.0/24',
      gateway: '10.2.1.1',
      ipv6Subnet: '',
      ipv6Gateway: '',
      cfgdTag: '',
      nat: true,
    });
    assert.equal(keyOf('network', n), 't1:n');
  });

  it('network nat: on by default, off when sent false, anything else refused naming the field', () => {
    const base = { tenantName: 't1', networkName: 'n', subnet: '10.0.0.0/24' };
    assert.equal(parseObject('network', base).nat, true);
    assert.equal(parseObject('network', { ...base, nat: false }).nat, false);
    assert.throws(
      () => parseObject('network', { ...base, nat: 'no' }),
      (e: unknown) => e instanceof NetloomError && e.field === 'nat',
    );
  });

  it('network defaults: data, vxlan, tag 0 (allocate)', () => {
    const n = parseObject('network', { tenantName: 't1', networkName: 'n', subnet: '10.0.0.0/24' });
    assert.equal(n.nwType, 'data');
    assert.equal(n.encap, 'vxlan');
    assert.equal(n.pktTag, 0);
  });

  it('endpoint group with policies, profile, pool and links', () => {
    const g = parseObject('endpointGroup', {
      groupName: 'web',
      networkName: 'n',
      tenantName: 't1',
      policies: ['p1', 'p2'],
      netProfile: 'prof',
      ipPool: '10.2.1.10-10.2.1.20',
      links: { AppProfile: {}, NetProfile: {}, Network: {}, Tenant: {} },
    });
    assert.equal(keyOf('endpointGroup', g), 't1:web');
    assert.deepEqual(g.policies, ['p1', 'p2']);
    assert.deepEqual(linksOf('endpointGroup', g), {
      AppProfile: {},
      NetProfile: { type: 'netprofile', key: 't1:prof' },
      Network: { type: 'network', key: 't1:n' },
      Tenant: { type: 'tenant', key: 't1' },
    });
  });

  it('rule with its links placeholder and defaults', () => {
    const r = parseObject('rule', {
      ruleId: '1',
      policyName: 'p1',
      tenantName: 't1',
      direction: 'in',
      priority: 10,
      action: 'deny',
      protocol: 'tcp',
      port: 8080,
      fromEndpointGroup: 'web',
      links: { MatchEndpointGroup: {} },
    });
    assert.equal(keyOf('rule', r), 't1:p1:1');
    assert.equal(r.toIpAddress, '');
    assert.deepEqual(linksOf('rule', r), { MatchEndpointGroup: { type: 'endpointGroup', key: 't1:web' } });
    const d = parseObject('rule', { ruleId: '2', policyName: 'p1', tenantName: 't1', direction: 'out' });
    assert.equal(d.priority, 1);
    assert.equal(d.action, 'allow');
  });

  it('Bgp with neighbor-as', () => {
    const b = parseObject('Bgp', { hostname: 'host1', routerip: '50.1.1.1/24', as: '65002', neighbor: '50.1.1.2', 'neighbor-as': '500' });
    assert.equal(keyOf('Bgp', b), 'host1');
    assert.equal(b['neighbor-as'], '500');
  });

  it('global defaults are Contiv defaults', () => {
    const g = parseObject('global', {});
    assert.deepEqual(g, {
      name: 'global',
      networkInfraType: 'default',
      vlans: '1-4094',
      vxlans: '1-10000',
      fwdMode: 'bridge',
      arpMode: 'proxy',
      pvtSubnet: '172.19.0.0/16',
    });
    assert.equal(keyOf('global', g), 'global');
  });

  it('netprofile, app profile, service, contracts, aciGw keys', () => {
    assert.equal(
      keyOf('netprofile', parseObject('netprofile', { tenantName: 't', profileName: 'p', bandwidth: '10mbps', DSCP: 10, burst: 5 })),
      't:p',
    );
    assert.equal(keyOf('appProfile', parseObject('appProfile', { tenantName: 't', appProfileName: 'a', endpointGroups: ['g'] })), 't:a');
    assert.equal(
      keyOf('serviceLB', parseObject('serviceLB', { tenantName: 't', serviceName: 's', ports: ['80:8080:TCP'], selectors: ['app=web'] })),
      't:s',
    );
    assert.equal(
      keyOf(
        'extContractsGroup',
        parseObject('extContractsGroup', {
          tenantName: 't',
          contractsGroupName: 'c',
          contractsType: 'consumed',
          contracts: ['uni/tn-common/brc-default'],
        }),
      ),
      't:c',
    );
    assert.equal(keyOf('aciGw', parseObject('aciGw', { enforcePolicies: 'yes' })), 'aciGw');
  });

  it('null fields (as Go clients send empty slices) take their defaults', () => {
    const g = parseObject('endpointGroup', {
      tenantName: 't1',
      groupName: 'g',
      networkName: 'n',
      policies: null,
      extContractsGrps: null,
      netProfile: null,
    });
    assert.deepEqual(g.policies, []);
    assert.equal(g.netProfile, '');
  });

  it('unknown fields are dropped, a non-object body is refused', () => {
    const t = parseObject('tenant', { tenantName: 't1', color: 'blue' });
    assert.equal((t as Record<string, unknown>).color, undefined);
    assert.throws(() => parseObject('tenant', [1, 2]), /JSON object/);
  });

  it('every object type has a REST collection', () => {
    for (const t of OBJECT_TYPES) assert.ok(Object.values(COLLECTIONS).includes(t), t);
    assert.equal(COLLECTIONS.policys, 'policy');
    assert.equal(COLLECTIONS.Bgps, 'Bgp');
  });
});

describe('netmaster model: address helpers', () => {
  it('parses subnets in all of Contiv forms', () => {
    const c = parseV4Subnet('10.1.1.0/24');
    assert.deepEqual(c && [formatV4(c.first), formatV4(c.last), c.prefix], ['10.1.1.1', '10.1.1.254', 24]);
    const r = parseV4Subnet('10.1.1.10-10.1.1.20/24');
    assert.deepEqual(r && [formatV4(r.first), formatV4(r.last), r.prefix], ['10.1.1.10', '10.1.1.20', 24]);
    const s = parseV4Subnet('10.1.1.10-20');
    assert.deepEqual(s && [formatV4(s.first), formatV4(s.last)], ['10.1.1.10', '10.1.1.20']);
    assert.equal(parseV4Subnet('10.1.1.0'), undefined);
    assert.equal(parseV4Subnet('10.1.1.300/24'), undefined);
  });

  it('range text for inspect', () => {
    assert.equal(rangesText(toRuns([1, 2, 3, 5])), '0.0.0.1-0.0.0.3, 0.0.0.5');
    assert.deepEqual(freeRuns(1, 10, [1, 4, 5, 10]), [
      [2, 3],
      [6, 9],
    ]);
  });

  it('bandwidth units', () => {
    assert.equal(parseBandwidth('10mbps'), 10e6);
    assert.equal(parseBandwidth('1gbps'), 1e9);
    assert.equal(parseBandwidth('500kbps'), 500e3);
    assert.equal(parseBandwidth('10mb'), undefined);
    assert.equal(parseBandwidth('0mbps'), undefined);
  });

  it("every rule address validation accepts means the same prefix to the agent's policy compiler", () => {
    for (const ip of ['10.1.1.1', '10.1.0.0/16', '10.1.1.5/24', '0.0.0.0/0', '255.255.255.255', '192.168.0.10/32']) {
      assert.ok(isV4AddressOrCidr(ip), ip);
      const cidr = ip.includes('/') ? ip : `${ip}/32`;
      const c = parseV4Cidr(cidr);
      assert.ok(c, ip);
      assert.deepEqual(setPrefixes({ include: [cidr], exclude: [] }).map(formatPrefix), [`${formatV4(c.base)}/${c.prefix}`], ip);
    }
    // where the two parsers would disagree (ipaddr.js reads 010 as octal 8), validation refuses
    for (const ip of ['010.1.1.1', '10.1.1.010', '10.1.1.0/08']) assert.equal(isV4AddressOrCidr(ip), false, ip);
  });

  it('every bandwidth validation accepts reaches the agent as the same kbit/s', () => {
    // host-view's conversion is more lenient than the check; on what the check lets in they agree
    for (const text of ['1kbps', '500kbps', '10mbps', '10 Mbps', '1gbps', '4294gbps', '2000bps']) {
      assert.equal(bandwidthKbps(text) * 1000, parseBandwidth(text), text);
    }
  });

  it('tag ranges', () => {
    assert.deepEqual(parseTagRanges('1-4094', 4094), [[1, 4094]]);
    assert.deepEqual(parseTagRanges('5,10-20', 4094), [
      [5, 5],
      [10, 20],
    ]);
    assert.equal(parseTagRanges('0-10', 4094), undefined);
  });

  it('dual-stack address at the IPv4 host offset', () => {
    const s6 = parseV6Cidr('2001:db8:1::/64');
    assert.ok(s6);
    assert.equal(v6AtOffset(s6, 258), '2001:db8:1::102');
  });
});
