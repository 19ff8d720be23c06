/**
 * Node's own process metrics (CPU, memory, handles, GC, event loop delay) for a daemon's registry.
 * prom-client samples the event loop delay every 10 ms by default: a timer that wakes an idle agent
 * a hundred times a second, and on a host whose switch forwards in userspace every wakeup competes
 * with the packets for the CPU. Ten samples a second still give a scrape interval's percentiles.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

export const EVENT_LOOP_SAMPLE_MS = 100;

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}
