/**
 * How the pipeline changes when the state changes, as the reconciler will see it: flow keys are
 * stable, so one new endpoint is a handful of upserts touching only its own flows and the floods of
 * its network, and removing it again deletes exactly those.
 */
import { strict as assert } from 'node:assert';
import { checkedPipeline } from './checked-pipeline';
import { diffFlows, indexFlows } from '../../../netplugin/reconcile/flow-diff';
import { clusterState, ENDPOINTS, hostInput, spanFor } from './fixture';
import type { HostState } from '../../../netplugin/state/host-state';

function flowsOf(state: HostState) {
  return indexFlows(checkedPipeline(hostInput('h1', spanFor('h1', state))));
}

describe('pipeline changes', () => {
  for (const fwdMode of ['bridge', 'routing'] as const) {
    it(`${fwdMode}: a new remote endpoint adds only its own flows and updates its network's flood`, () => {
      const before = clusterState({ fwdMode });
      const a5 = {
        ...ENDPOINTS.find((e) => e.id === 'a2')!,
        id: 'a5',
        ip: '10.1.1.15',
        mac: '02:00:00:00:01:0f',
        host: 'h2',
        intfName: 'veth-a5',
      };
      const after = { ...before, endpoints: [...before.endpoints, a5] };
      const d = diffFlows(flowsOf(after), flowsOf(before));
      assert.deepEqual(d.deletes, []);
      const objects = d.upserts.map((f) => `${f.table}:${f.object}`).sort();
      const expected = ['20:a5', '30:a5', '40:a5', '100:a5', ...(fwdMode === 'routing' ? ['90:a5'] : [])].sort();
      assert.deepEqual(objects, expected, 'ARP responder, source group, destination group, unicast (+ route); h2 already gets the flood');
      const back = diffFlows(flowsOf(before), flowsOf(after));
      assert.deepEqual(back.upserts, []);
      assert.deepEqual(back.deletes.map((f) => `${f.table}:${f.object}`).sort(), expected);
    });
  }

  it('an endpoint on a new host adds that VTEP to the flood of its network only', () => {
    const before = clusterState();
    const a6 = {
      ...ENDPOINTS.find((e) => e.id === 'a2')!,
      id: 'a6',
      ip: '10.1.1.16',
      mac: '02:00:00:00:01:10',
      host: 'h5',
      intfName: 'veth-a6',
      vtepIp: '192.168.0.5',
    };
    const after = { ...before, endpoints: [...before.endpoints, a6], vteps: [...before.vteps, { host: 'h5', vtepIp: '192.168.0.5' }] };
    const d = diffFlows(flowsOf(after), flowsOf(before));
    assert.deepEqual(d.deletes, []);
    assert.deepEqual(
      d.upserts.map((f) => `${f.table}:${f.object}`).sort(),
      ['100:a6', '100:blue:web:flood-local', '20:a6', '30:a6', '40:a6'].sort(),
    );
  });

  it('plugging a local endpoint adds its classifier, spoofguard, QoS and delivery flows and updates the floods', () => {
    const st = spanFor('h1', clusterState());
    const full = hostInput('h1', st);
    const ports = { ...full.local.ports };
    delete ports.a3;
    const unplugged = indexFlows(checkedPipeline({ state: full.state, local: { ...full.local, ports } }));
    const d = diffFlows(indexFlows(checkedPipeline(full)), unplugged);
    assert.deepEqual(d.deletes, []);
    assert.deepEqual(
      d.upserts.map((f) => `${f.table}:${f.object}`).sort(),
      ['0:a3', '10:a3', '10:a3', '15:a3', '15:a3', '100:a3', '100:blue:web:flood-local', '100:blue:web:flood-remote'].sort(),
    );
  });
});
