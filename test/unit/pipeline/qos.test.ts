/**
 * QoS from netprofiles in the pipeline (netplugin/pipeline/meters.ts, features/qos.ts, the ingress
 * meter in l2-forward.ts): which meters a host needs, the egressQos flows, what a traced packet
 * passes, and what a profile change or detach changes (meters in place, no re-plug).
 */
import { strict as assert } from 'node:assert';
import { desiredMeters, egressMeterId, ingressMeterId, meterConfig, METER_FLAGS } from '../../../netplugin/pipeline/meters';
import { table } from '../../../netplugin/pipeline/tables';
import { diffFlows, indexFlows } from '../../../netplugin/reconcile/flow-diff';
import type { HostState } from '../../../netplugin/state/host-state';
import { isNetloomError } from '../../../lib/errors';
import { checkedPipeline } from './checked-pipeline';
import { ClusterFabric, clusterState, Fabric, HOSTS, hostInput, pkt, portOf, spanFor, VXLAN } from './fixture';
import { receivedAs, TraceResult } from '../../support/packet-tracer';

/** The meters a traced packet passed, in order (the tracer records them, it does not rate-limit). */
function metersOf(r: TraceResult): number[] {
  return r.steps.flatMap((s) => (s.meterId === undefined ? [] : [s.meterId]));
}

function withProfile(state: HostState, key: string, over: Partial<HostState['profiles'][number]>): HostState {
  return { ...state, profiles: state.profiles.map((p) => (p.key === key ? { ...p, ...over } : p)) };
}

function withGroupProfile(state: HostState, group: string, netProfile: string): HostState {
  return { ...state, groups: state.groups.map((g) => (g.key === group ? { ...g, netProfile } : g)) };
}

function h1(state: HostState = clusterState()) {
  return hostInput('h1', spanFor('h1', state));
}

