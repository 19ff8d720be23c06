import assert from 'node:assert/strict';
import { OfConnection, mergeMultipart } from '../../../../ovs/openflow/connection';
import { OfConnectionCore } from '../../../../ovs/openflow/connection-core';
import { FakeClock } from '../../../support/fake-clock';
import { OfBundleError } from '../../../../ovs/openflow/connection-bundle';
import { decodeMessage, encodeMessage } from '../../../../ovs/openflow/codec';
import { flowMod, FlowStats, MeterMod, OFPM, PacketIn } from '../../../../ovs/openflow/messages';
import { OFPT } from '../../../../ovs/openflow/connection-wire';
import { FakeSwitch, FakeTransport, settle } from './connection-fakes';
import { isNetloomError } from '../../../../lib/errors';
import type { FlowSink } from '../../../../netplugin/reconcile/reconciler';
import type { MeterSink } from '../../../../netplugin/reconcile/meter-reconciler';

function stats(priority: number): FlowStats {
  return {
    tableId: 0,
    durationSec: 1,
    durationNsec: 0,
    priority,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: 0n,
    packetCount: 0n,
    byteCount: 0n,
    match: [],
    instructions: [],
  };
}

async function setup(): Promise<{ t: FakeTransport; sw: FakeSwitch; conn: OfConnection }> {
  const t = new FakeTransport();
  const sw = new FakeSwitch(t);
  const core = new OfConnectionCore(t, { clock: new FakeClock(), outbound: { schedule: (fn) => fn() } });
  await core.start();
  return { t, sw, conn: new OfConnection(core) };
}

