/** The stream metrics read the engine's and the fan-out's counts when scraped. */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { FanOut } from '../../../netmaster/agent/fan-out';
import { registerStreamMetrics } from '../../../netmaster/agent/stream-metrics';
import { ViewEngine } from '../../../netmaster/agent/view-engine';
import { ClusterBuilder } from './fixtures';

describe('agent API stream metrics', () => {
  it('report streams, views and the work done since the last scrape', async () => {
    const b = new ClusterBuilder().global('bridge').tenant('t1').network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24');
    b.endpoint('a1', 't1', 'web', 'hostA', '10.1.0.2').takeChanges();
    const views = new ViewEngine(() => b.state);
    const fanOut = new FanOut({ revision: () => b.state.revision, progressMs: 0 });
    const registry = new Registry();
    registerStreamMetrics(registry, { streams: () => 3, views, fanOut });
    views.track('hostA', { dirty: new Set(), notify: () => undefined });
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    views.apply(b.takeChanges());
    const text = await registry.metrics();
    assert.match(text, /^netmaster_agent_streams 3$/m);
    assert.match(text, /^netmaster_agent_views 1$/m);
    assert.match(text, /^netmaster_agent_view_endpoint_checks_total [1-9]\d*$/m);
    const checks = Number(/^netmaster_agent_view_endpoint_checks_total (\d+)$/m.exec(text)?.[1]);
    assert.equal(checks, views.stats.endpointChecks);
    fanOut.stop();
  });
});
