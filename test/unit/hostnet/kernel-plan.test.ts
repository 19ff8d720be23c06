import { strict as assert } from 'node:assert';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { parseRoutes, parseRules, planKernel } from '../../../netplugin/hostnet/kernel-plan';
import { ep, input } from './fixture';

const listedRules = JSON.stringify([
  { priority: 0, src: 'all', table: 'local' },
  { priority: 9100, src: 'all', fwmark: '0x10001', fwmask: '0x1ffff', table: '10001' },
  { priority: 9100, src: 'all', fwmark: '0x10007', fwmask: '0x1ffff', table: '10007' },
  { priority: 32766, src: 'all', table: 'main' },
]);
const listedRoutes = JSON.stringify([
  { dst: 'default', dev: 'nlgw1', table: '10001', scope: 'link', flags: [] },
  { dst: 'default', dev: 'nlgw7', table: '10007', scope: 'link', flags: [] },
  { dst: '10.7.0.0/24', dev: 'nlgw7', scope: 'link', flags: [] },
]);

describe('hostnet: ip rules and routes', () => {
  it("parses only netloom's rules (its priority range) and routes (main when no table)", () => {
    assert.deepEqual(parseRules(listedRules), [
      { priority: 9100, fwmark: 0x10001, fwmask: 0x1ffff, table: '10001' },
      { priority: 9100, fwmark: 0x10007, fwmask: 0x1ffff, table: '10007' },
    ]);
    assert.deepEqual(parseRoutes(listedRoutes)[2], { dst: '10.7.0.0/24', dev: 'nlgw7', table: 'main' });
    assert.deepEqual(parseRoutes(''), []);
  });

  it('removes what is stale (a crashed agent left it), adds what is missing, keeps what is right', () => {
    const s = desiredHostNet(
      input({ endpoints: [ep('a1', 'blue:web', 'h1', '10.1.1.10', 1), ep('b1', 'blue:db', 'h1', '10.1.2.10', 2)] }),
      {
        addresses: [],
      },
    );
    const plan = planKernel(s, { rules: parseRules(listedRules), routes: parseRoutes(listedRoutes) }).map(
      ([c, a]) => `${c} ${a.join(' ')}`,
    );
    assert.deepEqual(plan, [
      'ip rule del priority 9100 fwmark 0x00010007/0x0001ffff lookup 10007',
      'ip route del default dev nlgw7 table 10007 proto 77',
      'ip route del 10.7.0.0/24 dev nlgw7 table main proto 77',
      'ip route replace 10.1.1.0/24 dev nlgw1 table main proto 77 scope link',
      'ip route replace 10.1.2.0/24 dev nlgw1 table main proto 77 scope link',
    ]);
    const after = planKernel(s, {
      rules: [{ priority: 9100, fwmark: 0x10001, fwmask: 0x1ffff, table: '10001' }],
      routes: [
        { dst: 'default', dev: 'nlgw1', table: '10001' },
        { dst: '10.1.1.0/24', dev: 'nlgw1', table: 'main' },
        { dst: '10.1.2.0/24', dev: 'nlgw1', table: 'main' },
      ],
    });
    assert.deepEqual(after, [], 'nothing to do when the kernel holds the desired state');
  });

  it('nothing desired: every netloom rule and route goes', () => {
    const plan = planKernel({ gateways: [], portMappings: [] }, { rules: parseRules(listedRules), routes: parseRoutes(listedRoutes) });
    assert.equal(plan.length, 5);
    assert.ok(plan.every(([, a]) => a[1] === 'del'));
  });

  it('a route desired on another device is replaced in place, not deleted first', () => {
    const s = desiredHostNet(input({ endpoints: [ep('a1', 'blue:web', 'h1', '10.1.1.10', 1)] }), { addresses: [] });
    const plan = planKernel(s, {
      rules: [{ priority: 9100, fwmark: 0x10001, fwmask: 0x1ffff, table: '10001' }],
      routes: [
        { dst: 'default', dev: 'nlgw1', table: '10001' },
        { dst: '10.1.1.0/24', dev: 'nlgw9', table: 'main' },
      ],
    }).map(([c, a]) => `${c} ${a.join(' ')}`);
    assert.deepEqual(plan, ['ip route replace 10.1.1.0/24 dev nlgw1 table main proto 77 scope link']);
  });
});
