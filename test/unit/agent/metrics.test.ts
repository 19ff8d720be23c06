/** Agent metrics: the followed netmaster replica and the failover count come from the probe at every scrape. */
import { strict as assert } from 'node:assert';
import { createAgentMetrics, type IpamProbe } from '../../../netplugin/agent/metrics';

describe('agent metrics', () => {
  it('netplugin_netmaster_replica marks the followed replica only; failovers follow the client', async () => {
    const m = createAgentMetrics();
    let probe = { replica: '10.0.0.1:9001', failovers: 0 };
    m.replicaProbe = () => probe;
    let text = await m.registry.metrics();
    assert.match(text, /netplugin_netmaster_replica\{address="10\.0\.0\.1:9001"\} 1/);
    assert.match(text, /netplugin_netmaster_failovers 0/);
    probe = { replica: '10.0.0.2:9001', failovers: 1 };
    text = await m.registry.metrics();
    assert.match(text, /netplugin_netmaster_replica\{address="10\.0\.0\.2:9001"\} 1/);
    assert.doesNotMatch(text, /address="10\.0\.0\.1:9001"/, 'the replica left is no longer listed');
    assert.match(text, /netplugin_netmaster_failovers 1/);
    probe = { replica: '', failovers: 1 };
    assert.doesNotMatch(await m.registry.metrics(), /netplugin_netmaster_replica\{/, 'no series while following none');
  });

  it('without a netmaster control plane (file fabric) there are no replica series', async () => {
    assert.doesNotMatch(await createAgentMetrics().registry.metrics(), /netplugin_netmaster_replica\{/);
  });

  it('the address-block gauges follow the allocator at every scrape, one series per network or outcome', async () => {
    const m = createAgentMetrics();
    let probe: IpamProbe = { blocks: { 't:a': 2, 't:b': 1 }, free: { 't:a': 40, 't:b': 60 }, pending: 3, rejected: { CONFLICT: 1 } };
    m.ipamProbe = () => probe;
    let text = await m.registry.metrics();
    for (const line of [
      'netplugin_ipam_blocks{network="t:a"} 2',
      'netplugin_ipam_blocks{network="t:b"} 1',
      'netplugin_ipam_free_addresses{network="t:a"} 40',
      'netplugin_ipam_registrations_pending 3',
      'netplugin_ipam_registrations_refused{outcome="CONFLICT"} 1',
    ])
      assert.ok(text.includes(line), line);
    probe = { blocks: { 't:a': 3 }, free: { 't:a': 100 }, pending: 0, rejected: { CONFLICT: 1, NOT_OWNER: 2 } };
    text = await m.registry.metrics();
    assert.ok(text.includes('netplugin_ipam_blocks{network="t:a"} 3'));
    assert.ok(!text.includes('network="t:b"'), 'a network whose blocks went is no longer listed');
    assert.ok(text.includes('netplugin_ipam_registrations_refused{outcome="NOT_OWNER"} 2'));
  });
});
