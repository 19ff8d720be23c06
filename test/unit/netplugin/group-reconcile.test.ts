/**
 * The group reconciler against a fake switch with OVS's group semantics (test/support/fake-switch.ts),
 * driven as the agent drives it (applyToSwitch: groups added/modified, flow bundle, groups deleted)
 * with pipelines computed from the pipeline fixture plus a service: first apply, a provider leaving,
 * the service removed, an agent restart (no group message) and an OVS restart (all re-added). And
 * the comparison by meaning (OVS may report a load in another encoding than the one sent).
 */
import { strict as assert } from 'node:assert';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { desiredMeters, meterConfig } from '../../../netplugin/pipeline/meters';
import { desiredGroups, serviceMeters } from '../../../netplugin/pipeline/services';
import { canonicalAction, diffGroups, GroupReconciler, sameGroup } from '../../../netplugin/reconcile/group-reconciler';
import { MeterReconciler } from '../../../netplugin/reconcile/meter-reconciler';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import { applyToSwitch } from '../../../netplugin/reconcile/switch-apply';
import type { HostState, ServiceLB } from '../../../netplugin/state/host-state';
import type { GroupDesc } from '../../../ovs/openflow/messages';
import { FakeSwitch } from '../../support/fake-switch';
import { clusterState, endpoint, hostInput, spanFor } from '../pipeline/fixture';

const WEB: ServiceLB = {
  key: 'blue:websvc',
  tenant: 'blue',
  network: 'blue:web',
  ip: '10.1.1.100',
  ports: [{ port: 80, targetPort: 8080, protocol: 'tcp' }],
  providers: [
    { endpointId: 'a2', ip: endpoint('a2').ip },
    { endpointId: 'a3', ip: endpoint('a3').ip },
  ],
};

function inputOf(services: ServiceLB[]): PipelineInput {
  const state: HostState = { ...clusterState(), services };
  return hostInput('h1', spanFor('h1', state));
}

class Agentish {
  readonly flows: FlowReconciler;
  readonly meters: MeterReconciler;
  readonly groups: GroupReconciler;
  constructor(readonly sw: FakeSwitch) {
    this.flows = new FlowReconciler(sw);
    this.meters = new MeterReconciler(sw);
    this.groups = new GroupReconciler(sw);
  }
  apply(services: ServiceLB[]): Promise<{ messages: number }> {
    const input = inputOf(services);
    return applyToSwitch(
      this,
      computePipeline(input),
      [...desiredMeters(input).map(meterConfig), ...serviceMeters(input)],
      desiredGroups(input),
    );
  }
}

const groupLog = (sw: FakeSwitch) => sw.log.filter((l) => l.includes('group') || l.startsWith('bundle'));

describe('group reconciler', () => {
  it('adds the groups before the flow bundle that names them (OVS refuses the flows otherwise)', async () => {
    const sw = new FakeSwitch();
    await new Agentish(sw).apply([WEB]);
    const ids = [...sw.groups.keys()].sort((a, b) => a - b);
    assert.equal(ids.length, 2, "the service port's group and a3's hairpin group");
    assert.deepEqual(groupLog(sw).slice(0, 3), ['dump groups', ...ids.map((id) => `group add ${id}`)]);
    assert.match(groupLog(sw)[3]!, /^bundle /);
    assert.equal(sw.groups.get(ids[0]!)?.buckets.length, 2);
  });

  it('a provider leaving modifies the group in place; the service removed deletes it after the flows', async () => {
    const sw = new FakeSwitch();
    const a = new Agentish(sw);
    await a.apply([WEB]);
    const [id, hairpin] = [...sw.groups.keys()].sort((x, y) => x - y) as [number, number];
    sw.log = [];
    await a.apply([{ ...WEB, providers: [WEB.providers[0]!] }]); // a3 leaves
    assert.equal(groupLog(sw)[0], `group modify ${id}`);
    assert.match(groupLog(sw)[1]!, /^bundle /, "then the bundle deleting a3's flows");
    assert.equal(groupLog(sw)[2], `group delete ${hairpin}`, "then a3's hairpin group, which no flow names any more");
    assert.equal(sw.groups.get(id)?.buckets.length, 1);
    sw.log = [];
    await a.apply([]);
    const log = groupLog(sw);
    assert.match(log[0]!, /^bundle /);
    assert.equal(log[1], `group delete ${id}`);
    assert.equal(sw.groups.size, 0);
  });

  it('a restarted agent sends nothing for unchanged groups; a restarted OVS gets them all again', async () => {
    const sw = new FakeSwitch();
    await new Agentish(sw).apply([WEB]);
    const before = JSON.stringify([...sw.groups.values()]);
    sw.log = [];
    await new Agentish(sw).apply([WEB]);
    assert.deepEqual(
      sw.log.filter((l) => l.startsWith('group')),
      [],
      'no group mod after an agent restart',
    );
    assert.equal(JSON.stringify([...sw.groups.values()]), before);
    sw.restart();
    const a = new Agentish(sw);
    await a.apply([WEB]);
    assert.equal(sw.groups.size, 2);
    assert.ok(sw.flows.size > 0);
  });

  it('compares loads by meaning: set_field, reg_load and reg_load2 of the same bits are one group', () => {
    const g = desiredGroups(inputOf([WEB]))[0]!;
    const asRegLoad: GroupDesc = {
      ...g,
      buckets: g.buckets.map((b) => ({
        ...b,
        actions: b.actions.map((a) =>
          a.type === 'set_field' && a.field.field !== 'raw' && typeof a.field.value === 'number'
            ? { type: 'reg_load' as const, dst: { field: a.field.field, ofs: 0, nBits: 32 }, value: BigInt(a.field.value) }
            : a,
        ),
      })),
    };
    assert.ok(sameGroup(g, asRegLoad));
    assert.equal(
      canonicalAction({ type: 'reg_load2', field: { field: 'reg6', value: 5, mask: 0xffffffff } }),
      canonicalAction({ type: 'set_field', field: { field: 'reg6', value: 5 } }),
    );
    assert.notEqual(
      canonicalAction({ type: 'reg_load', dst: { field: 'reg7', ofs: 0, nBits: 16 }, value: 5n }),
      canonicalAction({ type: 'set_field', field: { field: 'reg7', value: 5 } }),
      'a partial load is not a whole one',
    );
    const other: GroupDesc = { ...g, buckets: [g.buckets[1]!, g.buckets[0]!] };
    assert.ok(!sameGroup(g, other), 'bucket order matters');
    assert.deepEqual(diffGroups(new Map([[g.groupId, g]]), new Map([[g.groupId, asRegLoad]])), { adds: [], modifies: [], deletes: [] });
  });

  it('a failed group mod makes the next prepare read the switch again', async () => {
    const sw = new FakeSwitch();
    const r = new GroupReconciler(sw);
    const g = desiredGroups(inputOf([WEB]))[0]!;
    sw.groups.set(g.groupId, g); // behind the reconciler's back
    await r.prepare([g]);
    assert.equal(r.stats.adds, 0, 'found on the switch: nothing to add');
    r.invalidate();
    sw.groups.clear();
    await r.prepare([g]);
    assert.equal(r.stats.adds, 1);
    assert.equal(r.stats.resyncs, 2);
  });
});
