/**
 * The connection layer against a real ovs-vswitchd: handshake both ways (we dial the bridge's
 * .mgmt socket; the bridge dials our unix listener as its controller), version refusal, a flow
 * set installed pipelined and read back through flow-stats, a bundle with one bad flow that
 * changes nothing, thousands of pipelined flow_mods read back from a multipart reply in parts,
 * dead-peer detection when the switch stops answering, and surviving an ovs-vswitchd restart.
 */
import assert from 'node:assert/strict';
import {
  OfConnection,
  OfConnectionCore,
  OfListener,
  OfBundleError,
  connectSwitch,
  connectTransport,
  ReconnectingSwitch,
} from '../../../ovs/openflow';
import { FlowMod, flowMod, OFPG_ANY, OFPP } from '../../../ovs/openflow/messages';
import { encodeMessage } from '../../../ovs/openflow/codec';
import { ovsHealthy, restartVswitchd } from '../../../deploy/lab/ovs-instance';
import { isOurProcess } from '../../../lib/process';
import { waitFor } from '../../../lib/clock';
import { OfxBridge, dumpFlowLines, ofctl, startBridge, stopBridge, vsctl } from './openflow-lab';

function output(port: number): FlowMod['instructions'] {
  return [{ type: 'apply_actions', actions: [{ type: 'output', port, maxLen: 0 }] }];
}

