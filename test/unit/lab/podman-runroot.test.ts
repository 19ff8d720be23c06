import { strict as assert } from 'node:assert';
import { podmanBaseArgs, podmanRunroot, PODMAN_RUNROOT_MAX } from '../../../deploy/lab/engines';
import { DEFAULT_LAB, MAX_HOSTS, planLab } from '../../../deploy/lab/plan';

describe('lab podman runroot', () => {
  it('stays within podman 4.3 limit of 50 characters for the default lab (51 under the lab dir) and the longest names', () => {
    for (const name of [DEFAULT_LAB, 'abcdef']) {
      const plan = planLab({ name, hosts: MAX_HOSTS, etcdMembers: 1 }, '/run/netloom-lab');
      for (const h of plan.hosts) {
        const args = podmanBaseArgs(plan, h.name);
        const runroot = args[args.indexOf('--runroot') + 1] ?? '';
        assert.ok(runroot.length <= PODMAN_RUNROOT_MAX, `${runroot} is ${runroot.length} characters`);
        assert.equal(runroot, podmanRunroot(plan, h.name));
      }
    }
  });

  it('differs per host and per lab directory, and is stable', () => {
    const a = planLab({ name: DEFAULT_LAB, hosts: 2, etcdMembers: 1 }, '/run/netloom-lab');
    const b = planLab({ name: 'tdkr', hosts: 2, etcdMembers: 1 }, '/run/netloom-lab');
    const all = [podmanRunroot(a, 'host1'), podmanRunroot(a, 'host2'), podmanRunroot(b, 'host1'), podmanRunroot(b, 'host2')];
    assert.equal(new Set(all).size, 4);
    assert.equal(
      podmanRunroot(a, 'host1'),
      podmanRunroot(planLab({ name: DEFAULT_LAB, hosts: 1, etcdMembers: 1 }, '/run/netloom-lab'), 'host1'),
    );
  });
});
