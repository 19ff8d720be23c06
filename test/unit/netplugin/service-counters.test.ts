/**
 * Per-provider service counters (reconcile/service-counters.ts) from the fake switch's flow stats
 * over a computed pipeline: serviceDnat packets are connections, both provider flows add to
 * packets and bytes, every port of a service sums into one counter per provider, zeros included.
 */
import { strict as assert } from 'node:assert';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { desiredMeters, meterConfig } from '../../../netplugin/pipeline/meters';
import { desiredGroups } from '../../../netplugin/pipeline/services';
import { GroupReconciler } from '../../../netplugin/reconcile/group-reconciler';
import { MeterReconciler } from '../../../netplugin/reconcile/meter-reconciler';
import { applyToSwitch } from '../../../netplugin/reconcile/switch-apply';
import { table } from '../../../netplugin/pipeline/tables';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import { parseProviderObject, readServiceCounters } from '../../../netplugin/reconcile/service-counters';
import type { HostState, ServiceLB } from '../../../netplugin/state/host-state';
import { FakeSwitch } from '../../support/fake-switch';
import { clusterState, endpoint, hostInput, spanFor } from '../pipeline/fixture';

const WEB: ServiceLB = {
  key: 'blue:websvc',
  tenant: 'blue',
  network: 'blue:web',
  ip: '10.1.1.100',
  ports: [
    { port: 80, targetPort: 8080, protocol: 'tcp' },
    { port: 53, targetPort: 53, protocol: 'udp' },
  ],
  providers: [
    { endpointId: 'a2', ip: endpoint('a2').ip },
    { endpointId: 'a3', ip: endpoint('a3').ip },
  ],
};

describe('service counters', () => {
  it('names service and provider from a flow object', () => {
    assert.deepEqual(parseProviderObject('blue:websvc:tcp/80>a2'), { service: 'blue:websvc', endpointId: 'a2' });
    assert.equal(parseProviderObject('blue:websvc:tcp/80'), undefined);
    assert.equal(parseProviderObject('a2:service-mac'), undefined);
  });

  it('sums both provider flows over the ports; serviceDnat packets are the connections', async () => {
    const sw = new FakeSwitch();
    const state: HostState = { ...clusterState(), services: [WEB] };
    const input = hostInput('h1', spanFor('h1', state));
    const flows = computePipeline(input);
    const r = new FlowReconciler(sw);
    await applyToSwitch(
      { flows: r, meters: new MeterReconciler(sw), groups: new GroupReconciler(sw) },
      flows,
      desiredMeters(input).map(meterConfig),
      desiredGroups(input),
    );
    for (const f of sw.flows.values()) {
      if (f.tableId === table('serviceDnat')) {
        f.packetCount = 3;
        f.byteCount = 180;
      } else if (f.tableId === table('serviceEndpoint') && f.priority === 90) {
        f.packetCount = 10;
        f.byteCount = 1000;
      }
    }
    // a3 (10.1.1.12) got nothing
    const a3 = (m: (typeof sw.flows extends Map<string, infer F> ? F : never)['match'][number]) =>
      (m.field === 'ipv4_dst' && m.value === '10.1.1.12') || (m.field === 'reg6' && m.value === 0x0a01010c);
    for (const f of sw.flows.values())
      if (f.match.some(a3)) {
        f.packetCount = 0;
        f.byteCount = 0;
      }
    const counters = await readServiceCounters({ dumpFlows: (filter) => sw.flowStats(filter) }, r.installedFlows());
    assert.deepEqual(counters, [
      { service: 'blue:websvc', endpointId: 'a2', packets: 26n, bytes: 2360n, connections: 6n },
      { service: 'blue:websvc', endpointId: 'a3', packets: 0n, bytes: 0n, connections: 0n },
    ]);
  });

  it('asks nothing when no provider flow is installed', async () => {
    const counters = await readServiceCounters(
      {
        dumpFlows: () => {
          throw new Error('asked');
        },
      },
      computePipeline(hostInput('h1')),
    );
    assert.deepEqual(counters, []);
  });
});
