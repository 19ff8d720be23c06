import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import { hasOverlappingMegaflowBug, PurgeAfterChange, purgeIfAffected } from '../../../netplugin/reconcile/datapath-purge';

describe('datapath purge after flow changes (the overlapping-megaflow bug of Open vSwitch)', () => {
  it('knows which releases have the bug: before 2.17.8, 3.0.5 and 3.1.3, on the netdev datapath only', () => {
    const cases: Array<[string | undefined, string, boolean]> = [
      ['3.1.0', 'netdev', true],
      ['3.1.2', 'netdev', true],
      ['3.1.3', 'netdev', false],
      ['3.1.7', 'netdev', false],
      ['3.0.4', 'netdev', true],
      ['3.0.5', 'netdev', false],
      ['2.17.7', 'netdev', true],
      ['2.17.8', 'netdev', false],
      ['2.13.11', 'netdev', true],
      ['3.2.0', 'netdev', false],
      ['3.3.1', 'netdev', false],
      ['4.0.0', 'netdev', false],
      ['3.1.0', 'system', false],
      [undefined, 'netdev', true],
      ['garbage', 'netdev', true],
      [undefined, 'system', false],
    ];
    for (const [v, dp, want] of cases) assert.equal(hasOverlappingMegaflowBug(v, dp), want, `${v ?? 'unknown'} on ${dp}`);
  });

  it('purges after a change, not after a reconcile that changed nothing', async () => {
    let purges = 0;
    const p = new PurgeAfterChange({ purge: () => Promise.resolve(void purges++) });
    assert.equal(await p.settle(false), false);
    assert.equal(await p.settle(true), true);
    assert.equal(await p.settle(false), false);
    assert.equal(purges, 1);
  });

  it('owes a failed purge until one succeeds, also to a reconcile that changes nothing', async () => {
    let fail = true;
    let purges = 0;
    const p = new PurgeAfterChange({
      purge: () => (fail ? Promise.reject(new NetloomError('UNAVAILABLE', 'no control socket')) : Promise.resolve(void purges++)),
    });
    await assert.rejects(p.settle(true), /no control socket/);
    await assert.rejects(p.settle(false), /no control socket/);
    fail = false;
    assert.equal(await p.settle(false), true);
    assert.equal(await p.settle(false), false);
    assert.deepEqual([purges, p.failures, p.purges], [1, 2, 1]);
  });

  it('asks the running daemon its version and purges only when it is affected', async () => {
    const ctl = (version: string | Error) => {
      const calls: string[] = [];
      return {
        calls,
        call: (command: string) => {
          calls.push(command);
          if (command === 'version') return version instanceof Error ? Promise.reject(version) : Promise.resolve(version);
          return Promise.resolve('');
        },
      };
    };
    const old = ctl('ovs-vswitchd (Open vSwitch) 3.1.0\n');
    const p = await purgeIfAffected(old, 'netdev');
    assert.ok(p);
    await p.settle(true);
    assert.deepEqual(old.calls, ['version', 'revalidator/purge']);

    assert.equal(await purgeIfAffected(ctl('ovs-vswitchd (Open vSwitch) 3.2.1\n'), 'netdev'), undefined);
    const kernel = ctl('ovs-vswitchd (Open vSwitch) 3.1.0\n');
    assert.equal(await purgeIfAffected(kernel, 'system'), undefined);
    assert.deepEqual(kernel.calls, [], 'the kernel datapath is not asked at all');
    assert.ok(await purgeIfAffected(ctl(new Error('connection refused')), 'netdev'), 'an unknown version counts as affected');
    // --datapath-purge: always and never override the version check
    const fixed = ctl('ovs-vswitchd (Open vSwitch) 3.2.1\n');
    assert.ok(await purgeIfAffected(fixed, 'system', undefined, 'always'));
    assert.equal(await purgeIfAffected(old, 'netdev', undefined, 'never'), undefined);
    assert.deepEqual(fixed.calls, [], 'no version asked when told');
  });
});