describe('QoS from netprofiles', () => {
  it('gives each plugged local endpoint whose profile has a bandwidth an egress (2p) and ingress (2p+1) meter', () => {
    const a1 = portOf('a1');
    const a3 = portOf('a3');
    const r1 = portOf('r1');
    assert.deepEqual(desiredMeters(h1()), [
      // blue:gold's burst is 625 kbytes: 5000 kbit
      { meterId: 2 * a1, kbps: 20000, burstKbit: 5000, object: 'a1:egress' },
      { meterId: 2 * a1 + 1, kbps: 20000, burstKbit: 5000, object: 'a1:ingress' },
      { meterId: 2 * a3, kbps: 20000, burstKbit: 5000, object: 'a3:egress' },
      { meterId: 2 * a3 + 1, kbps: 20000, burstKbit: 5000, object: 'a3:ingress' },
      // red:slow gives no burst: one second of its rate
      { meterId: 2 * r1, kbps: 1000, burstKbit: 1000, object: 'r1:egress' },
      { meterId: 2 * r1 + 1, kbps: 1000, burstKbit: 1000, object: 'r1:ingress' },
    ]);
    assert.deepEqual(meterConfig(desiredMeters(h1())[0]!), {
      flags: METER_FLAGS,
      meterId: 2 * a1,
      bands: [{ type: 'drop', rate: 20000, burstSize: 5000 }],
    });
  });

  it('no meter for an endpoint that is not plugged yet, nor for remote endpoints', () => {
    const input = h1();
    const { a1: _gone, ...ports } = input.local.ports;
    const meters = desiredMeters({ ...input, local: { ...input.local, ports } });
    assert.ok(!meters.some((m) => m.object.startsWith('a1:')));
    assert.ok(!meters.some((m) => m.object.startsWith('a2:')), 'a2 is on h2');
  });

  it('egressQos: meter and DSCP for IPv4, meter only for the rest; DSCP only without bandwidth; meter only without DSCP', () => {
    const flows = checkedPipeline(h1()).filter((f) => f.table === table('egressQos') && f.priority > 0);
    const show = flows.map((f) => ({ object: f.object, priority: f.priority, match: f.match.map((m) => m.field), ins: f.instructions }));
    const arp = { type: 'goto_table', tableId: table('arp') };
    const dscp = (v: number) => ({ type: 'apply_actions', actions: [{ type: 'set_field', field: { field: 'ip_dscp', value: v } }] });
    const meter = (id: number) => ({ type: 'meter', meterId: id });
    assert.deepEqual(show, [
      { object: 'a1', priority: 110, match: ['in_port', 'eth_type'], ins: [meter(egressMeterId(portOf('a1'))), dscp(46), arp] },
      { object: 'a1', priority: 100, match: ['in_port'], ins: [meter(egressMeterId(portOf('a1'))), arp] },
      { object: 'a3', priority: 110, match: ['in_port', 'eth_type'], ins: [meter(egressMeterId(portOf('a3'))), dscp(46), arp] },
      { object: 'a3', priority: 100, match: ['in_port'], ins: [meter(egressMeterId(portOf('a3'))), arp] },
      { object: 'b1', priority: 110, match: ['in_port', 'eth_type'], ins: [dscp(10), arp] },
      { object: 'r1', priority: 100, match: ['in_port'], ins: [meter(egressMeterId(portOf('r1'))), arp] },
    ]);
    assert.ok(flows.every((f) => f.feature === 'qos'));
  });

  it('a local packet passes the sender egress meter and the receiver ingress meter, and leaves marked', () => {
    const r = new Fabric().trace('h1', pkt.to('a1', 'a3'));
    assert.deepEqual(metersOf(r), [egressMeterId(portOf('a1')), ingressMeterId(portOf('a3'))]);
    assert.equal(r.outputs[0]!.port, portOf('a3'));
    assert.equal(r.outputs[0]!.packet.ip_dscp, 46);
  });

  it('across VXLAN: marked and metered on the sender host, through the ingress meter on the receiver host', () => {
    const fabric = new Fabric();
    const first = fabric.trace('h1', pkt.to('a1', 'a2'));
    assert.deepEqual(metersOf(first), [egressMeterId(portOf('a1'))]);
    const o = first.outputs[0]!;
    assert.equal(o.port, VXLAN);
    assert.equal(o.packet.ip_dscp, 46, 'on the inner header (the VXLAN port copies it outside: tos=inherit)');
    const onH2 = fabric.trace('h2', receivedAs(o, VXLAN, { tunSrc: HOSTS.h1 }));
    assert.deepEqual(metersOf(onH2), [ingressMeterId(portOf('a2'))]);
    assert.deepEqual(
      onH2.outputs.map((x) => [x.port, x.packet.ip_dscp]),
      [[portOf('a2'), 46]],
    );
  });

  it('ARP from a metered endpoint passes its meter but is not marked; a DSCP-only profile meters nothing', () => {
    const f = new Fabric();
    assert.deepEqual(metersOf(f.trace('h1', pkt.arpRequest('a1', '10.1.1.12'))), [egressMeterId(portOf('a1'))]);
    const b = f.send('h1', pkt.to('b1', 'b2'));
    assert.deepEqual(metersOf(b.first), []);
    assert.equal(b.first.outputs[0]!.packet.ip_dscp, 10);
  });

  it('a profile change modifies the meters in place: same ids, no flow changes unless the DSCP changes', () => {
    const before = clusterState();
    const faster = withProfile(before, 'blue:gold', { bandwidthKbps: 40000, burstKb: 1250 });
    const m0 = desiredMeters(h1(before));
    const m1 = desiredMeters(h1(faster));
    assert.deepEqual(
      m1.map((m) => m.meterId),
      m0.map((m) => m.meterId),
    );
    assert.deepEqual([m1.find((m) => m.object === 'a1:egress')!.kbps, m1.find((m) => m.object === 'a1:egress')!.burstKbit], [40000, 10000]);
    assert.deepEqual(diffFlows(indexFlows(checkedPipeline(h1(faster))), indexFlows(checkedPipeline(h1(before)))), {
      upserts: [],
      deletes: [],
    });
    const remarked = withProfile(before, 'blue:gold', { dscp: 34 });
    const d = diffFlows(indexFlows(checkedPipeline(h1(remarked))), indexFlows(checkedPipeline(h1(before))));
    assert.deepEqual(d.deletes, []);
    assert.deepEqual(
      d.upserts.map((f) => `${f.table}:${f.object}:${f.priority}`),
      [`${table('egressQos')}:a1:110`, `${table('egressQos')}:a3:110`],
    );
  });

  it('detaching the profile removes the meters, the egressQos flows and the ingress meter instruction; nothing else', () => {
    const before = clusterState();
    const detached = withGroupProfile(before, 'blue:front', '');
    assert.ok(!desiredMeters(h1(detached)).some((m) => m.object.startsWith('a')));
    const d = diffFlows(indexFlows(checkedPipeline(h1(detached))), indexFlows(checkedPipeline(h1(before))));
    assert.deepEqual(d.deletes.map((f) => `${f.table}:${f.object}:${f.priority}`).sort(), [
      `${table('egressQos')}:a1:100`,
      `${table('egressQos')}:a1:110`,
      `${table('egressQos')}:a3:100`,
      `${table('egressQos')}:a3:110`,
    ]);
    assert.deepEqual(
      d.upserts.map((f) => `${f.table}:${f.object}:${f.instructions.map((i) => i.type).join('+')}`),
      [`${table('l2Forward')}:a1:apply_actions`, `${table('l2Forward')}:a3:apply_actions`],
    );
  });

  it('a group naming a profile the state does not hold (yet) gets no QoS rather than failing the pipeline', () => {
    const state = withGroupProfile(clusterState(), 'blue:front', 'missing');
    assert.ok(!desiredMeters(h1(state)).some((m) => m.object.startsWith('a')));
    const r = new ClusterFabric(state, { h1: HOSTS.h1 }).trace('h1', pkt.to('a1', 'a3'));
    assert.deepEqual(metersOf(r), []);
    assert.equal(r.outputs[0]!.packet.ip_dscp, undefined);
  });

  it('refuses a profile whose DSCP, rate or burst does not fit, naming the field', () => {
    const badDscp = withProfile(clusterState(), 'blue:gold', { dscp: 64 });
    assert.throws(
      () => desiredMeters(h1(badDscp)),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'profiles[0].dscp',
    );
    const badRate = withProfile(clusterState(), 'blue:gold', { bandwidthKbps: 2 ** 32 });
    assert.throws(
      () => checkedPipeline(h1(badRate)),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'profiles[0].bandwidthKbps',
    );
    // netmaster's largest burst (536870911 kbytes) still fits as kbit, one more does not
    assert.doesNotThrow(() => desiredMeters(h1(withProfile(clusterState(), 'blue:gold', { burstKb: 536870911 }))));
    assert.throws(
      () => desiredMeters(h1(withProfile(clusterState(), 'blue:gold', { burstKb: 536870912 }))),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'profiles[0].burstKb',
    );
  });
});
