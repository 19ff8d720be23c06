/**
 * Result formatting per requested cniVersion, reading prevResults of older versions, merging with a
 * chain's prevResult, and the mapping of errors to CNI codes (netplugin/cni/version.ts, errors.ts).
 */
import { strict as assert } from 'node:assert';
import { NetloomError, type ErrorCode } from '../../../lib/errors';
import { CniError, httpStatusFor, toCniError } from '../../../netplugin/cni/errors';
import { compareVersions, formatResult, mergeWithPrevResult, parseResult, versionResult } from '../../../netplugin/cni/version';
import type { CniResult } from '../../../netplugin/cni/types';

const R: CniResult = {
  interfaces: [
    { name: 'nlvhost', mac: '02:00:00:00:00:01', mtu: 1450 },
    { name: 'eth0', mac: '02:00:00:00:00:02', mtu: 1450, sandbox: '/run/netns/c1', socketPath: '/s', pciID: '0000:00:01.0' },
  ],
  ips: [
    { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 },
    { address: 'fd00::5/64', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1450, advmss: 1400, priority: 10, table: 100, scope: 0 }],
  dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
};

describe('cni result versions', () => {
  it('1.1.0 keeps every field', () => {
    assert.deepEqual(formatResult(R, '1.1.0'), { cniVersion: '1.1.0', ...R });
  });

  const table: Array<[string, Record<string, unknown>]> = [
    [
      '1.0.0',
      {
        cniVersion: '1.0.0',
        interfaces: [
          { name: 'nlvhost', mac: '02:00:00:00:00:01' },
          { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/c1' },
        ],
        ips: [
          { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 },
          { address: 'fd00::5/64', interface: 1 },
        ],
        routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
        dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
      },
    ],
    ...['0.4.0', '0.3.1', '0.3.0'].map((v): [string, Record<string, unknown>] => [
      v,
      {
        cniVersion: v,
        interfaces: [
          { name: 'nlvhost', mac: '02:00:00:00:00:01' },
          { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/c1' },
        ],
        ips: [
          { version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 },
          { version: '6', address: 'fd00::5/64', interface: 1 },
        ],
        routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
        dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
      },
    ]),
  ];
  for (const [v, want] of table) it(`converts to ${v}`, () => assert.deepEqual(formatResult(R, v), want));

  for (const v of ['0.2.0', '0.1.0'])
    it(`converts to ${v} (Mesos' shape): the first address of each family with its routes, no interfaces`, () => {
      const two: CniResult = {
        ...R,
        ips: [...R.ips, { address: '10.1.0.6/24', interface: 1 }],
        routes: [...R.routes, { dst: 'fd01::/64', gw: 'fd00::1' }],
      };
      assert.deepEqual(formatResult(two, v), {
        cniVersion: v,
        ip4: { ip: '10.1.0.5/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
        ip6: { ip: 'fd00::5/64', routes: [{ dst: 'fd01::/64', gw: 'fd00::1' }] },
        dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
      });
      assert.deepEqual(formatResult({ ...R, ips: [R.ips[0]!], routes: [] }, v), {
        cniVersion: v,
        ip4: { ip: '10.1.0.5/24', gateway: '10.1.0.1' },
        dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
      });
    });

  it('a result without addresses cannot be said in 0.2.0 (an error, as libcni converts it)', () => {
    assert.throws(
      () => formatResult({ ...R, ips: [] }, '0.2.0'),
      (e: unknown) => e instanceof CniError && e.code === 999 && /needs an IP address/.test(e.message),
    );
  });

  it('refuses an unsupported version with code 1', () => {
    assert.throws(
      () => formatResult(R, '0.0.9'),
      (e: unknown) => e instanceof CniError && e.code === 1,
    );
  });

  it('omits routes when there are none and always has dns', () => {
    assert.deepEqual(formatResult({ interfaces: [], ips: [], routes: [], dns: {} }, '1.1.0'), {
      cniVersion: '1.1.0',
      interfaces: [],
      ips: [],
      dns: {},
    });
  });

  it('reads a 0.4.0 prevResult into the 1.1.0 shape (round trip)', () => {
    const old = formatResult(R, '0.4.0');
    const back = parseResult(old);
    assert.deepEqual(back.ips, [
      { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 },
      { address: 'fd00::5/64', interface: 1 },
    ]);
    assert.deepEqual(back.interfaces[1], { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/c1' });
    assert.deepEqual(parseResult(formatResult(R, '1.1.0')), R);
  });

  it('merges with a chain prevResult, shifting interface indexes', () => {
    const prev: CniResult = {
      interfaces: [{ name: 'lo' }],
      ips: [{ address: '127.0.0.2/8', interface: 0 }],
      routes: [],
      dns: { domain: 'x' },
    };
    const m = mergeWithPrevResult(prev, { ...R, dns: {} });
    assert.equal(m.interfaces.length, 3);
    assert.deepEqual(
      m.ips.map((i) => i.interface),
      [0, 2, 2],
    );
    assert.deepEqual(m.dns, { domain: 'x' });
    assert.deepEqual(mergeWithPrevResult(undefined, R), R);
  });

  it('VERSION echoes the input version and lists the supported ones', () => {
    assert.deepEqual(versionResult('1.0.0'), {
      cniVersion: '1.0.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    assert.equal(versionResult(undefined).cniVersion, '1.1.0');
    assert.equal(versionResult('bogus').cniVersion, '1.1.0');
  });

  it('compares versions numerically', () => {
    assert.equal(compareVersions('0.10.0', '0.4.0'), 1);
    assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
    assert.equal(compareVersions('0.3.1', '0.4.0'), -1);
  });
});

describe('cni error mapping', () => {
  const table: Array<[ErrorCode, number, number]> = [
    ['INVALID_ARGUMENT', 7, 400],
    ['DECODE_ERROR', 6, 400],
    ['NOT_FOUND', 3, 404],
    ['ALREADY_EXISTS', 100, 409],
    ['CONFLICT', 100, 409],
    ['IN_USE', 100, 409],
    ['EXHAUSTED', 101, 500],
    ['UNAVAILABLE', 11, 503],
    ['TIMEOUT', 11, 503],
    ['COMMAND_FAILED', 999, 500],
    ['INTERNAL', 999, 500],
  ];
  for (const [code, cni, http] of table) {
    it(`${code} -> CNI ${cni}, HTTP ${http}`, () => {
      const e = toCniError(new NetloomError(code, 'boom', { field: 'ips' }));
      assert.equal(e.code, cni);
      assert.equal(e.message, 'boom');
      assert.equal(e.details, 'field: ips');
      assert.equal(httpStatusFor(e.code), http);
    });
  }
  it('anything else is 999 with the message in details', () => {
    const e = toCniError(new TypeError('x is undefined'));
    assert.equal(e.code, 999);
    assert.match(e.details, /x is undefined/);
  });
  it('formats the CNI error result', () => {
    assert.deepEqual(new CniError(11, 'later', 'agent busy').toResult('1.0.0'), {
      cniVersion: '1.0.0',
      code: 11,
      msg: 'later',
      details: 'agent busy',
    });
  });
});
