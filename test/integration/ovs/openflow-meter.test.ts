/**
 * A meter installed through our connection limits real TCP throughput: iperf3 between two container
 * namespaces on one bridge, first without the meter (to show the path is much faster than the
 * rate), then through a 20 Mbit/s drop-band meter, which must give the rate within ±20%.
 */
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { OfConnection, connectSwitch } from '../../../ovs/openflow';
import { flowMod, FlowMod, OFPMF } from '../../../ovs/openflow/messages';
import { run, spawnDaemon } from '../../../lib/exec';
import { stopProcess } from '../../../lib/process';
import { waitFor } from '../../../lib/clock';
import { Container, OfxBridge, addContainer, startBridge, stopBridge } from './openflow-lab';

const RATE_KBPS = 20_000;

function forward(inPort: number, outPort: number, meterId?: number): FlowMod {
  return flowMod({
    priority: 10,
    match: [{ field: 'in_port', value: inPort }],
    instructions: [
      ...(meterId ? [{ type: 'meter' as const, meterId }] : []),
      { type: 'apply_actions', actions: [{ type: 'output', port: outPort, maxLen: 0 }] },
    ],
  });
}

async function iperf(client: Container, server: Container, seconds: number): Promise<number> {
  const r = await run('iperf3', ['-c', server.ip, '-p', '5201', '-t', String(seconds), '-J', '--connect-timeout', '3000'], {
    netns: client.ns,
    timeoutMs: (seconds + 15) * 1000,
  });
  const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = j.end?.sum_received?.bits_per_second;
  assert.ok(typeof bps === 'number' && bps > 0, `iperf3 reported no throughput: ${r.stdout.slice(0, 300)}`);
  return bps;
}

describe('OpenFlow meter limits real TCP throughput', function () {
  this.timeout(90_000);
  let b: OfxBridge | undefined;
  let conn: OfConnection | undefined;
  let c1: Container;
  let c2: Container;
  let serverPid: number | undefined;

  before(async () => {
    b = await startBridge('meter');
    c1 = await addContainer(b, 'c1', 1, '10.51.0.1', '02:00:0a:33:00:01');
    c2 = await addContainer(b, 'c2', 2, '10.51.0.2', '02:00:0a:33:00:02');
    conn = await connectSwitch(b.mgmt, { timeoutMs: 10_000 });
    const log = openSync(`${b.dir}/iperf3.log`, 'a');
    try {
      serverPid = spawnDaemon('iperf3', ['-s', '-B', c2.ip, '-p', '5201'], { netns: c2.ns, logFd: log });
    } finally {
      closeSync(log);
    }
    await waitFor('iperf3 server listening', async () => (await run('ss', ['-ltn'], { netns: c2.ns })).stdout.includes(':5201'), {
      timeoutMs: 10_000,
    });
  });
  after(async () => {
    if (serverPid !== undefined) await stopProcess(serverPid, 'iperf3');
    conn?.close();
    await stopBridge(b);
  });

  it(`holds iperf3 to ${RATE_KBPS / 1000} Mbit/s (±20%) while the unmetered path is much faster`, async () => {
    const c = conn as OfConnection;
    // without BURST, OVS lets a whole second's worth of traffic through at first; 250 ms of burst here
    await c.send(forward(1, 2));
    await c.send(forward(2, 1));
    assert.deepEqual((await c.barrier()).errors, []);
    const free = await iperf(c1, c2, 2);

    await c.send({
      type: 'meter_mod',
      xid: 0,
      command: 'add',
      flags: OFPMF.KBPS | OFPMF.BURST,
      meterId: 1,
      bands: [{ type: 'drop', rate: RATE_KBPS, burstSize: RATE_KBPS / 4 }],
    });
    await c.send(forward(1, 2, 1)); // same match and priority: replaces the flow
    assert.deepEqual((await c.barrier()).errors, []);
    const meters = await c.request({ type: 'multipart_request', xid: 0, flags: 0, body: { kind: 'meter_config', meterId: 0xffffffff } });
    assert.equal(meters.body.kind === 'meter_config' && meters.body.entries[0]?.meterId, 1);

    const limited = await iperf(c1, c2, 3);
    process.stdout.write(`      unmetered ${(free / 1e6).toFixed(1)} Mbit/s, metered ${(limited / 1e6).toFixed(1)} Mbit/s\n`);
    const rate = RATE_KBPS * 1000;
    assert.ok(free > 2 * rate, `unmetered throughput ${(free / 1e6).toFixed(1)} Mbit/s should be well above the meter rate`);
    assert.ok(
      Math.abs(limited - rate) <= 0.2 * rate,
      `metered throughput ${(limited / 1e6).toFixed(1)} Mbit/s, expected ${rate / 1e6} ±20%`,
    );
  });
});
