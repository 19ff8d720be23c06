/**
 * Properties of computePipeline as a whole: deterministic, no two flows with one key, every flow
 * encodable as an OpenFlow 1.3 flow_mod (prerequisites, widths, goto forward), a table-miss flow in
 * every table, tunnels only to hosts that share a network, and feature-level details (classifier
 * registers, MTU helper).
 */
import { strict as assert } from 'node:assert';
import { checkedPipeline } from './checked-pipeline';
import { indexFlows, addMessage } from '../../../netplugin/reconcile/flow-diff';
import { flowKey } from '../../../netplugin/reconcile/flow-key';
import { PIPELINE, table } from '../../../netplugin/pipeline/tables';
import { endpointMtu } from '../../../netplugin/pipeline/mtu';
import { decodeMessage, encodeMessage } from '../../../ovs/openflow/codec';
import { checkPrerequisites } from '../../../ovs/openflow/oxm';
import type { HostState } from '../../../netplugin/state/host-state';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { clusterState, Fabric, HostName, HOSTS, hostInput, pkt, portOf, spanFor, VXLAN } from './fixture';

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function shuffledState(st: HostState, seed: number): HostState {
  return {
    ...st,
    tenants: shuffled(st.tenants, seed),
    networks: shuffled(st.networks, seed + 1),
    groups: shuffled(st.groups, seed + 2),
    endpoints: shuffled(st.endpoints, seed + 3),
    vteps: shuffled(st.vteps, seed + 4),
  };
}

