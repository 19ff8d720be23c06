/** Agent metrics: the followed netmaster replica and the failover count come from the probe at every scrape. */
import { strict as assert } from 'node:assert';
import { createAgentMetrics } from '../../../netplugin/agent/metrics';

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
});
