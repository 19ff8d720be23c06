import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run, type CommandRunner } from '../../../lib/exec';
import { HostAddressWatch, spawnIpMonitor } from '../../../netplugin/hostnet/address-watch';
import { addNetns, delNetns } from '../../../deploy/lab/netns';

const NS = 'nl-addrwatch';

describe('hostnet: the host address watch on a real kernel', function () {
  this.timeout(30_000);
  let watch: HostAddressWatch | undefined;

  before(async () => {
    await delNetns(NS);
    await addNetns(NS);
    await run('ip', ['link', 'add', 'aw0', 'type', 'veth', 'peer', 'name', 'aw1'], { netns: NS });
    await run('ip', ['link', 'set', 'aw0', 'up'], { netns: NS });
  });
  after(async () => {
    watch?.stop();
    await delNetns(NS);
  });

  it('sees an address added and removed by someone else, with one kernel read per change', async () => {
    let changes = 0;
    const runner: CommandRunner = (cmd, args, opts) => run(cmd, args, { ...opts, netns: NS });
    const w = new HostAddressWatch({ runner, onChange: () => changes++, spawnMonitor: () => spawnIpMonitor(NS) });
    watch = w;
    w.start();
    // until the monitor listens every read goes to the kernel; once it does, reads stop
    await waitFor('the copy trusted', async () => {
      await w.addresses();
      const before = w.reads;
      await w.addresses();
      return w.reads === before;
    });
    assert.deepEqual(await w.addresses(), []);
    await run('ip', ['addr', 'add', '10.77.0.5/24', 'dev', 'aw0'], { netns: NS });
    await waitFor('the change reported', () => changes > 0, { intervalMs: 20 });
    assert.deepEqual(await w.addresses(), ['10.77.0.5/24']);
    const reads = w.reads;
    assert.deepEqual(await w.addresses(), ['10.77.0.5/24']);
    assert.equal(w.reads, reads, 'no read without a change');
    const seen = changes;
    await run('ip', ['addr', 'del', '10.77.0.5/24', 'dev', 'aw0'], { netns: NS });
    await waitFor('the removal reported', () => changes > seen, { intervalMs: 20 });
    assert.deepEqual(await w.addresses(), []);
  });
});