describe('OfConnection (typed)', () => {
  it('merges a flow-stats reply sent in three parts into one list', async () => {
    const { sw, conn } = await setup();
    sw.responders.push((f, send) => {
      if (f[1] !== OFPT.MULTIPART_REQUEST) return false;
      const xid = f.readUInt32BE(4);
      send(encodeMessage({ type: 'multipart_reply', xid, flags: 1, body: { kind: 'flow', entries: [stats(1), stats(2)] } }));
      send(encodeMessage({ type: 'multipart_reply', xid, flags: 1, body: { kind: 'flow', entries: [stats(3)] } }));
      send(encodeMessage({ type: 'multipart_reply', xid, flags: 0, body: { kind: 'flow', entries: [stats(4)] } }));
      return true;
    });
    const flows = await conn.dumpFlows();
    assert.deepEqual(
      flows.map((f) => f.priority),
      [1, 2, 3, 4],
    );
    const req = decodeMessage(sw.ofType(OFPT.MULTIPART_REQUEST)[0] as Buffer);
    assert.equal(req.type === 'multipart_request' && req.body.kind, 'flow');
  });

  it('fits the flow reconciler as its FlowSink, and an empty bundle sends nothing', async () => {
    const { sw, conn } = await setup();
    const sink: FlowSink = conn; // compile-time check of the interface netplugin relies on
    const before = sw.received.length;
    await sink.bundle([]);
    assert.equal(sw.received.length, before);
  });

  it('dumpMeters asks for every meter (OFPM_ALL) and returns their configurations', async () => {
    const { sw, conn } = await setup();
    const sink: MeterSink = conn; // compile-time check of the interface netplugin relies on
    const entries = [{ flags: 13, meterId: 20, bands: [{ type: 'drop' as const, rate: 20000, burstSize: 5000 }] }];
    sw.responders.push((f, send) => {
      if (f[1] !== OFPT.MULTIPART_REQUEST) return false;
      send(encodeMessage({ type: 'multipart_reply', xid: f.readUInt32BE(4), flags: 0, body: { kind: 'meter_config', entries } }));
      return true;
    });
    assert.deepEqual(await sink.dumpMeters(), entries);
    const req = decodeMessage(sw.ofType(OFPT.MULTIPART_REQUEST)[0] as Buffer);
    assert.deepEqual(req.type === 'multipart_request' && req.body, { kind: 'meter_config', meterId: OFPM.ALL });
  });

  it('meterMods sends each meter mod then a barrier, and rejects with the error of a meter mod only', async () => {
    const { sw, conn } = await setup();
    const mm = (meterId: number): MeterMod => ({ type: 'meter_mod', xid: 0, command: 'add', flags: 13, meterId, bands: [] });
    let fail = true;
    sw.responders.push((f, send) => {
      if (f[1] === OFPT.PACKET_OUT) {
        // an unrelated pipelined message failing meanwhile is not the meter mods' error
        send(encodeMessage({ type: 'error', xid: f.readUInt32BE(4), errType: 1, code: 1, data: f.subarray(0, 16) }));
        return true;
      }
      if (f[1] !== OFPT.METER_MOD || !fail || f.readUInt32BE(12) !== 2) return false;
      send(encodeMessage({ type: 'error', xid: f.readUInt32BE(4), errType: 12, code: 1, data: f.subarray(0, 16) }));
      return true;
    });
    await conn.send({ type: 'packet_out', xid: 0, bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data: Buffer.alloc(0) });
    await conn.meterMods([mm(1), mm(3)]);
    await assert.rejects(
      conn.meterMods([mm(1), mm(2)]),
      (e: unknown) => e instanceof Error && 'codeName' in e && e.codeName === 'METER_EXISTS',
    );
    assert.equal(sw.ofType(OFPT.METER_MOD).length, 4);
    fail = false;
    await conn.meterMods([]);
    assert.equal(sw.ofType(OFPT.BARRIER_REQUEST).length, 2, 'an empty list sends nothing');
  });

  it('refuses request() for a message that has no reply', async () => {
    const { conn } = await setup();
    await assert.rejects(
      conn.request(flowMod()),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && /send\(\) and then barrier\(\)/.test(e.message),
    );
  });

  it('refuses to merge replies of different kinds', () => {
    assert.throws(
      () =>
        mergeMultipart([
          { type: 'multipart_reply', xid: 1, flags: 1, body: { kind: 'flow', entries: [] } },
          { type: 'multipart_reply', xid: 1, flags: 0, body: { kind: 'table', entries: [] } },
        ]),
      /mixes flow and table/,
    );
  });

  it('emits packet_in as a typed event and feeds bounded queues, dropping the oldest when full', async () => {
    const { sw, conn } = await setup();
    const seen: PacketIn[] = [];
    conn.on('packet_in', (p) => seen.push(p));
    const q = conn.events('packet_in', 2);
    for (let i = 0; i < 5; i++) {
      sw.send(
        encodeMessage({
          type: 'packet_in',
          xid: 0,
          bufferId: 0xffffffff,
          totalLen: 1,
          reason: 0,
          tableId: 0,
          cookie: 0n,
          match: [{ field: 'in_port', value: i + 1 }],
          data: Buffer.from([i]),
        }),
      );
    }
    assert.equal(seen.length, 5);
    assert.equal(q.dropped, 3);
    const a = await q.next();
    const b = await q.next();
    assert.deepEqual([a.value?.data[0], b.value?.data[0]], [3, 4]);
    q.close();
    assert.equal((await q.next()).done, true);
  });

  it('bundle() encodes messages and reports the failing index', async () => {
    const { sw, conn } = await setup();
    sw.responders.push((f, send) => {
      if (f[1] !== OFPT.EXPERIMENTER) return false;
      const m = decodeMessage(f);
      if (m.type === 'bundle_control') {
        const reply = { open_request: 'open_reply', commit_request: 'commit_reply', discard_request: 'discard_reply' } as const;
        const ctrl = reply[m.ctrlType as keyof typeof reply];
        if (ctrl) send(encodeMessage({ ...m, ctrlType: ctrl }));
      } else if (m.type === 'bundle_add' && m.message.type === 'flow_mod' && m.message.tableId === 255) {
        send(encodeMessage({ type: 'error', xid: m.xid, errType: 5, code: 2, data: f.subarray(24, 88) }));
      }
      return true;
    });
    await conn.bundle([flowMod({ priority: 1 }), flowMod({ priority: 2 })]);
    await assert.rejects(
      conn.bundle([flowMod({ priority: 1 }), flowMod({ tableId: 255 })]),
      (e: unknown) => e instanceof OfBundleError && e.failure.index === 1 && e.failure.error.codeName === 'BAD_TABLE_ID',
    );
    await settle();
  });
});
