/**
 * The agent's side of netctl trace on a real Open vSwitch: netloom's own pipeline with its policy
 * backend (computePipeline for a host with two local endpoints and one remote, Contiv policies on
 * their groups, installed through the FlowReconciler): group g1 (a) has p1 with out rules r1 allow
 * tcp/80 to g2 and r2 deny tcp/22 to g2; group g2 (b) has p2 with in rules in80 allow tcp/80 from
 * g1 and noudp deny udp from anyone. traceOnHost runs the real ofproto/trace and must name the
 * right rule for allowed and denied packets (a deny goes on to ctCommit, which drops it), follow
 * conntrack, and read tunnel outputs and arrivals.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { OfConnection, connectSwitch } from '../../../ovs/openflow';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import type { HostState } from '../../../netplugin/state/host-state';
import { traceOnHost, type HostTraceResult } from '../../../netplugin/trace/host-trace';
import type { TracePacket } from '../../../netplugin/trace/trace-flow';
import { OfxBridge, startBridge, stopBridge, vsctl } from '../ovs/openflow-lab';

const VXLAN_PORT = 10;
const MAC = { a: '02:00:0a:3d:00:02', b: '02:00:0a:3d:00:03', r: '02:00:0a:3d:00:09' };
const IP = { a: '10.61.0.2', b: '10.61.0.3', r: '10.61.0.9' };

function endpoint(id: 'a' | 'b' | 'r', host: string, group: string): HostState['endpoints'][number] {
  return {
    id,
    network: 't1:n1',
    group,
    host,
    ip: IP[id],
    ipv6: '',
    mac: MAC[id],
    intfName: `tr-${id}`,
    vtepIp: host === 'h1' ? '10.213.61.1' : '10.213.61.2',
    containerId: '',
    containerName: id,
    labels: {},
    revision: 1,
  };
}

function rule(
  ruleId: string,
  direction: 'in' | 'out',
  action: string,
  protocol: string,
  port: number,
  peer: string,
): HostState['policies'][number]['rules'][number] {
  return {
    ruleId,
    direction,
    priority: 1,
    action,
    protocol,
    port,
    fromGroup: direction === 'in' ? peer : '',
    toGroup: direction === 'out' ? peer : '',
    fromNetwork: '',
    toNetwork: '',
    fromIp: '',
    toIp: '',
  };
}

const STATE: HostState = {
  global: { fwdMode: 'bridge', arpMode: 'proxy', pvtSubnet: '', networkInfraType: 'default' },
  tenants: [{ name: 't1', ctZone: 61, vrfId: 61 }],
  networks: [
    {
      key: 't1:n1',
      tenant: 't1',
      name: 'n1',
      encap: 'vxlan',
      pktTag: 6100,
      subnet: '10.61.0.0/24',
      gateway: '10.61.0.1',
      ipv6Subnet: '',
      ipv6Gateway: '',
      nwType: 'data',
      networkId: 1,
      gatewayMac: '02:6e:6c:00:00:fe',
      mtu: 0,
    },
  ],
  groups: [
    { key: 't1:g1', tenant: 't1', name: 'g1', network: 't1:n1', groupId: 5, policies: ['p1'], netProfile: '', pktTag: 0 },
    { key: 't1:g2', tenant: 't1', name: 'g2', network: 't1:n1', groupId: 6, policies: ['p2'], netProfile: '', pktTag: 0 },
  ],
  policies: [
    {
      key: 't1:p1',
      tenant: 't1',
      name: 'p1',
      rules: [rule('r1', 'out', 'allow', 'tcp', 80, 't1:g2'), rule('r2', 'out', 'deny', 'tcp', 22, 't1:g2')],
    },
    {
      key: 't1:p2',
      tenant: 't1',
      name: 'p2',
      rules: [rule('in80', 'in', 'allow', 'tcp', 80, 't1:g1'), rule('noudp', 'in', 'deny', 'udp', 0, '')],
    },
  ],
  profiles: [],
  endpoints: [endpoint('a', 'h1', 't1:g1'), endpoint('b', 'h1', 't1:g2'), endpoint('r', 'h2', '')],
  vteps: [{ host: 'h2', vtepIp: '10.213.61.2' }],
  services: [],
};

describe('agent trace on a real OVS (ofproto/trace through netloom pipeline and policy flows)', function () {
  this.timeout(60_000);
  let b: OfxBridge | undefined;
  let conn: OfConnection | undefined;
  let reconciler: FlowReconciler;
  const ports: Record<string, number> = {};

  before(async () => {
    b = await startBridge('trace');
    for (const [id, ofport] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      await run('ip', ['-n', b.ns, 'link', 'add', `tr-${id}`, 'type', 'veth', 'peer', 'name', `tr-${id}x`]);
      await run('ip', ['-n', b.ns, 'link', 'set', `tr-${id}`, 'up']);
      await vsctl(b, ['add-port', 'br0', `tr-${id}`, '--', 'set', 'Interface', `tr-${id}`, `ofport_request=${ofport}`]);
      ports[id] = ofport;
    }
    await vsctl(b, [
      'add-port',
      'br0',
      'tr-vxlan',
      '--',
      'set',
      'Interface',
      'tr-vxlan',
      'type=vxlan',
      'options:key=flow',
      'options:remote_ip=flow',
      `ofport_request=${VXLAN_PORT}`,
    ]);
    conn = await connectSwitch(b.mgmt, { timeoutMs: 10_000 });
    reconciler = new FlowReconciler(conn);
    const flows = computePipeline({
      state: STATE,
      local: {
        hostName: 'h1',
        vtepIp: '10.213.61.1',
        ports: { a: { ofport: 1, intfName: 'tr-a' }, b: { ofport: 2, intfName: 'tr-b' } },
        bridge: { vxlan: VXLAN_PORT },
      },
    });
    await reconciler.apply(flows);
  });

  after(async () => {
    conn?.close();
    await stopBridge(b);
  });

  function trace(p: Partial<TracePacket>): Promise<HostTraceResult> {
    const bridge = b!;
    const packet: TracePacket = {
      protocol: 'tcp',
      srcIp: IP.a,
      dstIp: IP.b,
      srcMac: MAC.a,
      dstMac: MAC.b,
      srcNetwork: 't1:n1',
      dstNetwork: 't1:n1',
      srcPort: 0,
      dstPort: 80,
      ttl: 0,
      arrival: 'endpoint',
      srcEndpoint: 'a',
      tunId: 0n,
      tunSrc: '',
      tunDst: '',
      vlan: 0,
      ...p,
    };
    const byPort = new Map(Object.entries(ports).map(([id, n]) => [n, id]));
    return traceOnHost(
      packet,
      {
        endpointPort: (id) => ports[id],
        endpointOnPort: (n) => byPort.get(n),
        vxlanPort: VXLAN_PORT,
        uplinkPort: undefined,
        gatewayMac: () => STATE.networks[0]!.gatewayMac,
        objectOf: (f, h) => reconciler.objectOf(f, h),
      },
      {
        host: 'h1',
        ovsRunDir: bridge.inst.runDir,
        bridge: 'br0',
        vtepIp: '10.213.61.1',
        runner: (cmd, args, o) => run(cmd, args, { ...o, netns: bridge.ns }),
        vswitchdPid: () => readFileSync(`${bridge.inst.runDir}/ovs-vswitchd.pid`, 'utf8'),
      },
    );
  }

  const summary = (r: HostTraceResult) => r.decisions.map((d) => `${d.direction} ${d.action} ${d.object}`);

  it('allowed: rule t1:p1/r1 in egressPolicy, t1:p2/in80 in ingressPolicy, delivered to b', async () => {
    const r = await trace({});
    assert.deepEqual(summary(r), ['egress allow t1:p1/r1', 'ingress allow t1:p2/in80'], r.raw);
    const egress = r.decisions[0]!;
    assert.deepEqual([egress.tenant, egress.policy, egress.ruleId], ['t1', 'p1', 'r1']);
    assert.deepEqual(
      r.outputs.map((o) => [o.kind, o.endpoint]),
      [['endpoint', 'b']],
    );
    assert.equal(r.dropped, false);
    // named steps, conntrack followed (a second pass after ct)
    assert.deepEqual([r.steps[0]!.tableName, r.steps[0]!.feature, r.steps[0]!.object], ['classifier', 'classifier', 'a']);
    assert.ok(
      r.steps.some((s) => s.pass === 1 && s.tableName === 'ctCommit'),
      r.raw,
    );
    assert.match(
      r.flow,
      /^in_port=1,tcp,dl_src=02:00:0a:3d:00:02,dl_dst=02:00:0a:3d:00:03,nw_src=10.61.0.2,nw_dst=10.61.0.3,nw_ttl=64,tcp_src=40000,tcp_dst=80,tcp_flags=syn$/,
    );
  });

  it('denied: rule t1:p1/r2 in egressPolicy (the packet is dropped in ctCommit)', async () => {
    const r = await trace({ dstPort: 22 });
    assert.deepEqual(summary(r), ['egress deny t1:p1/r2'], r.raw);
    assert.equal(r.dropped, true);
    assert.equal(r.steps.at(-1)!.tableName, 'ctCommit', r.raw);
  });

  it('denied on ingress: rule t1:p2/noudp (udp)', async () => {
    const r = await trace({ protocol: 'udp', dstPort: 53 });
    assert.deepEqual(summary(r), ['ingress deny t1:p2/noudp'], r.raw);
    assert.equal(r.dropped, true);
    assert.match(r.flow, /,udp_src=40000,udp_dst=53$/);
  });

  it('icmp: no rule matches, it passes by the table-miss flows', async () => {
    const r = await trace({ protocol: 'icmp', dstPort: 0 });
    assert.deepEqual(summary(r), [], r.raw);
    assert.deepEqual(
      r.outputs.map((o) => o.endpoint),
      ['b'],
    );
  });

  it('to a remote endpoint: output to the VXLAN port with the VNI and its VTEP, no policy decided', async () => {
    const r = await trace({ dstIp: IP.r, dstMac: MAC.r });
    assert.deepEqual(summary(r), [], r.raw);
    assert.deepEqual(
      r.outputs.map((o) => [o.kind, o.port, o.tunId, o.tunDst]),
      [['tunnel', VXLAN_PORT, 6100n, '10.213.61.2']],
    );
    assert.deepEqual([r.dlDst, r.ttl, r.tunSrc], [MAC.r, 64, '10.213.61.1']);
  });

  it('arriving from the tunnel: starts at the VXLAN port; the ingress rules of b decide there (udp denied, tcp/80 passes)', async () => {
    const from = {
      arrival: 'tunnel' as const,
      srcEndpoint: '',
      srcIp: IP.r,
      srcMac: MAC.r,
      tunId: 6100n,
      tunSrc: '10.213.61.2',
      tunDst: '10.213.61.1',
    };
    const udp = await trace({ ...from, protocol: 'udp', dstPort: 53 });
    assert.match(udp.flow, /^in_port=10,tun_id=6100,tun_src=10.213.61.2,tun_dst=10.213.61.1,udp,/);
    assert.deepEqual([udp.steps[0]!.feature, udp.steps[0]!.object], ['tunnel', 't1:n1'], udp.raw);
    assert.deepEqual(summary(udp), ['ingress deny t1:p2/noudp'], udp.raw);
    // r is in no group: in80 (from g1) does not match, no rule does, the packet passes
    const tcp = await trace(from);
    assert.deepEqual(summary(tcp), [], tcp.raw);
    assert.equal(tcp.outputs[0]?.endpoint, 'b', tcp.raw);
  });

  it('bad requests fail with a clear error before or from OVS', async () => {
    await assert.rejects(trace({ srcEndpoint: 'nope' }), /endpoint 'nope' is not plugged/);
    await assert.rejects(trace({ srcIp: '10.61.0' }), /srcIp must be a dotted-quad/);
    await assert.rejects(trace({ arrival: 'uplink', vlan: 5 }), /no VLAN uplink/);
  });
});
