import { strict as assert } from 'node:assert';
import { Counter, Histogram, Registry } from 'prom-client';
import { parseMetricsText, reconcileProfile } from '../../../bench/support/agent-profile';

describe('bench: the agent reconcile profile', () => {
  it('reads prom-client output and gives runs, triggers and phase means per cycle between two scrapes', async () => {
    const registry = new Registry();
    const runs = new Histogram({ name: 'netplugin_reconcile_duration_seconds', help: 'h', labelNames: ['result'], registers: [registry] });
    const phase = new Histogram({ name: 'netplugin_reconcile_phase_seconds', help: 'h', labelNames: ['phase'], registers: [registry] });
    const triggers = new Counter({ name: 'netplugin_reconcile_triggers_total', help: 'h', labelNames: ['reason'], registers: [registry] });
    runs.observe({ result: 'ok' }, 1);
    phase.observe({ phase: 'apply' }, 1);
    triggers.inc({ reason: 'state' }, 7);
    const before = parseMetricsText(await registry.metrics());
    for (const s of [0.01, 0.03]) runs.observe({ result: 'ok' }, s);
    runs.observe({ result: 'error' }, 5);
    for (const s of [0.004, 0.006]) phase.observe({ phase: 'apply' }, s);
    phase.observe({ phase: 'purge' }, 0.001);
    triggers.inc({ reason: 'state' }, 3);
    triggers.inc({ reason: 'attach' }, 1);
    const after = parseMetricsText(await registry.metrics());
    const p = reconcileProfile(before, after, 2);
    assert.equal(p.runsPerCycle, 1);
    assert.equal(p.meanRunMs, 20);
    assert.deepEqual(p.triggersPerCycle, { state: 1.5, attach: 0.5 });
    assert.deepEqual(p.phaseMeanMs, { apply: 5, purge: 1 });
    assert.deepEqual(p.addStepMeanMs, {});
    assert.deepEqual(p.requestMeanMs, {});
  });

  it('skips comments, blank lines and values that are not numbers', () => {
    const m = parseMetricsText('# HELP x y\n\nx{a="1"} 2\ny NaN\nz 3 1700000000\n');
    assert.deepEqual(
      [...m],
      [
        ['x{a="1"}', 2],
        ['z', 3],
      ],
    );
  });
});
