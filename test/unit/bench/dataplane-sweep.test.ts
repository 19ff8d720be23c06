import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { summarizeSweep, sweepCharts } from '../../../bench/support/dataplane-sweep';
import type { PathName } from '../../../bench/support/dataplane-report';
import { parseQperfSweep, SWEEP_SIZES, type SweepPoint } from '../../../bench/support/perf-tools';
import { lineChartSvg, shortNumber, sizeLabel } from '../../../bench/support/svg-chart';

describe('dataplane --sweep (qperf -oo msg_size, charts)', () => {
  it('SWEEP_SIZES are the 17 powers of two of msg_size:1:64K:*2', () => {
    assert.equal(SWEEP_SIZES.length, 17);
    assert.equal(SWEEP_SIZES[0], 1);
    assert.equal(SWEEP_SIZES[16], 65536);
  });

  it('parses a sweep in order (bandwidths first, as qperf prints them) and refuses a short one', () => {
    const text =
      'tcp_bw:\n    bw  =  132 KB/sec\ntcp_bw:\n    bw  =  1.08 MB/sec\ntcp_bw:\n    bw  =  2 GB/sec\n' +
      'tcp_lat:\n    latency  =  53.5 us\ntcp_lat:\n    latency  =  31.6 us\ntcp_lat:\n    latency  =  1.5 ms\n';
    assert.deepEqual(parseQperfSweep(text, [1, 2, 4]), [
      { msgSize: 1, tcpBwBps: 132e3 * 8, tcpLatUs: 53.5 },
      { msgSize: 2, tcpBwBps: 1.08e6 * 8, tcpLatUs: 31.6 },
      { msgSize: 4, tcpBwBps: 16e9, tcpLatUs: 1500 },
    ]);
    assert.throws(
      () => parseQperfSweep(text, [1, 2, 4, 8]),
      (e) => isNetloomError(e) && e.field === 'qperf' && /3 tcp_bw and 3 tcp_lat figures for 4/.test(e.message),
    );
  });

  it('summarizes medians per path and size over rounds', () => {
    const pt = (msgSize: number, gbps: number, lat: number): SweepPoint => ({ msgSize, tcpBwBps: gbps * 1e9, tcpLatUs: lat });
    const f = summarizeSweep(
      new Map<PathName, SweepPoint[][]>([
        [
          'veth',
          [
            [pt(1, 0.01, 20), pt(2, 0.02, 21)],
            [pt(1, 0.03, 30), pt(2, 0.04, 25)],
            [pt(1, 0.02, 10), pt(2, 0.03, 22)],
          ],
        ],
      ]),
    );
    assert.deepEqual(f.veth, [
      { msgSize: 1, tcpBwGbps: 0.02, tcpLatUs: 20 },
      { msgSize: 2, tcpBwGbps: 0.03, tcpLatUs: 22 },
    ]);
  });

  it('draws one line and one legend entry per path; log scales leave out what they cannot place', () => {
    const figs = {
      veth: [
        { msgSize: 1, tcpBwGbps: 0.01, tcpLatUs: 20 },
        { msgSize: 65536, tcpBwGbps: 15, tcpLatUs: 40 },
      ],
      'netloom-vlan': [
        { msgSize: 1, tcpBwGbps: 0, tcpLatUs: 200 },
        { msgSize: 1024, tcpBwGbps: 0.5, tcpLatUs: 220 },
        { msgSize: 65536, tcpBwGbps: 2, tcpLatUs: 300 },
      ],
    };
    const { bandwidth, latency } = sweepCharts(figs, 'test');
    for (const svg of [bandwidth, latency]) {
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
      assert.match(svg, />netloom-vlan<\/text>/);
      assert.match(svg, />64K<\/text>/, 'the x axis reaches 64 KiB');
    }
    // a zero bandwidth has no place on a log axis: netloom-vlan's line has 2 points there, 3 on latency
    const pointsOf = (svg: string) => [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').length);
    assert.deepEqual(pointsOf(bandwidth), [2, 2]);
    assert.deepEqual(pointsOf(latency), [2, 3]);
    assert.throws(
      () => lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'a', points: [[1, 0]] }] }),
      (e) => isNetloomError(e) && e.field === 'series',
    );
    assert.match(
      lineChartSvg({ title: 'a<b', xLabel: 'x', yLabel: 'y', series: [{ name: 'n&m', points: [[1, 1]] }] }),
      /a&lt;b[\s\S]*n&amp;m/,
    );
  });

  it('shortNumber and sizeLabel label axes compactly (sizes in binary units)', () => {
    assert.deepEqual([1, 512, 1024, 65536, 2 ** 20].map(sizeLabel), ['1', '512', '1K', '64K', '1M']);
    assert.deepEqual([1, 512, 4096, 65536, 1.5e6, 0.25].map(shortNumber), ['1', '512', '4.1K', '65.5K', '1.5M', '0.25']);
  });
});
