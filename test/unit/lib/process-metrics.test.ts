/** collectProcessMetrics: Node's process metrics, with an event loop delay sampler that does not wake the process 100 times a second. */
import { strict as assert } from 'node:assert';
import perfHooks from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { collectProcessMetrics, EVENT_LOOP_SAMPLE_MS } from '../../../lib/process-metrics';

describe('lib collectProcessMetrics', () => {
  it('samples the event loop delay every EVENT_LOOP_SAMPLE_MS (>= 100 ms), not prom-client’s 10 ms, and registers the process metrics', async () => {
    const original = perfHooks.monitorEventLoopDelay;
    const resolutions: (number | undefined)[] = [];
    // prom-client looks the function up on the module when it collects: record what it asks for
    perfHooks.monitorEventLoopDelay = (opts) => {
      resolutions.push(opts?.resolution);
      return original(opts);
    };
    try {
      const registry = new Registry();
      collectProcessMetrics(registry);
      assert.deepEqual(resolutions, [EVENT_LOOP_SAMPLE_MS]);
      assert.ok(EVENT_LOOP_SAMPLE_MS >= 100);
      const text = await registry.metrics();
      for (const m of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
        assert.match(text, new RegExp(`^${m} `, 'm'), m);
      }
    } finally {
      perfHooks.monitorEventLoopDelay = original;
    }
  });
});
