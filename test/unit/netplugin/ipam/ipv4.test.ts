import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import { formatIpv4, parseIpv4, parseIpv4Cidr } from '../../../../netplugin/ipam/ipv4';

describe('ipam ipv4', () => {
  it('round-trips addresses, the high half included (no sign bit)', () => {
    for (const a of ['0.0.0.0', '10.1.2.3', '128.0.0.1', '255.255.255.255']) assert.equal(formatIpv4(parseIpv4(a, 'f')), a);
    assert.equal(parseIpv4('192.168.0.1', 'f'), 0xc0a80001);
  });

  it('refuses bad text with INVALID_ARGUMENT naming the field', () => {
    for (const bad of ['', '10.1.2', '10.1.2.256', '10.01.2.3', '10.1.2.3/24', ' 10.1.2.3', 'a.b.c.d']) {
      assert.throws(
        () => parseIpv4(bad, 'address'),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'address',
        bad,
      );
    }
  });

  it('parses aligned CIDRs and refuses host bits, bad prefixes and extra parts', () => {
    assert.deepEqual(parseIpv4Cidr('10.1.0.64/26', 'c'), { base: parseIpv4('10.1.0.64', 'c'), prefixLength: 26, size: 64 });
    assert.deepEqual(parseIpv4Cidr('10.1.0.7/32', 'c').size, 1);
    for (const bad of ['10.1.0.65/26', '10.1.0.0/33', '10.1.0.0', '10.1.0.0/', '10.1.0.0/2/3', '10.1.0.0/-1']) {
      assert.throws(
        () => parseIpv4Cidr(bad, 'cidr'),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'cidr',
        bad,
      );
    }
  });
});