/** Every string and number in a flow's instructions, for "does any flow mention X" checks. */
function mentions(flows: DesiredFlow[], value: string): DesiredFlow[] {
  return flows.filter((f) =>
    JSON.stringify(f.instructions, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes(value),
  );
}

const MODES = [
  { fwdMode: 'bridge', arpMode: 'proxy' },
  { fwdMode: 'routing', arpMode: 'proxy' },
  { fwdMode: 'bridge', arpMode: 'flood' },
  { fwdMode: 'routing', arpMode: 'flood' },
] as const;

describe('computePipeline', () => {
  for (const mode of MODES) {
    describe(`${mode.fwdMode}/${mode.arpMode}`, () => {
      for (const host of Object.keys(HOSTS) as HostName[]) {
        it(`${host}: deterministic, order-independent, no duplicate keys, every flow encodable`, () => {
          const st = spanFor(host, clusterState(mode));
          const flows = checkedPipeline(hostInput(host, st));
          assert.deepEqual(checkedPipeline(hostInput(host, st)), flows, 'same input, same flows');
          assert.deepEqual(checkedPipeline(hostInput(host, shuffledState(st, 7))), flows, 'input order does not matter');
          const idx = indexFlows(flows);
          assert.equal(idx.size, flows.length, 'no two flows share a key');
          for (const f of flows) {
            checkPrerequisites(f.match, `${f.feature}/${f.object}`);
            const msg = addMessage(f, 3);
            const back = decodeMessage(encodeMessage(msg));
            assert.equal(back.type, 'flow_mod');
            if (back.type === 'flow_mod')
              assert.equal(
                flowKey({ table: back.tableId, priority: back.priority, match: back.match }),
                flowKey(f),
                'the key survives the wire',
              );
            for (const ins of f.instructions)
              if (ins.type === 'goto_table') assert.ok(ins.tableId > f.table, `goto forward from ${f.table}`);
            assert.ok(
              PIPELINE.some((t) => t.id === f.table),
              `table ${f.table} is declared`,
            );
          }
          for (const t of PIPELINE)
            assert.ok(
              flows.some((f) => f.table === t.id && f.priority === 0 && f.match.length === 0),
              `miss flow in ${t.name}`,
            );
        });
      }
    });
  }

  it('reserved tables hold only their miss flow', () => {
    const flows = checkedPipeline(hostInput('h1'));
    for (const t of PIPELINE.filter((x) => x.reserved)) {
      assert.deepEqual(
        flows.filter((f) => f.table === t.id).map((f) => f.priority),
        [0],
        t.name,
      );
    }
  });

  it('the classifier loads network, tenant, group and the local flag for a local port', () => {
    const r = new Fabric().trace('h1', pkt.to('a1', 'a3'));
    const out = r.outputs[0]!;
    assert.deepEqual(out.regs.slice(0, 6), [1, 11, 11, 1, 0, 4], 'reg0 blue:web, reg1 front, reg2 front (a3), reg3 blue, reg5 local');
    assert.deepEqual(
      r.steps.map((s) => s.tableName),
      [
        'classifier',
        'spoofguard',
        'egressQos',
        'arp',
        'gateway',
        'srcGroup',
        'serviceLB',
        'dstClassify',
        'conntrack',
        'ctState',
        'egressPolicy',
        'ingressPolicy',
        'ctCommit',
        'l3Forward',
        'l2Forward',
      ],
    );
  });

  it('a packet from another host gets its source group from its IP', () => {
    const f = new Fabric();
    const { deliveries } = f.send('h2', pkt.to('a2', 'a1'));
    assert.equal(deliveries.length, 1);
    assert.deepEqual(deliveries[0]!.out.regs.slice(0, 6), [1, 11, 11, 1, 0, 1], 'reg1 from the source IP, reg5 from the tunnel');
  });

  describe('tunnels go only to hosts that share a network', () => {
    it('bridge mode: even given every VTEP and every endpoint, h1 never tunnels to h3 (which shares no network with it)', () => {
      const flows = checkedPipeline(hostInput('h1', clusterState()));
      assert.deepEqual(mentions(flows, HOSTS.h3), []);
      assert.ok(mentions(flows, HOSTS.h2).length > 0 && mentions(flows, HOSTS.h4).length > 0, 'but it does tunnel to h2 and h4');
      // and h4, which only shares blue:web, never tunnels blue:db or red traffic anywhere
      const h4 = checkedPipeline(hostInput('h4', clusterState()));
      const toH1 = mentions(h4, HOSTS.h1);
      assert.ok(toH1.length > 0);
      assert.ok(
        toH1.every((f) => mentions([f], '"value":"5001"').length === 1),
        'only blue:web (VNI 5001) goes to h1',
      );
    });

    it('routing mode: a tenant network without local endpoints is reached through routing only', () => {
      const flows = checkedPipeline(hostInput('h1', clusterState({ fwdMode: 'routing' })));
      const toH3 = mentions(flows, HOSTS.h3);
      assert.deepEqual(
        toH3.map((f) => [f.table, f.object]),
        [[table('l2Forward'), 'x3']],
        'blue routes to x3 on h3: one unicast flow, no flooding to h3',
      );
      const red = checkedPipeline(hostInput('h3', clusterState({ fwdMode: 'routing' })));
      assert.deepEqual(
        mentions(red, '6001').filter((f) => f.table === table('l2Forward')),
        [],
        'h3 has no red endpoint: no red tunnels',
      );
    });
  });

  it('a local endpoint that is not plugged yet gets no port flows, and nothing breaks', () => {
    const input = hostInput('h1');
    const ports = { ...input.local.ports };
    delete ports.a3;
    const flows = checkedPipeline({ state: input.state, local: { ...input.local, ports } });
    assert.deepEqual(
      flows.filter(
        (f) => f.object === 'a3' && f.table !== table('arp') && f.table !== table('dstClassify') && f.table !== table('l3Forward'),
      ),
      [],
    );
    assert.ok(!mentions(flows, `"port":${portOf('a3')}`).length);
  });

  it('with no VXLAN port, VXLAN networks stay local to the host', () => {
    const input = hostInput('h1');
    const flows = checkedPipeline({ state: input.state, local: { ...input.local, bridge: { uplink: 1 } } });
    assert.deepEqual(mentions(flows, `"port":${VXLAN}`), []);
    assert.ok(
      flows.some((f) => f.object === 'a3' && f.table === table('l2Forward')),
      'local delivery still works',
    );
  });
});

describe('endpointMtu', () => {
  it('is 1450 for VXLAN and 1500 for VLAN on a 1500 underlay, and a configured MTU only lowers it', () => {
    assert.equal(endpointMtu({ key: 't:n', encap: 'vxlan', mtu: 0 }), 1450);
    assert.equal(endpointMtu({ key: 't:n', encap: 'vlan', mtu: 0 }), 1500);
    assert.equal(endpointMtu({ key: 't:n', encap: 'vxlan', mtu: 9000 }, 9000), 8950);
    assert.equal(endpointMtu({ key: 't:n', encap: 'vxlan', mtu: 1400 }), 1400);
    assert.equal(endpointMtu({ key: 't:n', encap: 'vxlan', mtu: 9000 }), 1450);
    assert.throws(() => endpointMtu({ key: 't:n', encap: 'vxlan', mtu: 0 }, 600), /below 576/);
  });
});
