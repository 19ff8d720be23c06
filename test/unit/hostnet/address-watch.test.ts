import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { CommandRunner } from '../../../lib/exec';
import { HostAddressWatch, type MonitorProcess } from '../../../netplugin/hostnet/address-watch';
import { FakeClock, flushAsync } from '../../support/fake-clock';

/** A stand-in for `ip -4 -o monitor address`: the test writes its lines and ends it. */
class FakeMonitor extends EventEmitter implements MonitorProcess {
  readonly stdout = new PassThrough();
  killed = false;
  kill(): boolean {
    this.killed = true;
    return true;
  }
  line(text = '3: eth1    inet 10.0.0.9/24 scope global eth1'): void {
    this.stdout.write(`${text}\n`);
  }
  exit(): void {
    this.emit('exit');
  }
}

function setup(): {
  watch: HostAddressWatch;
  monitors: FakeMonitor[];
  kernel: { addresses: string[]; reads: number; gate?: Promise<void> };
  changes: () => number;
  clock: FakeClock;
} {
  const kernel: { addresses: string[]; reads: number; gate?: Promise<void> } = { addresses: ['10.0.0.1/24'], reads: 0 };
  const runner: CommandRunner = async (cmd, args) => {
    assert.equal(`${cmd} ${args.join(' ')}`, 'ip -j -4 addr show');
    kernel.reads++;
    const answer = JSON.stringify([
      {
        ifname: 'eth0',
        addr_info: kernel.addresses.map((a) => ({ family: 'inet', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) })),
      },
    ]);
    if (kernel.gate) await kernel.gate;
    return { code: 0, stdout: answer, stderr: '' };
  };
  const monitors: FakeMonitor[] = [];
  let changes = 0;
  const clock = new FakeClock();
  const watch = new HostAddressWatch({
    runner,
    onChange: () => changes++,
    clock,
    spawnMonitor: () => {
      const m = new FakeMonitor();
      monitors.push(m);
      return m;
    },
  });
  return { watch, monitors, kernel, changes: () => changes, clock };
}

describe('hostnet: the host address watch', () => {
  it('reads the kernel once while the monitor reports nothing, and again after it reports a change', async () => {
    const { watch, monitors, kernel, changes } = setup();
    watch.start();
    monitors[0]?.emit('spawn');
    assert.deepEqual(await watch.addresses(), ['10.0.0.1/24']);
    assert.deepEqual(await watch.addresses(), ['10.0.0.1/24']);
    assert.equal(kernel.reads, 1);
    kernel.addresses = ['10.0.0.1/24', '10.0.0.9/24'];
    monitors[0]?.line();
    await flushAsync();
    assert.equal(changes(), 1, 'a change asks for a reconcile');
    assert.deepEqual(await watch.addresses(), ['10.0.0.1/24', '10.0.0.9/24']);
    assert.equal(kernel.reads, 2);
    watch.stop();
    assert.equal(monitors[0]?.killed, true);
  });

  it('never trusts its copy before the monitor runs', async () => {
    const { watch, kernel } = setup();
    await watch.addresses();
    await watch.addresses();
    assert.equal(kernel.reads, 2, 'not started: every read goes to the kernel');
    watch.start();
    await watch.addresses();
    assert.equal(kernel.reads, 3, 'started but not spawned yet: still read');
  });

  it('reads again after a change reported while a read was under way', async () => {
    const { watch, monitors, kernel } = setup();
    watch.start();
    monitors[0]?.emit('spawn');
    let open: () => void = () => undefined;
    kernel.gate = new Promise((r) => (open = r));
    const first = watch.addresses();
    await flushAsync();
    monitors[0]?.line();
    await flushAsync();
    open();
    await first;
    kernel.gate = undefined;
    await watch.addresses();
    assert.equal(kernel.reads, 2, 'the copy read across the change is not trusted');
    await watch.addresses();
    assert.equal(kernel.reads, 2);
  });

  it('reads at every call while the monitor is gone, and restarts it with the backoff', async () => {
    const { watch, monitors, kernel, changes, clock } = setup();
    watch.start();
    monitors[0]?.emit('spawn');
    await watch.addresses();
    monitors[0]?.exit();
    assert.equal(changes(), 1, 'losing the monitor asks for a reconcile');
    await watch.addresses();
    await watch.addresses();
    assert.equal(kernel.reads, 3);
    assert.equal(monitors.length, 1);
    clock.advance(clock.nextDueIn ?? 0);
    assert.equal(monitors.length, 2, 'restarted after the backoff');
    monitors[1]?.emit('spawn');
    await watch.addresses();
    await watch.addresses();
    assert.equal(kernel.reads, 4, 'trusted again once the new monitor runs');
    // the old monitor's late lines change nothing
    monitors[0]?.line();
    await flushAsync();
    assert.equal(changes(), 1);
    watch.stop();
    monitors[1]?.exit();
    assert.equal(clock.pending, 0, 'no restart after stop');
  });
});
