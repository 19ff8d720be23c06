import { strict as assert } from 'node:assert';
import {
  ALL_PATHS,
  formatRates,
  formatTable,
  isSwarmPath,
  median,
  parseDataplaneArgs,
  summarize,
  summarizeRates,
  type PathName,
  type Sample,
} from '../../../bench/support/dataplane-report';
import { isBgpPath } from '../../../bench/support/bgp-dataplane-report';
import { ovsLayout, ovsVxlanLayout } from '../../../bench/support/reference-paths';
import { parseIperf3Json, parseQperf } from '../../../bench/support/perf-tools';
import {
  CONTAINERS,
  containersFor,
  fabricState,
  gatherProviders,
  PATH_ENDS,
  policyRules,
  PROVIDER_NS,
  SERVICE,
} from '../../../bench/support/netloom-paths';
import { parseHostState } from '../../../netplugin/state/host-state';
import { isNetloomError } from '../../../lib/errors';

describe('dataplane benchmark pieces', () => {
  it('parses qperf output in its units (decimal bytes to bits, ns/us/ms to us)', () => {
    assert.deepEqual(parseQperf('tcp_bw:\n    bw  =  2.26 GB/sec\ntcp_lat:\n    latency  =  26.9 us\n'), {
      tcpBwBps: 2.26e9 * 8,
      tcpLatUs: 26.9,
    });
    const f = parseQperf('tcp_bw:\n    bw  =  65.5 MB/sec\ntcp_lat:\n    latency  =  1.2 ms\n');
    assert.ok(Math.abs(f.tcpBwBps - 524e6) < 1);
    assert.ok(Math.abs(f.tcpLatUs - 1200) < 1e-9);
    assert.throws(
      () => parseQperf('qperf: failed to connect'),
      (e) => isNetloomError(e) && e.field === 'qperf',
    );
    assert.throws(() => parseQperf('tcp_bw:\n  bw = 1 PB/sec\ntcp_lat:\n  latency = 1 us\n'), /unknown qperf bandwidth unit/);
  });

  it('takes iperf3 -J receiver bits/s and rejects errors or empty transfers', () => {
    assert.equal(parseIperf3Json(JSON.stringify({ end: { sum_received: { bytes: 100, bits_per_second: 8e8 } } })), 8e8);
    assert.throws(() => parseIperf3Json(JSON.stringify({ error: 'unable to connect to server' })), /unable to connect/);
    assert.throws(() => parseIperf3Json(JSON.stringify({ end: { sum_received: { bytes: 0, bits_per_second: 0 } } })), /no received data/);
    assert.throws(() => parseIperf3Json('iperf3: error'), /no JSON/);
  });

  it('parses options with defaults and names the bad one', () => {
    const defaults = { sweep: false, out: 'docs/dataplane-sweep', noTso: false, idlePorts: 0, oneBridge: false, pinCpu: null };
    assert.deepEqual(parseDataplaneArgs([]), { seconds: 5, iperfSeconds: 3, rounds: 3, paths: [...ALL_PATHS], ...defaults });
    assert.deepEqual(parseDataplaneArgs(['--seconds', '1', '--paths', 'ovs-normal,netloom-vxlan', '--rounds', '1']), {
      seconds: 1,
      iperfSeconds: 1,
      rounds: 1,
      paths: ['netloom-vxlan', 'ovs-normal'],
      ...defaults,
    });
    assert.deepEqual(parseDataplaneArgs(['--sweep', '--out', '/tmp/x', '--rounds', '2']), {
      seconds: 5,
      iperfSeconds: 3,
      rounds: 2,
      paths: [...ALL_PATHS],
      sweep: true,
      out: '/tmp/x',
      noTso: false,
      idlePorts: 0,
      oneBridge: false,
      pinCpu: null,
    });
    assert.equal(parseDataplaneArgs(['--no-tso']).noTso, true);
    assert.equal(parseDataplaneArgs(['--pin-cpu', '0']).pinCpu, 0);
    assert.equal(parseDataplaneArgs(['--pin-cpu', '1', '--rounds', '2']).pinCpu, 1);
    for (const bad of [['--pin-cpu'], ['--pin-cpu', '-1'], ['--pin-cpu', 'x'], ['--pin-cpu', '--rounds']])
      assert.throws(
        () => parseDataplaneArgs(bad),
        (e) => isNetloomError(e) && e.field === 'pin-cpu',
      );
    assert.equal(parseDataplaneArgs(['--one-bridge', '--rounds', '2']).oneBridge, true);
    assert.equal(parseDataplaneArgs(['--idle-ports', '3']).idlePorts, 3);
    for (const bad of [['--idle-ports'], ['--idle-ports', '-1'], ['--idle-ports', '33'], ['--idle-ports', '1.5']])
      assert.throws(
        () => parseDataplaneArgs(bad),
        (e) => isNetloomError(e) && e.field === 'idle-ports',
      );
    assert.throws(
      () => parseDataplaneArgs(['--out']),
      (e) => isNetloomError(e) && e.field === 'out',
    );
    assert.throws(
      () => parseDataplaneArgs(['--seconds', '6']),
      (e) => isNetloomError(e) && e.field === 'seconds',
    );
    assert.throws(
      () => parseDataplaneArgs(['--paths', 'veth,nope']),
      (e) => isNetloomError(e) && e.field === 'paths' && /nope/.test(e.message),
    );
    assert.throws(
      () => parseDataplaneArgs(['--fast']),
      (e) => isNetloomError(e) && e.field === 'args',
    );
  });

  it('reports medians and ratios against ovs-normal; none without it', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const s = (bw: number, lat: number, ip: number): Sample => ({ tcpBwBps: bw * 1e9, tcpLatUs: lat, iperf3Bps: ip * 1e9 });
    const samples = new Map<PathName, Sample[]>([
      ['ovs-normal', [s(0.5, 40, 0.6), s(0.4, 50, 0.5), s(0.6, 30, 0.7)]],
      ['netloom-vxlan', [s(0.25, 100, 0.3)]],
    ]);
    const f = summarize(samples);
    assert.deepEqual(f['ovs-normal'], {
      qperfTcpBwGbps: 0.5,
      qperfTcpLatUs: 40,
      iperf3Gbps: 0.6,
      rounds: 3,
      switchCpuUsPerPacket: null,
      vsOvsNormal: { tcpBw: 1, tcpLat: 1, iperf3: 1 },
      vsOvsNormal2Host: null,
      ovs2HostReference: 'ovs-normal-2host',
      vsVeth: null,
    });
    assert.deepEqual(f['netloom-vxlan']?.vsOvsNormal, { tcpBw: 0.5, tcpLat: 2.5, iperf3: 0.5 });
    assert.match(formatTable(f), /\| netloom-vxlan \| 0\.250 \| 100\.0 \| 0\.300 \| 0\.50x \| 2\.50x \| 0\.50x \|/);
    assert.equal(summarize(new Map([['veth', [s(10, 10, 10)]]])).veth?.vsOvsNormal, null);
    assert.doesNotMatch(formatTable(f), /2-host/);
    // VXLAN is rated against the two-switch reference without TSO (its containers keep tx off), VLAN against the one with
    const with2 = summarize(
      new Map([
        ...samples,
        ['ovs-normal-2host-txoff', [s(0.5, 50, 0.6)]],
        ['ovs-normal-2host', [s(2, 40, 2)]],
        ['netloom-vlan', [s(1, 60, 1)]],
        ['veth', [s(10, 10, 10)]],
      ]),
    );
    assert.equal(with2['netloom-vxlan']?.ovs2HostReference, 'ovs-normal-2host-txoff');
    assert.deepEqual(with2['netloom-vxlan']?.vsOvsNormal2Host, { tcpBw: 0.5, tcpLat: 2, iperf3: 0.5 });
    assert.deepEqual(with2['netloom-vlan']?.vsOvsNormal2Host, { tcpBw: 0.5, tcpLat: 1.5, iperf3: 0.5 });
    assert.deepEqual(with2['netloom-vlan']?.vsVeth, { tcpBw: 0.1, tcpLat: 6, iperf3: 0.1 });
    assert.match(formatTable(with2), /\| netloom-vxlan \| ovs-normal-2host-txoff \| 0\.50x \| 2\.00x \| 0\.50x \| 0\.03x \| 0\.03x \|/);
    assert.equal(f['netloom-vxlan']?.vsNoPolicy, undefined);
  });

  it("reports the switches' CPU per packet (median of the rounds that measured it) and its ratio where both paths have it", () => {
    const s = (lat: number, cpu: number | null): Sample => ({ tcpBwBps: 1e9, tcpLatUs: lat, iperf3Bps: 1e9, switchCpuUsPerPacket: cpu });
    const f = summarize(
      new Map<PathName, Sample[]>([
        ['ovs-normal-2host', [s(100, 50), s(90, 40), s(110, 60)]],
        ['netloom-vlan', [s(140, 80), s(130, null), s(150, 70)]],
        ['veth', [s(10, null)]],
      ]),
    );
    assert.equal(f['ovs-normal-2host']?.switchCpuUsPerPacket, 50);
    assert.equal(f['netloom-vlan']?.switchCpuUsPerPacket, 75);
    assert.equal(f.veth?.switchCpuUsPerPacket, null);
    assert.deepEqual(f['netloom-vlan']?.vsOvsNormal2Host, { tcpBw: 1, tcpLat: 1.4, iperf3: 1, switchCpu: 1.5 });
    // a kernel path has no switch: no CPU ratio, the others stay
    assert.deepEqual(f['netloom-vlan']?.vsVeth, { tcpBw: 1, tcpLat: 14, iperf3: 1 });
    assert.deepEqual(f.veth?.vsOvsNormal2Host, { tcpBw: 1, tcpLat: 0.1, iperf3: 1 });
    const table = formatTable(f);
    assert.match(table, /\| netloom-vlan \| 75\.0 \| 1\.50x \| 1\.40x \|/);
    assert.match(table, /\| ovs-normal-2host \| 50\.0 \| 1\.00x \| 1\.00x \|/);
    assert.doesNotMatch(table, /\| veth \| [\d.]+ \| —/);
  });

  it("rates the netloom VXLAN paths against two switches joined by OVS's own VXLAN tunnel, keeping the tx-off two-switch ratio", () => {
    const s = (bw: number, lat: number, ip: number): Sample => ({ tcpBwBps: bw * 1e9, tcpLatUs: lat, iperf3Bps: ip * 1e9 });
    const base = new Map<PathName, Sample[]>([
      ['netloom-vxlan', [s(0.6, 150, 0.5)]],
      ['netloom-vxlan-policy', [s(0.3, 300, 0.4)]],
      ['netloom-vlan', [s(2, 100, 2)]],
      ['ovs-normal-2host-txoff', [s(1, 100, 1)]],
    ]);
    const without = summarize(base);
    assert.equal(without['netloom-vxlan']?.vsOvsVxlan2Host, null, 'not measured: null');
    assert.equal(without['netloom-vlan']?.vsOvsVxlan2Host, undefined, 'a VLAN path has no such ratio');
    assert.doesNotMatch(formatTable(without), /ovs-vxlan-2host/);
    const f = summarize(new Map([...base, ['ovs-vxlan-2host', [s(0.75, 120, 0.8)]]]));
    assert.deepEqual(f['netloom-vxlan']?.vsOvsVxlan2Host, { tcpBw: 0.8, tcpLat: 1.25, iperf3: 0.63 });
    assert.deepEqual(f['netloom-vxlan-policy']?.vsOvsVxlan2Host, { tcpBw: 0.4, tcpLat: 2.5, iperf3: 0.5 });
    assert.equal(f['netloom-vlan']?.vsOvsVxlan2Host, undefined);
    assert.equal(f['ovs-vxlan-2host']?.vsOvsVxlan2Host, undefined);
    // the old ratio stays, and the tunnel reference itself is rated against the same switches without a tunnel
    assert.deepEqual(f['netloom-vxlan']?.vsOvsNormal2Host, { tcpBw: 0.6, tcpLat: 1.5, iperf3: 0.5 });
    assert.equal(f['ovs-vxlan-2host']?.ovs2HostReference, 'ovs-normal-2host-txoff');
    assert.deepEqual(f['ovs-vxlan-2host']?.vsOvsNormal2Host, { tcpBw: 0.75, tcpLat: 1.2, iperf3: 0.8 });
    const table = formatTable(f);
    assert.match(table, /\| path \| tcp_bw \/ ovs-vxlan-2host \| tcp_lat \/ ovs-vxlan-2host \| iperf3 \/ ovs-vxlan-2host \|/);
    assert.match(table, /\| netloom-vxlan \| 0\.80x \| 1\.25x \| 0\.63x \|/);
    assert.match(table, /\| netloom-vxlan-policy \| 0\.40x \| 2\.50x \| 0\.50x \|/);
    assert.deepEqual(parseDataplaneArgs(['--paths', 'ovs-vxlan-2host,netloom-vxlan']).paths, ['netloom-vxlan', 'ovs-vxlan-2host']);
  });

  it('lays the VXLAN reference out in its own namespaces, directories and subnets', () => {
    const v = ovsVxlanLayout();
    const others = [ovsLayout(false), ovsLayout(true)];
    const taken = new Set(others.flatMap((l) => [l.ovsNs, ...l.hostNs, ...l.ctrNs, ...l.dirs]));
    for (const x of [...v.hostNs, ...v.ctrNs, ...v.dirs]) assert.ok(!taken.has(x), `${x} is another path's`);
    for (const x of [...v.hostNs, ...v.ctrNs]) assert.match(x, /^dp/, 'cleanupStale and the smoke test find dp* namespaces');
    const octets = others.flatMap((l) => [l.octet, l.octet + 1]);
    assert.ok(!octets.includes(Number(v.ctrNet.split('.')[1])), "the containers' subnet is its own");
    assert.notEqual(v.ctrNet, v.vtepNet);
  });

  it('rates a policy path against the same path without policy', () => {
    const s = (bw: number, lat: number, ip: number): Sample => ({ tcpBwBps: bw * 1e9, tcpLatUs: lat, iperf3Bps: ip * 1e9 });
    const f = summarize(
      new Map<PathName, Sample[]>([
        ['netloom-vlan', [s(0.5, 100, 0.5)]],
        ['netloom-vlan-policy', [s(0.45, 120, 0.5)]],
        ['netloom-vxlan-policy', [s(0.4, 100, 0.4)]],
      ]),
    );
    assert.deepEqual(f['netloom-vlan-policy']?.vsNoPolicy, { tcpBw: 0.9, tcpLat: 1.2, iperf3: 1 });
    assert.equal(f['netloom-vxlan-policy']?.vsNoPolicy, null);
    assert.match(formatTable(f), /\| netloom-vlan-policy \| 0\.90x \| 1\.20x \| 1\.00x \|/);
    assert.doesNotMatch(formatTable(f), /netloom-vxlan-policy \| [0-9.]+x \|/);
  });

  it('rates the egress path through NAT against the same path routed without NAT', () => {
    const s = (bw: number, lat: number, ip: number): Sample => ({ tcpBwBps: bw * 1e9, tcpLatUs: lat, iperf3Bps: ip * 1e9 });
    const f = summarize(
      new Map<PathName, Sample[]>([
        ['netloom-egress', [s(0.5, 100, 0.5)]],
        ['netloom-egress-nat', [s(0.48, 105, 0.45)]],
      ]),
    );
    assert.deepEqual(f['netloom-egress-nat']?.vsNoNat, { tcpBw: 0.96, tcpLat: 1.05, iperf3: 0.9 });
    assert.equal(f['netloom-egress']?.vsNoNat, undefined);
    assert.match(formatTable(f), /\| netloom-egress-nat \| 0\.96x \| 1\.05x \| 0\.90x \|/);
    assert.equal(summarize(new Map<PathName, Sample[]>([['netloom-egress-nat', [s(1, 1, 1)]]]))['netloom-egress-nat']?.vsNoNat, null);
  });

  it('rates the service path against the same path directly to a provider', () => {
    const s = (bw: number, lat: number, ip: number): Sample => ({ tcpBwBps: bw * 1e9, tcpLatUs: lat, iperf3Bps: ip * 1e9 });
    const f = summarize(
      new Map<PathName, Sample[]>([
        ['netloom-service-direct', [s(0.5, 200, 0.4), s(0.3, 100, 0.6), s(0.4, 300, 0.5)]],
        ['netloom-service', [s(0.38, 210, 0.5)]],
      ]),
    );
    assert.deepEqual(f['netloom-service']?.vsDirect, { tcpBw: 0.95, tcpLat: 1.05, iperf3: 1 });
    assert.equal(f['netloom-service-direct']?.vsDirect, undefined);
    assert.match(formatTable(f), /\| tcp_bw \/ direct \(goal >= 0\.9x\) \| tcp_lat \/ direct \(goal <= 1\.1x\) \|/);
    assert.match(formatTable(f), /\| netloom-service \| 0\.95x \| 1\.05x \| 1\.00x \|/);
    assert.equal(summarize(new Map<PathName, Sample[]>([['netloom-service', [s(1, 1, 1)]]]))['netloom-service']?.vsDirect, null);
    assert.deepEqual(parseDataplaneArgs(['--paths', 'netloom-service-direct,netloom-service']).paths, [
      'netloom-service',
      'netloom-service-direct',
    ]);
  });

  it('takes the medians of the connection-rate rounds, their ratio and the failures', () => {
    const r = (svc: number, dir: number, failed = 0) => ({
      service: { perSecond: svc, ok: 300 - failed, failed },
      direct: { perSecond: dir, ok: 300, failed: 0 },
    });
    assert.equal(summarizeRates([]), null);
    const f = summarizeRates([r(800, 1000), r(600, 1200, 2), r(900.4, 900)]);
    assert.deepEqual(f, {
      servicePerSecond: 800,
      directPerSecond: 1000,
      ratio: 0.8,
      roundRatios: [0.8, 0.5, 1],
      failed: { service: 2, direct: 0 },
      rounds: 3,
    });
    const text = formatRates(f!);
    assert.match(text, /service \/ direct \(goal >= 0\.8x\)/);
    assert.match(text, /\| median of 3 \| 800 \| 1000 \| 0\.80x \| 0\.80x, 0\.50x, 1\.00x \|/);
    assert.match(text, /failed connections: 2 through the service, 0 direct/);
    assert.doesNotMatch(formatRates(summarizeRates([r(1, 1)])!), /failed/);
    assert.equal(summarizeRates([r(5, 0)])?.ratio, 0);
  });

  it('puts the service with its 3 providers and ports in the fabric; the providers answer from one namespace', () => {
    const st = parseHostState(
      fabricState([
        { name: 'host1', dataIp: '10.213.3.1' },
        { name: 'host2', dataIp: '10.213.3.2' },
      ]),
    );
    assert.equal(st.services.length, 1);
    const svc = st.services[0]!;
    assert.equal(svc.ip, SERVICE.ip);
    assert.equal(svc.network, 'dp:sv');
    assert.deepEqual(
      svc.providers.map((p) => [p.endpointId, p.ip]),
      [
        ['ep-sp1', '10.60.5.11'],
        ['ep-sp2', '10.60.5.12'],
        ['ep-sp3', '10.60.5.13'],
      ],
    );
    // every provider is an endpoint of the service's network on host2 (the clients are on host1)
    for (const p of svc.providers)
      assert.deepEqual(
        st.endpoints.filter((e) => e.id === p.endpointId).map((e) => [e.network, e.host]),
        [['dp:sv', 'host2']],
      );
    // qperf's control and fixed test port, iperf3's, and the connect loop's translated port
    assert.deepEqual(
      svc.ports.map((p) => `${p.port}:${p.targetPort}`),
      [
        '19765:19765',
        `${SERVICE.qperfDataPort}:${SERVICE.qperfDataPort}`,
        '5201:5201',
        `${SERVICE.connectPort}:${SERVICE.connectTargetPort}`,
      ],
    );
    const cmds = gatherProviders([
      { name: 'sp1', ip: '10.60.5.11' },
      { name: 'sp2', ip: '10.60.5.12' },
    ]).map(([ns, argv]) => `${ns ?? '-'} ${argv.join(' ')}`);
    assert.deepEqual(cmds, [
      `${PROVIDER_NS} sysctl -qw net.ipv4.conf.all.rp_filter=0`,
      `- ip -n ${PROVIDER_NS} route replace 10.60.5.0/24 dev eth0 src 10.60.5.11 table 100`,
      `- ip -n ${PROVIDER_NS} rule add from 10.60.5.11 table 100`,
      '- ip -n dpc-sp2 link set eth0 down',
      '- ip -n dpc-sp2 link set eth0 name eth1',
      `- ip -n dpc-sp2 link set eth1 netns ${PROVIDER_NS}`,
      `- ip -n ${PROVIDER_NS} link set eth1 up`,
      `- ip -n ${PROVIDER_NS} addr add 10.60.5.12/24 dev eth1`,
      `- ip -n ${PROVIDER_NS} route replace 10.60.5.0/24 dev eth1 src 10.60.5.12 table 101`,
      `- ip -n ${PROVIDER_NS} rule add from 10.60.5.12 table 101`,
    ]);
  });

  it('plugs only the containers of the paths measured (each is a port its switch polls), every service container with a service path', () => {
    const names = (paths: string[]) => containersFor(paths).map((c) => c.name);
    assert.deepEqual(names(['netloom-vlan', 'netloom-vxlan', 'ovs-normal-2host', 'veth']), ['vl1', 'vl2', 'vx1', 'vx2']);
    assert.deepEqual(names(['netloom-vlan-policy']), ['vlp1', 'vlp2']);
    assert.deepEqual(names(['netloom-egress-nat']), ['eg1']);
    assert.deepEqual(names(['netloom-service']), ['sv1', 'sv2', 'sp1', 'sp2', 'sp3']);
    assert.deepEqual(names(['ovs-normal', 'veth']), []);
    // every netloom path: all of them plug every container, and each path's ends are containers (or the tor)
    const all = ALL_PATHS.filter((p) => p.startsWith('netloom-') && !isBgpPath(p) && !isSwarmPath(p));
    assert.deepEqual(all, Object.keys(PATH_ENDS));
    assert.deepEqual(
      names(all),
      CONTAINERS.map((c) => c.name),
    );
    for (const p of all)
      for (const end of PATH_ENDS[p] ?? []) assert.ok(end === 'tor' || CONTAINERS.some((c) => c.name === end), `${p}: ${end}`);
  });

  it('writes a fabric the agent accepts: a VLAN and a VXLAN network, the egress networks with and without NAT, both VTEPs', () => {
    const st = parseHostState(
      fabricState([
        { name: 'host1', dataIp: '10.213.3.1' },
        { name: 'host2', dataIp: '10.213.3.2' },
      ]),
    );
    assert.deepEqual(
      st.networks.map((n) => [n.key, n.encap, n.nat]),
      [
        ['dp:vl', 'vlan', true],
        ['dp:vx', 'vxlan', true],
        ['dp:eg', 'vxlan', true],
        ['dp:en', 'vxlan', false],
        ['dp:sv', 'vxlan', true],
      ],
    );
    assert.equal(st.endpoints.length, 15);
    // the policy containers: their group's 100-rule policy, evaluated on both hosts
    assert.deepEqual(
      st.groups.map((g) => [g.key, g.network, g.policies]),
      [
        ['dp:polvl', 'vl', ['p-polvl']],
        ['dp:polvx', 'vx', ['p-polvx']],
      ],
    );
    assert.deepEqual(
      st.policies.map((p) => p.rules.length),
      [100, 100],
    );
    assert.equal(st.endpoints.filter((e) => e.group !== '').length, 4);
    assert.deepEqual(
      policyRules('g').filter((r) => r.action === 'allow'),
      [{ ruleId: 'allow-group', direction: 'in', priority: 90, action: 'allow', fromGroup: 'dp:g' }],
    );
    assert.deepEqual(
      st.vteps.map((v) => v.vtepIp),
      ['10.213.3.1', '10.213.3.2'],
    );
  });
});
