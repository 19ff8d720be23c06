import assert from 'node:assert/strict';
import { OfConnectionCore, ConnectionOptions } from '../../../../ovs/openflow/connection-core';
import { FakeClock } from '../../../support/fake-clock';
import { OfSwitchError } from '../../../../ovs/openflow/connection-errors';
import { OfBundleError } from '../../../../ovs/openflow/connection-bundle';
import {
  BUNDLE_CTRL,
  OFPT,
  ONFT_BUNDLE_ADD_MESSAGE,
  bundleControlFrame,
  errorFrame,
  helloFrame,
  ofFrame,
  readBundleControl,
  readErrorFrame,
  readOfHeader,
} from '../../../../ovs/openflow/connection-wire';
import { isNetloomError } from '../../../../lib/errors';
import { FakeSwitch, FakeTransport, settle } from './connection-fakes';

const sync = { schedule: (fn: () => void) => fn() };

function setup(opts: ConnectionOptions = {}): { t: FakeTransport; sw: FakeSwitch; clock: FakeClock; conn: OfConnectionCore } {
  const t = new FakeTransport();
  const sw = new FakeSwitch(t);
  const clock = new FakeClock();
  const conn = new OfConnectionCore(t, { clock, outbound: sync, ...opts });
  return { t, sw, clock, conn };
}

function flowMod(tag: number): Buffer {
  const b = Buffer.alloc(48);
  b[47] = tag;
  return ofFrame(OFPT.FLOW_MOD, 0, b);
}

