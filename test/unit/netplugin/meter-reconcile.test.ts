/**
 * The meter reconciler against a fake switch with OVS's meter semantics (test/support/fake-switch.ts),
 * driven as the agent drives it (applyToSwitch: meters added/modified, flow bundle, meters
 * deleted) with pipelines computed from the pipeline fixture: first apply, a live profile change,
 * a detach, an agent restart (no change) and an OVS restart (all re-added).
 */
import { strict as assert } from 'node:assert';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { desiredMeters, egressMeterId, ingressMeterId, meterConfig } from '../../../netplugin/pipeline/meters';
import { diffMeters, MeterReconciler } from '../../../netplugin/reconcile/meter-reconciler';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import { applyToSwitch } from '../../../netplugin/reconcile/switch-apply';
import type { HostState } from '../../../netplugin/state/host-state';
import { FakeSwitch } from '../../support/fake-switch';
import { clusterState, hostInput, portOf, spanFor } from '../pipeline/fixture';

function inputOf(state: HostState): PipelineInput {
  return hostInput('h1', spanFor('h1', state));
}

function gold(state: HostState, over: Partial<HostState['profiles'][number]>): HostState {
  return { ...state, profiles: state.profiles.map((p) => (p.key === 'blue:gold' ? { ...p, ...over } : p)) };
}

class Agentish {
  readonly flows: FlowReconciler;
  readonly meters: MeterReconciler;
  constructor(readonly sw: FakeSwitch) {
    this.flows = new FlowReconciler(sw);
    this.meters = new MeterReconciler(sw);
  }
  apply(state: HostState): Promise<{ messages: number }> {
    const input = inputOf(state);
    return applyToSwitch(this, computePipeline(input), desiredMeters(input).map(meterConfig));
  }
}

const A1_OUT = egressMeterId(portOf('a1'));
const A1_IN = ingressMeterId(portOf('a1'));

describe('meter reconciler', () => {
  it('diffs desired against installed meters: adds, modifies (flags or bands), deletes', () => {
    const m = (id: number, rate: number) => ({ flags: 13, meterId: id, bands: [{ type: 'drop' as const, rate, burstSize: rate }] });
    const d = diffMeters(
      new Map([
        [1, m(1, 10)],
        [2, m(2, 20)],
        [3, m(3, 30)],
      ]),
      new Map([
        [2, m(2, 25)],
        [3, m(3, 30)],
        [4, m(4, 40)],
      ]),
    );
    assert.deepEqual(d, { adds: [m(1, 10)], modifies: [m(2, 20)], deletes: [4] });
  });

  it('adds the meters before the flow bundle that names them (OVS refuses the flows otherwise)', async () => {
    const sw = new FakeSwitch();
    await new Agentish(sw).apply(clusterState());
    const meters = desiredMeters(inputOf(clusterState()));
    assert.deepEqual(sw.log.slice(0, meters.length + 2), [
      'dump meters',
      ...meters.map((m) => `meter add ${m.meterId}`),
      `bundle ${sw.bundles[0]!.length}`,
    ]);
    assert.deepEqual(
      [...sw.meters.keys()].sort((a, b) => a - b),
      meters.map((m) => m.meterId),
    );
    // without them the same flows are refused
    const bare = new FakeSwitch();
    await assert.rejects(new FlowReconciler(bare).apply(computePipeline(inputOf(clusterState()))), /INVALID_METER/);
  });

  it('a profile change modifies its meters in place and sends no flow', async () => {
    const sw = new FakeSwitch();
    const agent = new Agentish(sw);
    await agent.apply(clusterState());
    sw.log = [];
    await agent.apply(gold(clusterState(), { bandwidthKbps: 40000, burstKb: 1250 }));
    const ids = desiredMeters(inputOf(clusterState()))
      .filter((m) => /^a[13]:/.test(m.object))
      .map((m) => `meter modify ${m.meterId}`);
    assert.deepEqual(sw.log, ids, 'four meters modified, no bundle, nothing deleted');
    assert.deepEqual(sw.meters.get(A1_OUT)?.bands, [{ type: 'drop', rate: 40000, burstSize: 10000 }], '1250 kbytes are 10000 kbit');
  });

  it('detaching the profile replaces the flows first and deletes the meters after', async () => {
    const sw = new FakeSwitch();
    const agent = new Agentish(sw);
    await agent.apply(clusterState());
    const flowsBefore = sw.flows.size;
    sw.log = [];
    const detached = {
      ...clusterState(),
      groups: clusterState().groups.map((g) => (g.key === 'blue:front' ? { ...g, netProfile: '' } : g)),
    };
    await agent.apply(detached);
    assert.match(sw.log[0]!, /^bundle /);
    assert.deepEqual(
      sw.log.slice(1),
      desiredMeters(inputOf(clusterState()))
        .filter((m) => /^a[13]:/.test(m.object))
        .map((m) => `meter delete ${m.meterId}`),
    );
    assert.ok(!sw.meters.has(A1_OUT) && !sw.meters.has(A1_IN));
    // the l2Forward flows to a1/a3 were replaced (not deleted with their meters): only the 4 egressQos flows are gone
    assert.equal(sw.flows.size, flowsBefore - 4);
  });

  it('after an agent restart reads the meters on the switch and changes nothing', async () => {
    const sw = new FakeSwitch();
    await new Agentish(sw).apply(clusterState());
    sw.log = [];
    await new Agentish(sw).apply(clusterState());
    assert.deepEqual(
      sw.log.filter((l) => l.startsWith('meter') || l === 'dump meters'),
      ['dump meters'],
    );
  });

  it('after an OVS restart (invalidate on reconnect) adds every meter again before the flows', async () => {
    const sw = new FakeSwitch();
    const agent = new Agentish(sw);
    await agent.apply(clusterState());
    sw.restart();
    agent.flows.invalidate();
    agent.meters.invalidate();
    sw.log = [];
    await agent.apply(clusterState());
    const meters = desiredMeters(inputOf(clusterState()));
    assert.deepEqual(sw.log, ['dump meters', ...meters.map((m) => `meter add ${m.meterId}`), `bundle ${sw.bundles.at(-1)!.length}`]);
    assert.equal(sw.meters.size, meters.length);
  });

  it('a rejected meter mod fails the run, keeps the flows untouched, and the next run reads the switch again', async () => {
    const sw = new FakeSwitch();
    const agent = new Agentish(sw);
    sw.failMeterOn = (m) => m.meterId === A1_IN;
    await assert.rejects(agent.apply(clusterState()), /rejected/);
    assert.equal(sw.bundles.length, 0, 'no flow bundle after a failed meter step');
    assert.equal(agent.meters.stats.failures, 1);
    sw.failMeterOn = undefined;
    sw.log = [];
    await agent.apply(clusterState());
    assert.equal(sw.log[0], 'dump meters');
    assert.ok(!sw.log.includes(`meter add ${A1_OUT}`), 'the meter added before the failure is not added twice');
    assert.ok(sw.log.includes(`meter add ${A1_IN}`));
  });
});
