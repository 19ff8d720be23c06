import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIXCTL_IDLE_CLOSE_MS, UnixctlClient } from '../../../ovs/unixctl';
import { JsonRpcConnection } from '../../../ovs/ovsdb/rpc';
import { FakeClock, flushAsync } from '../../support/fake-clock';

/** A control socket stand-in: JSON-RPC over a unix socket that answers `echo` (JsonRpcConnection does). */
describe('ovs-vswitchd control socket client', () => {
  let dir: string;
  let server: Server;
  let accepted: Socket[];
  const path = () => join(dir, 'ovs-vswitchd.1.ctl');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl-unixctl-'));
    accepted = [];
    server = createServer((sock) => {
      accepted.push(sock);
      new JsonRpcConnection(sock);
    });
    await new Promise<void>((resolve) => server.listen(path(), resolve));
  });

  afterEach(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const closedByPeer = (s: Socket): Promise<void> =>
    s.closed || s.readableEnded ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));

  it('keeps one connection for a burst of calls and closes it once idle (the daemon polls every open one per main-loop pass)', async () => {
    const clock = new FakeClock();
    const ctl = new UnixctlClient(path(), { clock });
    assert.equal(await ctl.call('echo', ['a']), '["a"]');
    clock.advance(UNIXCTL_IDLE_CLOSE_MS - 1);
    assert.equal(await ctl.call('echo', ['b']), '["b"]');
    assert.equal(accepted.length, 1, 'the second call within the idle time reuses the connection');
    clock.advance(UNIXCTL_IDLE_CLOSE_MS - 1);
    await flushAsync();
    assert.ok(ctl.connected, 'open until idle for the whole time since the last answer');
    clock.advance(1);
    assert.ok(!ctl.connected);
    await closedByPeer(accepted[0] as Socket);
    // the next call opens a new connection
    assert.equal(await ctl.call('echo', ['c']), '["c"]');
    assert.equal(accepted.length, 2);
    await ctl.close();
    assert.equal(clock.pending, 0, 'close cancels the idle timer');
  });

  it('does not close while a call waits for its answer', async () => {
    const clock = new FakeClock();
    const ctl = new UnixctlClient(path(), { clock, idleCloseMs: 10 });
    await ctl.call('echo', ['a']);
    // a call started just before the idle time ran out cancels the close
    const second = ctl.call('echo', ['b']);
    clock.advance(10);
    assert.ok(ctl.connected);
    assert.equal(await second, '["b"]');
    assert.equal(accepted.length, 1);
    await ctl.close();
  });
});