describe('OfConnectionCore', () => {
  describe('handshake', () => {
    it('sends a HELLO with only the 1.3 bit, then FEATURES, and exposes the datapath id', async () => {
      const { sw, conn } = setup();
      const events: string[] = [];
      conn.on('connected', (f) => events.push(`connected ${f.datapathId}`));
      const f = await conn.start();
      assert.equal(f.datapathId, '0000aabbccddeeff');
      assert.equal(f.nTables, 254);
      assert.equal(conn.state, 'ready');
      const hello = sw.ofType(OFPT.HELLO)[0] as Buffer;
      assert.equal(hello[0], 4);
      assert.equal(hello.readUInt16BE(8), 1); // version bitmap element
      assert.equal(hello.readUInt32BE(12), 1 << 4);
      assert.equal(sw.ofType(OFPT.FEATURES_REQUEST).length, 1);
      assert.deepEqual(events, ['connected 0000aabbccddeeff']);
    });

    it('refuses a peer that offers only OpenFlow 1.0 with HELLO_FAILED/INCOMPATIBLE and closes', async () => {
      const { t, sw, conn } = setup();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.HELLO) return false;
        send(helloFrame(1, [1]));
        return true;
      });
      await assert.rejects(conn.start(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /version negotiation failed/.test(e.message));
      const err = sw.ofType(OFPT.ERROR)[0] as Buffer;
      const fields = readErrorFrame(err);
      assert.equal(fields.type, 0);
      assert.equal(fields.code, 0);
      assert.match(fields.data.toString('ascii'), /1\.3/);
      assert.equal(t.closed, true);
      assert.equal(t.closedGracefully, true);
      assert.equal(conn.state, 'closed');
    });

    it("names the version problem when the peer's HELLO arrived (and was refused) before start()", async () => {
      const { t, conn } = setup();
      t.receive(helloFrame(1, [1, 2]));
      await assert.rejects(
        conn.start(),
        (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /version negotiation failed.*0x01,0x02/.test(e.message),
      );
    });

    it('accepts a bitmap-less HELLO of a higher version (negotiates down to 1.3)', async () => {
      const { sw, conn } = setup();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.HELLO) return false;
        send(Buffer.from([5, 0, 0, 8, 0, 0, 0, 9]));
        return true;
      });
      await conn.start();
      assert.equal(conn.state, 'ready');
    });

    it('reports a peer that refuses our HELLO with HELLO_FAILED, with its text', async () => {
      const { sw, conn } = setup();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.HELLO) return false;
        send(helloFrame(1, [4]));
        send(errorFrame(f.readUInt32BE(4), 0, 0, Buffer.from('We support versions 0x01 to 0x01')));
        return true;
      });
      await assert.rejects(
        conn.start(),
        (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /HELLO_FAILED\/INCOMPATIBLE: We support versions 0x01/.test(e.message),
      );
    });

    it('fails the handshake when the switch never answers FEATURES', async () => {
      const { sw, clock, conn } = setup({ handshakeTimeoutMs: 500 });
      sw.responders.push((f) => f[1] === OFPT.FEATURES_REQUEST);
      const p = conn.start();
      await settle();
      clock.advance(500);
      await assert.rejects(p, /handshake/);
      assert.equal(conn.state, 'closed');
    });
  });

  describe('keepalive', () => {
    it('answers ECHO_REQUEST with the same xid and payload', async () => {
      const { t, sw, conn } = setup();
      await conn.start();
      t.receive(ofFrame(OFPT.ECHO_REQUEST, 0x1234, Buffer.from('ping')));
      const reply = sw.ofType(OFPT.ECHO_REPLY)[0] as Buffer;
      assert.equal(reply.readUInt32BE(4), 0x1234);
      assert.equal(reply.subarray(8).toString(), 'ping');
    });

    it('sends echoes when idle and stays up while they are answered', async () => {
      const { sw, clock, conn } = setup({ echoIntervalMs: 1000, echoTimeoutMs: 3000 });
      await conn.start();
      for (let i = 0; i < 10; i++) {
        clock.advance(1000);
        await settle();
      }
      assert.ok(sw.ofType(OFPT.ECHO_REQUEST).length >= 5);
      assert.equal(conn.state, 'ready');
    });

    it('declares the peer dead when echoes go unanswered, and fails waiting requests', async () => {
      const { t, sw, clock, conn } = setup({ echoIntervalMs: 1000, echoTimeoutMs: 3000, requestTimeoutMs: 60_000 });
      await conn.start();
      sw.answerEcho = false;
      sw.responders.push((f) => f[1] === OFPT.BARRIER_REQUEST); // swallow
      const gone: string[] = [];
      conn.on('disconnected', (d) => gone.push(d.reason));
      const waiting = conn.barrier().then(
        () => undefined,
        (e: unknown) => e,
      );
      for (let i = 0; i < 6 && conn.state === 'ready'; i++) {
        clock.advance(1000);
        await settle();
      }
      assert.equal(conn.state, 'closed');
      assert.equal(gone.length, 1);
      assert.match(gone[0] as string, /peer dead/);
      assert.equal(t.closed, true);
      assert.ok(isNetloomError(await waiting, 'UNAVAILABLE'));
    });
  });

  describe('requests', () => {
    it('correlates replies by xid even when they come back out of order', async () => {
      const { sw, conn } = setup();
      await conn.start();
      const held: Buffer[] = [];
      sw.responders.push((f) => {
        if (f[1] !== OFPT.GET_CONFIG_REQUEST) return false;
        held.push(f);
        return true;
      });
      const a = conn.requestFrame(ofFrame(OFPT.GET_CONFIG_REQUEST, 0));
      const b = conn.requestFrame(ofFrame(OFPT.GET_CONFIG_REQUEST, 0));
      await settle();
      const [fa, fb] = held as [Buffer, Buffer];
      assert.notEqual(fa.readUInt32BE(4), fb.readUInt32BE(4));
      sw.send(ofFrame(OFPT.GET_CONFIG_REPLY, fb.readUInt32BE(4), Buffer.from([0, 0, 0, 2])));
      sw.send(ofFrame(OFPT.GET_CONFIG_REPLY, fa.readUInt32BE(4), Buffer.from([0, 0, 0, 1])));
      assert.equal((await a)[0]?.[11], 1);
      assert.equal((await b)[0]?.[11], 2);
    });

    it('rejects a request with the ERROR returned for its xid', async () => {
      const { sw, conn } = setup();
      await conn.start();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.METER_MOD) return false;
        send(errorFrame(f.readUInt32BE(4), 12, 3, f.subarray(0, 16)));
        return true;
      });
      await assert.rejects(
        conn.requestFrame(ofFrame(OFPT.METER_MOD, 0, Buffer.alloc(8)), { context: 'METER_MOD' }),
        (e: unknown) => e instanceof OfSwitchError && e.typeName === 'METER_MOD_FAILED' && e.codeName === 'UNKNOWN_METER',
      );
    });

    it('collects a multipart reply sent in several parts into one result', async () => {
      const { sw, conn } = setup();
      await conn.start();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.MULTIPART_REQUEST) return false;
        const xid = f.readUInt32BE(4);
        for (let i = 0; i < 3; i++) send(ofFrame(OFPT.MULTIPART_REPLY, xid, Buffer.from([0, 1, 0, i < 2 ? 1 : 0, 0, 0, 0, i])));
        return true;
      });
      const parts = await conn.requestFrame(ofFrame(OFPT.MULTIPART_REQUEST, 0, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])));
      assert.deepEqual(
        parts.map((p) => p[15]),
        [0, 1, 2],
      );
    });

    it('barrier() reports errors of pipelined messages and emits them as error events', async () => {
      const { sw, conn } = setup();
      await conn.start();
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.FLOW_MOD || f[55] !== 3) return false;
        send(errorFrame(f.readUInt32BE(4), 4, 9, f.subarray(0, 64)));
        return true;
      });
      const seen: OfSwitchError[] = [];
      conn.on('error', (e) => seen.push(e));
      for (let i = 0; i < 5; i++) await conn.sendFrame(flowMod(i));
      const r = await conn.barrier();
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]?.typeName, 'BAD_MATCH');
      assert.equal(r.errors[0]?.codeName, 'BAD_PREREQ');
      assert.equal(seen.length, 1);
      assert.equal((await conn.barrier()).errors.length, 0);
    });

    it('rejects requests after close with UNAVAILABLE and closes on a framing error', async () => {
      const { t, conn } = setup();
      await conn.start();
      t.receive(Buffer.from([4, 2, 0, 3, 0, 0, 0, 0]));
      assert.equal(conn.state, 'closed');
      assert.match(conn.closedBecause?.reason ?? '', /framing error/);
      await assert.rejects(conn.barrier(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
      assert.throws(
        () => conn.sendFrame(flowMod(1)),
        (e: unknown) => isNetloomError(e, 'UNAVAILABLE'),
      );
    });
  });

  describe('pipelining and backpressure', () => {
    it('coalesces messages sent in one tick into one write', async () => {
      const t = new FakeTransport();
      const sw = new FakeSwitch(t);
      const conn = new OfConnectionCore(t, { clock: new FakeClock() });
      await conn.start();
      const before = t.written.length;
      for (let i = 0; i < 1000; i++) void conn.sendFrame(flowMod(i));
      await conn.barrier();
      assert.ok(t.written.length - before <= 3, `${t.written.length - before} writes`);
      assert.equal(sw.ofType(OFPT.FLOW_MOD).length, 1000);
      const xids = new Set(sw.ofType(OFPT.FLOW_MOD).map((f) => f.readUInt32BE(4)));
      assert.equal(xids.size, 1000);
    });

    it('makes senders wait above the high-water mark and refuses past the hard limit', async () => {
      const { t, conn } = setup({ outbound: { ...sync, highWaterBytes: 1000, maxQueuedBytes: 2000, maxWriteBytes: 100 } });
      await conn.start();
      t.full = true;
      await conn.sendFrame(flowMod(0)); // handed to the transport, which is now full
      const accepted: Array<Promise<void>> = [];
      let refused: unknown;
      for (let i = 0; i < 100; i++) {
        try {
          accepted.push(conn.sendFrame(flowMod(i)));
        } catch (e) {
          refused = e;
          break;
        }
      }
      assert.ok(isNetloomError(refused, 'EXHAUSTED'));
      assert.ok(conn.queuedBytes <= 2000);
      let resolved = 0;
      for (const p of accepted) void p.then(() => resolved++);
      await settle();
      const early = resolved;
      assert.ok(early < accepted.length, 'senders above the high-water mark must wait');
      for (let i = 0; i < 100 && conn.queuedBytes > 0; i++) t.drain();
      await settle();
      assert.equal(resolved, accepted.length);
      assert.equal(conn.queuedBytes, 0);
    });
  });

  describe('bundles', () => {
    function bundleSwitch(
      sw: FakeSwitch,
      opts: { failAdd?: number; failCommitAt?: number },
    ): { committed: number; discarded: number; adds: number } {
      const state = { committed: 0, discarded: 0, adds: 0 };
      let inBundle: Buffer[] = [];
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.EXPERIMENTER) return false;
        const xid = f.readUInt32BE(4);
        const ctl = readBundleControl(f);
        if (f.readUInt32BE(12) === ONFT_BUNDLE_ADD_MESSAGE) {
          const inner = f.subarray(24);
          assert.equal(readOfHeader(inner).xid, xid, 'inner xid equals the bundle-add xid');
          if (inBundle.length === opts.failAdd) send(errorFrame(xid, 2, 4, inner.subarray(0, 64)));
          inBundle.push(inner);
          state.adds++;
          return true;
        }
        if (!ctl) return false;
        const reply = (type: number): void => send(bundleControlFrame(xid, ctl.bundleId, type, ctl.flags));
        if (ctl.ctrlType === BUNDLE_CTRL.OPEN_REQUEST) reply(BUNDLE_CTRL.OPEN_REPLY);
        if (ctl.ctrlType === BUNDLE_CTRL.DISCARD_REQUEST) {
          state.discarded++;
          inBundle = [];
          reply(BUNDLE_CTRL.DISCARD_REPLY);
        }
        if (ctl.ctrlType === BUNDLE_CTRL.COMMIT_REQUEST) {
          if (opts.failCommitAt !== undefined) {
            const bad = inBundle[opts.failCommitAt] as Buffer;
            send(errorFrame(readOfHeader(bad).xid, 5, 2, bad.subarray(0, 64)));
            // ONF experimenter error 2313 (bundle MSG_FAILED) for the commit itself
            send(ofFrame(OFPT.ERROR, xid, Buffer.from([0xff, 0xff, 0x09, 0x09, 0x4f, 0x4e, 0x46, 0x00])));
            inBundle = [];
            return true;
          }
          state.committed += inBundle.length;
          inBundle = [];
          reply(BUNDLE_CTRL.COMMIT_REPLY);
        }
        return true;
      });
      return state;
    }

    it('opens, adds every message, and commits', async () => {
      const { sw, conn } = setup();
      await conn.start();
      const st = bundleSwitch(sw, {});
      await conn.bundleFrames([flowMod(1), flowMod(2), flowMod(3)], { atomic: true, ordered: true });
      assert.equal(st.committed, 3);
      assert.equal(st.discarded, 0);
    });

    it('discards and names the message whose add failed', async () => {
      const { sw, conn } = setup();
      await conn.start();
      const st = bundleSwitch(sw, { failAdd: 2 });
      await assert.rejects(
        conn.bundleFrames([0, 1, 2, 3, 4].map(flowMod)),
        (e: unknown) =>
          e instanceof OfBundleError &&
          e.failure.phase === 'add' &&
          e.failure.index === 2 &&
          e.failure.error.typeName === 'BAD_ACTION' &&
          e.field === 'msgs[2]',
      );
      assert.equal(st.committed, 0);
      assert.equal(st.discarded, 1);
    });

    it('names the message that failed at commit, with the bundle-level error kept too', async () => {
      const { sw, conn } = setup();
      await conn.start();
      const st = bundleSwitch(sw, { failCommitAt: 3 });
      await assert.rejects(conn.bundleFrames([0, 1, 2, 3, 4].map(flowMod)), (e: unknown) => {
        assert.ok(e instanceof OfBundleError);
        assert.equal(e.failure.phase, 'commit');
        assert.equal(e.failure.index, 3);
        assert.equal(e.failure.error.typeName, 'FLOW_MOD_FAILED');
        assert.equal(e.failure.error.codeName, 'BAD_TABLE_ID');
        assert.ok(e.failure.errors.some((x) => x.typeName === 'BUNDLE_FAILED' && x.codeName === 'MSG_FAILED'));
        return true;
      });
      assert.equal(st.committed, 0);
    });

    it("a bundle leaves errors of earlier pipelined sends for the caller's barrier", async () => {
      const { sw, conn } = setup();
      await conn.start();
      bundleSwitch(sw, {});
      sw.responders.push((f, send) => {
        if (f[1] !== OFPT.FLOW_MOD || f[55] !== 9) return false;
        send(errorFrame(f.readUInt32BE(4), 4, 9, f.subarray(0, 64)));
        return true;
      });
      await conn.sendFrame(flowMod(9));
      await conn.bundleFrames([flowMod(1)]);
      const r = await conn.barrier();
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]?.codeName, 'BAD_PREREQ');
    });

    it('errors of bundled messages do not leak out as unsolicited error events', async () => {
      const { sw, conn } = setup();
      await conn.start();
      bundleSwitch(sw, { failAdd: 0 });
      let unsolicited = 0;
      conn.on('error', () => unsolicited++);
      await assert.rejects(conn.bundleFrames([flowMod(1)]), OfBundleError);
      assert.equal(unsolicited, 0);
    });
  });
});
