import { strict as assert } from 'node:assert';
import { connectLoop, parseConnectLoop, type Connector } from '../../../bench/support/connect-loop';
import { isNetloomError } from '../../../lib/errors';

/** A clock that only moves when a fake connection takes its (simulated) time. */
function fakeClock(): { monotonic: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { monotonic: () => t, advance: (ms) => (t += ms) };
}

describe('bench connect loop (connection rate)', () => {
  it('stops at the count, cycles over the targets, counts the answered ones per second', async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const connect: Connector = async (ip, port) => {
      seen.push(`${ip}:${port}`);
      clock.advance(10);
      await Promise.resolve();
    };
    const r = await connectLoop({ targets: ['a', 'b', 'c'], port: 80, count: 7, parallel: 1, maxMs: 1e9 }, connect, clock);
    assert.deepEqual(seen, ['a:80', 'b:80', 'c:80', 'a:80', 'b:80', 'c:80', 'a:80']);
    assert.deepEqual(r, { attempted: 7, ok: 7, failed: 0, ms: 70, perSecond: 100 });
  });

  it('starts no connection after maxMs, and keeps at most `parallel` in flight', async () => {
    const clock = fakeClock();
    let inFlight = 0;
    let most = 0;
    const connect: Connector = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      clock.advance(25);
      inFlight--;
    };
    const r = await connectLoop({ targets: ['x'], port: 1, count: 1000, parallel: 4, maxMs: 100 }, connect, clock);
    assert.ok(r.attempted < 1000 && r.attempted >= 4, `bounded by time: ${r.attempted}`);
    assert.equal(most, 4);
    assert.equal(r.ok, r.attempted);
  });

  it('counts failures apart, keeps the first message, and rejects bad options by name', async () => {
    const clock = fakeClock();
    let n = 0;
    const connect: Connector = async () => {
      clock.advance(1);
      if (n++ % 2 === 1) throw new Error(`refused ${n}`);
    };
    const r = await connectLoop({ targets: ['x'], port: 1, count: 4, parallel: 1, maxMs: 1e9 }, connect, clock);
    assert.equal(r.ok, 2);
    assert.equal(r.failed, 2);
    assert.equal(r.firstError, 'refused 2');
    assert.equal(r.perSecond, 500);
    await assert.rejects(
      connectLoop({ targets: [], port: 1, count: 1, parallel: 1, maxMs: 1 }, connect, clock),
      (e) => isNetloomError(e) && e.field === 'targets',
    );
    await assert.rejects(
      connectLoop({ targets: ['x'], port: 1, count: 0, parallel: 1, maxMs: 1 }, connect, clock),
      (e) => isNetloomError(e) && e.field === 'count',
    );
    await assert.rejects(
      connectLoop({ targets: ['x'], port: 1, count: 1, parallel: 1.5, maxMs: 1 }, connect, clock),
      (e) => isNetloomError(e) && e.field === 'parallel',
    );
  });

  it("parses the client's last line and refuses output without counts", () => {
    const line = JSON.stringify({ attempted: 3, ok: 2, failed: 1, ms: 20, perSecond: 100, firstError: 'x' });
    assert.deepEqual(parseConnectLoop(`noise\n${line}\n`), JSON.parse(line));
    assert.throws(
      () => parseConnectLoop('Error: boom'),
      (e) => isNetloomError(e) && e.field === 'connectLoop' && /no JSON/.test(e.message),
    );
    assert.throws(() => parseConnectLoop(JSON.stringify({ attempted: 3, ok: 2 })), /lacks counts/);
    assert.throws(() => parseConnectLoop(JSON.stringify({ attempted: 3, ok: -1, failed: 0, ms: 1, perSecond: 1 })), /lacks counts/);
  });
});
