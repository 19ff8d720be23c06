/**
 * Smoke test of the dataplane benchmark: runs `npm run bench -- dataplane` (as `node
 * dist/bench/run.js`) with the shortest settings on the reference path and netloom's VXLAN mode
 * (pinned to CPU 0, their switches' CPU per packet measured),
 * checks that the last line is JSON with positive figures and ratios, and that the benchmark left
 * no namespace or lab behind; then the service path and its direct reference, with the connection
 * rate of both and every provider given connections.
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { listNetns } from '../../../deploy/lab/netns';
import { loadState } from '../../../deploy/lab/state';
import { run } from '../../../lib/exec';
import { cleanupStaleNetloom, LAB_NAME } from '../../../bench/support/netloom-paths';
import { cleanupStale } from '../../../bench/support/reference-paths';

const RUNNER = resolve(__dirname, '../../../bench/run.js');

interface Figures {
  qperfTcpBwGbps: number;
  qperfTcpLatUs: number;
  iperf3Gbps: number;
  rounds: number;
  switchCpuUsPerPacket: number | null;
  vsOvsNormal: { tcpBw: number; tcpLat: number; iperf3: number; switchCpu?: number } | null;
}

describe('dataplane benchmark (smoke)', function () {
  // the lab it makes plugs 15 containers first: ~8 s on a quiet machine, 20 s at load 11
  this.timeout(75_000);

  after(async function () {
    this.timeout(30_000);
    // only matters when the benchmark process was killed before its own cleanup ran
    await cleanupStale();
    await cleanupStaleNetloom();
  });

  it('measures ovs-normal and netloom-vxlan and prints positive figures as its last JSON line', async () => {
    const r = await run(
      process.execPath,
      [RUNNER, 'dataplane', '--seconds', '1', '--rounds', '1', '--paths', 'ovs-normal,netloom-vxlan', '--pin-cpu', '0'],
      {
        timeoutMs: 70_000,
        allowFailure: true,
      },
    );
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
    const lines = r.stdout.trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] ?? '') as {
      benchmark: string;
      seconds: number;
      pinCpu: number | null;
      paths: Record<string, Figures>;
    };
    assert.equal(last.benchmark, 'dataplane');
    assert.equal(last.seconds, 1);
    // the switches of both paths (one for ovs-normal, two lab hosts) and the bench itself on CPU 0
    assert.equal(last.pinCpu, 0);
    assert.match(r.stdout, /pinned to CPU 0: this process and what it starts, and 3 ovs-vswitchd/);
    assert.deepEqual(Object.keys(last.paths).sort(), ['netloom-vxlan', 'ovs-normal']);
    for (const [name, f] of Object.entries(last.paths)) {
      assert.ok(f.qperfTcpBwGbps > 0, `${name} tcp_bw`);
      assert.ok(f.qperfTcpLatUs > 0, `${name} tcp_lat`);
      assert.ok(f.iperf3Gbps > 0, `${name} iperf3`);
      assert.equal(f.rounds, 1);
      assert.ok(f.vsOvsNormal && f.vsOvsNormal.tcpBw > 0 && f.vsOvsNormal.tcpLat > 0 && f.vsOvsNormal.iperf3 > 0, `${name} ratios`);
      // both cross OVS: their switches' CPU per packet during tcp_lat, and its ratio
      assert.ok(f.switchCpuUsPerPacket !== null && f.switchCpuUsPerPacket > 0, `${name} switch CPU per packet`);
      assert.ok((f.vsOvsNormal.switchCpu ?? 0) > 0, `${name} switch CPU ratio`);
    }
    assert.deepEqual(last.paths['ovs-normal']?.vsOvsNormal, { tcpBw: 1, tcpLat: 1, iperf3: 1, switchCpu: 1 });
    assert.match(r.stdout, /round 1 netloom-vxlan: .*switch CPU [\d.]+ us\/packet/);
    assert.match(r.stdout, /\| netloom-vxlan \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+x \|/);
    // everything it made is gone
    const left = (await listNetns()).filter((n) => /^(dp|tdp-)/.test(n));
    assert.deepEqual(left, []);
    assert.equal(loadState(LAB_NAME), undefined, 'lab tdp still recorded');
  });

  it('measures the service path against direct, and the connection rate of both, every provider used', async function () {
    this.timeout(90_000);
    const r = await run(
      process.execPath,
      [RUNNER, 'dataplane', '--seconds', '1', '--rounds', '1', '--paths', 'netloom-service,netloom-service-direct'],
      { timeoutMs: 85_000, allowFailure: true },
    );
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
    const lines = r.stdout.trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] ?? '') as {
      paths: Record<string, Figures & { vsDirect?: { tcpBw: number; tcpLat: number; iperf3: number } | null }>;
      service: {
        providers: number;
        connectionRate: { servicePerSecond: number; directPerSecond: number; ratio: number; failed: { service: number; direct: number } };
        evidence: Record<string, number>;
      } | null;
    };
    assert.deepEqual(Object.keys(last.paths).sort(), ['netloom-service', 'netloom-service-direct']);
    const v = last.paths['netloom-service']?.vsDirect;
    assert.ok(v && v.tcpBw > 0 && v.tcpLat > 0 && v.iperf3 > 0, `ratios against direct: ${JSON.stringify(v)}`);
    const svc = last.service;
    assert.ok(svc, 'a service section');
    assert.equal(svc.providers, 3);
    assert.ok(svc.connectionRate.servicePerSecond > 0 && svc.connectionRate.directPerSecond > 0 && svc.connectionRate.ratio > 0);
    assert.deepEqual(svc.connectionRate.failed, { service: 0, direct: 0 });
    // 300 connect-loop connections plus qperf's and iperf3's through the service: each provider got some
    assert.deepEqual(Object.keys(svc.evidence).sort(), ['sp1', 'sp2', 'sp3']);
    for (const [p, n] of Object.entries(svc.evidence)) assert.ok(n > 0, `${p} got no connection: ${JSON.stringify(svc.evidence)}`);
    assert.match(r.stdout, /\| netloom-service \| [\d.]+x \| [\d.]+x \| [\d.]+x \|/);
    assert.deepEqual(
      (await listNetns()).filter((n) => /^(dp|tdp-)/.test(n)),
      [],
    );
  });
});