/** A small pipeline of our own flows (several tables, matches and actions). */
function ownFlows(): FlowMod[] {
  return [
    flowMod({
      tableId: 0,
      priority: 100,
      cookie: 0x11n,
      match: [{ field: 'in_port', value: 1 }],
      instructions: [{ type: 'goto_table', tableId: 10 }],
    }),
    flowMod({ tableId: 0, priority: 0, cookie: 0x12n, match: [], instructions: [] }),
    flowMod({
      tableId: 10,
      priority: 200,
      cookie: 0x13n,
      match: [
        { field: 'eth_type', value: 0x0800 },
        { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' },
      ],
      instructions: output(2),
    }),
    flowMod({
      tableId: 10,
      priority: 150,
      cookie: 0x14n,
      match: [{ field: 'eth_dst', value: '02:00:00:00:00:02' }],
      instructions: output(OFPP.NORMAL),
    }),
    flowMod({
      tableId: 20,
      priority: 300,
      cookie: 0x15n,
      match: [
        { field: 'eth_type', value: 0x0800 },
        { field: 'ip_proto', value: 6 },
        { field: 'tcp_dst', value: 5001 },
      ],
      instructions: output(3),
    }),
  ];
}

describe('OpenFlow connection against ovs-vswitchd', function () {
  this.timeout(60_000);
  let b: OfxBridge | undefined;
  let conn: OfConnection | undefined;
  let listener: OfListener | undefined;

  before(async () => {
    b = await startBridge('conn');
  });
  afterEach(async () => {
    conn?.close();
    conn = undefined;
    await listener?.close();
    listener = undefined;
  });
  after(async () => {
    await stopBridge(b);
  });

  it('dials the bridge .mgmt socket, handshakes with OpenFlow 1.3 and reports its datapath id', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, { timeoutMs: 10_000 });
    const dpid = (await vsctl(br, ['get', 'bridge', 'br0', 'datapath_id'])).trim().replace(/"/g, '');
    assert.equal(conn.datapathId, dpid);
    assert.ok(conn.features.nTables >= 200);
    const r = await conn.barrier();
    assert.deepEqual(r.errors, []);
  });

  it('accepts the bridge as a controller on a unix socket and refuses a bridge limited to OpenFlow 1.0', async () => {
    const br = b as OfxBridge;
    // OVS only dials unix: controllers inside its run directory
    listener = await OfListener.listen(`unix:${br.inst.runDir}/ctl.sock`);
    const next = listener.nextSwitch(15_000);
    await vsctl(br, ['set-controller', 'br0', `unix:${br.inst.runDir}/ctl.sock`]);
    try {
      const sw = await next;
      const dpid = (await vsctl(br, ['get', 'bridge', 'br0', 'datapath_id'])).trim().replace(/"/g, '');
      assert.equal(sw.features.datapathId, dpid);
      await waitFor(
        'controller connected in OVSDB',
        async () => (await vsctl(br, ['--columns=is_connected', 'list', 'Controller'])).includes('true'),
        { timeoutMs: 10_000 },
      );

      const rejected = new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('the OpenFlow 1.0 bridge never connected')), 20_000);
        listener?.once('rejected', (r) => {
          clearTimeout(t);
          resolve(r.reason);
        });
      });
      await vsctl(br, ['set', 'bridge', 'br0', 'protocols=OpenFlow10']);
      const reason = await rejected;
      assert.match(reason, /version negotiation failed.*0x01/);
    } finally {
      await vsctl(br, ['del-controller', 'br0', '--', 'set', 'bridge', 'br0', 'protocols=OpenFlow13']);
    }
  });

  it('installs flows pipelined and reads them back through flow-stats as ovs-ofctl shows them', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, { timeoutMs: 10_000 });
    await ofctl(br, ['del-flows', 'br0']);
    const flows = ownFlows();
    for (const f of flows) await conn.send(f);
    const r = await conn.barrier();
    assert.deepEqual(r.errors, []);
    const lines = await dumpFlowLines(br);
    assert.equal(lines.length, flows.length);
    const ours = await conn.dumpFlows();
    assert.equal(ours.length, flows.length);
    const key = (t: number, p: number, c: bigint): string => `${t}/${p}/0x${c.toString(16)}`;
    const fromOfctl = lines
      .map((l) => {
        const m = /cookie=(0x[0-9a-f]+).*table=(\d+).*priority=(\d+)/.exec(l);
        assert.ok(m, l);
        return key(Number(m[2]), Number(m[3]), BigInt(m[1] as string));
      })
      .sort();
    assert.deepEqual(ours.map((f) => key(f.tableId, f.priority, f.cookie)).sort(), fromOfctl);
    const ip = ours.find((f) => f.cookie === 0x13n);
    assert.deepEqual(ip?.match, flows[2]?.match);
    assert.deepEqual(ip?.instructions, flows[2]?.instructions);
  });

  it('a bundle with one invalid flow changes nothing and names the flow that failed', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, { timeoutMs: 10_000 });
    const before = (await dumpFlowLines(br)).map((l) => l.replace(/duration=[^,]+,/, '')).sort();
    const batch = [
      flowMod({ tableId: 30, priority: 1, cookie: 0x21n }),
      flowMod({ tableId: 31, priority: 1, cookie: 0x22n }),
      flowMod({ tableId: 255, priority: 1, cookie: 0x23n }), // table 255 is OFPTT_ALL: invalid in an add
      flowMod({ tableId: 32, priority: 1, cookie: 0x24n }),
    ];
    await assert.rejects(conn.bundle(batch, { atomic: true, ordered: true }), (e: unknown) => {
      assert.ok(e instanceof OfBundleError, String(e));
      assert.equal(e.failure.index, 2);
      assert.equal(e.failure.error.typeName, 'FLOW_MOD_FAILED');
      assert.equal(e.failure.error.codeName, 'BAD_TABLE_ID');
      return true;
    });
    const after = (await dumpFlowLines(br)).map((l) => l.replace(/duration=[^,]+,/, '')).sort();
    assert.deepEqual(after, before);
    await conn.bundle(batch.filter((_, i) => i !== 2));
    assert.equal((await dumpFlowLines(br)).length, before.length + 3);
  });

  it('a bundle whose flow passes the add but fails at commit (missing group) changes nothing and names it', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, { timeoutMs: 10_000 });
    const before = (await dumpFlowLines(br)).map((l) => l.replace(/duration=[^,]+,/, '')).sort();
    const batch = [
      flowMod({ tableId: 33, priority: 1, cookie: 0x31n }),
      flowMod({ tableId: 34, priority: 1, cookie: 0x32n }),
      flowMod({
        tableId: 35,
        priority: 1,
        cookie: 0x33n,
        instructions: [{ type: 'apply_actions', actions: [{ type: 'group', groupId: 99 }] }],
      }),
      flowMod({ tableId: 36, priority: 1, cookie: 0x34n }),
    ];
    await assert.rejects(conn.bundle(batch), (e: unknown) => {
      assert.ok(e instanceof OfBundleError, String(e));
      assert.equal(e.failure.phase, 'commit');
      assert.equal(e.failure.index, 2);
      assert.equal(`${e.failure.error.typeName}/${e.failure.error.codeName}`, 'BAD_ACTION/BAD_OUT_GROUP');
      assert.ok(e.failure.errors.some((x) => `${x.typeName}/${x.codeName}` === 'BUNDLE_FAILED/MSG_FAILED'));
      return true;
    });
    const after = (await dumpFlowLines(br)).map((l) => l.replace(/duration=[^,]+,/, '')).sort();
    assert.deepEqual(after, before);
  });

  it('pipelines 3000 flow_mods without awaiting each, then reads them back from a multipart reply in several parts', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, { timeoutMs: 10_000 });
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 3000; i++) {
      sends.push(
        conn.send(
          flowMod({
            tableId: 50,
            priority: 10,
            cookie: BigInt(0x5000 + i),
            match: [
              { field: 'eth_type', value: 0x0800 },
              { field: 'ipv4_src', value: `10.9.${i >> 8}.${i & 0xff}` },
            ],
            instructions: output(1),
          }),
        ),
      );
    }
    await Promise.all(sends);
    assert.deepEqual((await conn.barrier()).errors, []);
    const request = encodeMessage({
      type: 'multipart_request',
      xid: 0,
      flags: 0,
      body: { kind: 'flow', tableId: 50, outPort: OFPP.ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [] },
    });
    const parts = await conn.channel.requestFrame(request);
    assert.ok(parts.length > 1, `${parts.length} part(s)`);
    const flows = await conn.dumpFlows({ tableId: 50 });
    assert.equal(flows.length, 3000);
    assert.equal(new Set(flows.map((f) => f.cookie)).size, 3000);
    assert.match(await ofctl(br, ['dump-aggregate', 'br0', 'table=50']), /flow_count=3000/);
  });

  it('detects a peer that stops answering (echo timeout) and fails what waits on it', async () => {
    const br = b as OfxBridge;
    const core = new OfConnectionCore(await connectTransport(br.mgmt), { echoIntervalMs: 200, echoTimeoutMs: 800 });
    await core.start();
    const gone = new Promise<string>((resolve) => core.once('disconnected', (d) => resolve(d.reason)));
    const pid = br.inst.vswitchdPid;
    assert.ok(isOurProcess(pid, 'ovs-vswitchd'));
    process.kill(pid, 'SIGSTOP');
    try {
      const waiting = core.barrier({ timeoutMs: 60_000 }).then(
        () => 'answered',
        (e: unknown) => (e as Error).message,
      );
      const t0 = Date.now();
      assert.match(await gone, /peer dead/);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      assert.match(await waiting, /closed: peer dead/);
    } finally {
      process.kill(pid, 'SIGCONT');
      core.close();
    }
    await waitFor('ovs-vswitchd answering again', () => ovsHealthy(br.inst), { timeoutMs: 10_000 });
  });

  it('survives ovs-vswitchd restarting: reconnects, handshakes again, emits events, serves requests', async () => {
    const br = b as OfxBridge;
    conn = await connectSwitch(br.mgmt, {
      timeoutMs: 10_000,
      backoff: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.1 },
      echoIntervalMs: 1000,
      echoTimeoutMs: 3000,
    });
    const events: string[] = [];
    conn.on('disconnected', () => events.push('disconnected'));
    conn.on('connected', () => events.push('connected'));
    const dpid = conn.datapathId;
    br.inst = await restartVswitchd(br.inst);
    await (conn.channel as ReconnectingSwitch).waitConnected(15_000);
    await waitFor('reconnected', () => events.includes('connected'), { timeoutMs: 15_000 });
    assert.deepEqual(events.slice(0, 2), ['disconnected', 'connected']);
    assert.equal((conn.channel as ReconnectingSwitch).connects, 2);
    assert.equal(conn.datapathId, dpid);
    await conn.send(flowMod({ tableId: 40, priority: 7, cookie: 0x77n }));
    assert.deepEqual((await conn.barrier()).errors, []);
    const flows = await conn.dumpFlows({ tableId: 40 });
    assert.deepEqual(
      flows.map((f) => f.cookie),
      [0x77n],
    );
  });
});
