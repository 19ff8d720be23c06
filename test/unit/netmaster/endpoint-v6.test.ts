/**
 * An endpoint's IPv6 address in a dual-stack network: at its IPv4 host offset, except the endpoint
 * whose offset is the IPv6 gateway's (Contiv's `-g 10.9.0.254 -g6 2001:db8:9::1`, refused before
 * as a bug of issue 18), which takes the IPv4 gateway's offset (or the broadcast's), never given out.
 */
import assert from 'node:assert/strict';
import { endpointV6Address } from '../../../netmaster/model/endpoint-v6';
import { parseV4 } from '../../../netmaster/model/net';

const ip = (s: string): number => parseV4(s) ?? assert.fail(s);

describe('netmaster: an endpoint IPv6 address beside the IPv6 gateway', () => {
  const nw = { subnet: '10.9.0.0/24', gateway: '10.9.0.254', ipv6Subnet: '2001:db8:9::/64', ipv6Gateway: '2001:db8:9::1' };

  it('is at the IPv4 host offset for every endpoint but the one at the IPv6 gateway offset', () => {
    assert.equal(endpointV6Address(nw, ip('10.9.0.2')), '2001:db8:9::2');
    assert.equal(endpointV6Address(nw, ip('10.9.0.200')), '2001:db8:9::c8');
  });

  it('moves the endpoint at the IPv6 gateway offset to the IPv4 gateway offset (no endpoint has it)', () => {
    assert.equal(endpointV6Address(nw, ip('10.9.0.1')), '2001:db8:9::fe');
  });

  it('uses the IPv4 broadcast offset when the network has no IPv4 gateway', () => {
    assert.equal(endpointV6Address({ ...nw, gateway: '' }, ip('10.9.0.1')), '2001:db8:9::ff');
  });

  it('gives every endpoint of the subnet a different address, none the gateway', () => {
    for (const gw of ['10.9.0.254', '10.9.0.1', '']) {
      const seen = new Set<string>();
      for (let h = 1; h <= 254; h++) {
        if (`10.9.0.${h}` === gw) continue;
        const a = endpointV6Address({ ...nw, gateway: gw }, ip(`10.9.0.${h}`));
        assert.notEqual(a, nw.ipv6Gateway, `10.9.0.${h} with gateway '${gw}'`);
        assert.ok(!seen.has(a), `${a} twice`);
        seen.add(a);
      }
    }
  });

  it('is empty without an ipv6Subnet', () => {
    assert.equal(endpointV6Address({ ...nw, ipv6Subnet: '', ipv6Gateway: '' }, ip('10.9.0.2')), '');
  });
});
