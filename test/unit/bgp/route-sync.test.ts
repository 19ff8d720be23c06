import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type { GobgpClient, PeerStatus } from '../../../netplugin/bgp/gobgp-client';
import { RouteSync } from '../../../netplugin/bgp/route-sync';
import type { GobgpSupervisor } from '../../../netplugin/bgp/supervisor';
import type { CommandRunner } from '../../../lib/exec';
import { FakeClock, flushAsync } from '../../support/fake-clock';

/** A gobgpd whose only peer came up at `uptimeSince` (GoBGP: whole seconds) and whose RIB is empty. */
function fakes(uptimeSince: number): { supervisor: GobgpSupervisor; runner: CommandRunner; batches: string[] } {
  const peer = { address: '10.0.0.254', state: 'ESTABLISHED', uptimeSince } as PeerStatus;
  const client = {
    watch: () => ({ cancel: () => undefined }),
    listPeers: () => Promise.resolve([peer]),
    listPaths: () => Promise.resolve([]),
  } as unknown as GobgpClient;
  const supervisor = Object.assign(new EventEmitter(), { client }) as unknown as GobgpSupervisor;
  const batches: string[] = [];
  // the kernel holds one route an earlier agent learned: deleted only once the RIB converged
  const table = JSON.stringify([{ dst: '10.9.0.0/24', gateway: '10.0.0.254', protocol: '80', flags: [] }]);
  const runner: CommandRunner = (_cmd, args, opts) => {
    if (args.includes('-batch')) batches.push(String(opts?.input ?? ''));
    return Promise.resolve({ code: 0, stdout: args.includes('show') ? table : '', stderr: '' });
  };
  return { supervisor, runner, batches };
}

describe('bgp: route sync convergence after a gobgpd start', () => {
  it('a session GoBGP reports up since 1.4 s (whole seconds) is not settled at 1 s: it may be 0.4 s old, and its routes may not have come', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 1, 400));
    // came up somewhere in [00:00:00, 00:00:01): GoBGP says 00:00:00
    const { supervisor, runner, batches } = fakes(Date.UTC(2026, 0, 1));
    const sync = new RouteSync({ supervisor, runner, clock, settleMs: 1000, graceMs: 30_000 });
    sync.start();
    await sync.sync();
    assert.equal(sync.isConverged, false);
    assert.deepEqual(batches, [], 'nothing deleted before the RIB settled');
    // a full second after the latest moment it can have come up: settled, the stale route goes
    clock.advance(700);
    await flushAsync();
    await sync.sync();
    assert.equal(sync.isConverged, true);
    assert.match(batches.join(''), /route del 10\.9\.0\.0\/24/);
    await sync.stop();
  });
});
