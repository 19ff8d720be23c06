/**
 * Prometheus metrics of the desired-state side of one agent server, read when scraped: open
 * streams, host views kept, streams waiting to send, and the work done (host parts recomputed,
 * endpoint layers rebuilt, single endpoint checks, flushes, progress marks) which should follow
 * the changes made, never the size of the cluster.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FanOut } from './fan-out';
import type { ViewEngine } from './view-engine';

export function registerStreamMetrics(registry: Registry, src: { streams: () => number; views: ViewEngine; fanOut: FanOut }): void {
  const registers = [registry];
  new Gauge({
    name: 'netmaster_agent_streams',
    help: 'Open desired-state streams',
    registers,
    collect() {
      this.set(src.streams());
    },
  });
  new Gauge({
    name: 'netmaster_agent_views',
    help: 'Host views kept (hosts with an open stream)',
    registers,
    collect() {
      this.set(src.views.hosts);
    },
  });
  new Gauge({
    name: 'netmaster_agent_fanout_backlog',
    help: 'Streams with changes waiting for their turn to send',
    registers,
    collect() {
      this.set(src.fanOut.backlog);
    },
  });
  /** a counter that mirrors one of the in-process counts */
  const mirror = (name: string, help: string, read: () => number) => {
    let last = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  mirror('netmaster_agent_view_host_parts_total', 'Host parts of views recomputed', () => src.views.stats.hostParts);
  mirror(
    'netmaster_agent_view_endpoint_layers_total',
    'Endpoint layers of views rebuilt from their sources',
    () => src.views.stats.endpointLayers,
  );
  mirror('netmaster_agent_view_endpoint_checks_total', 'Single endpoints checked in a view', () => src.views.stats.endpointChecks);
  mirror(
    'netmaster_agent_view_batches_merged_total',
    'etcd batches applied together with an earlier one (coalesced under load)',
    () => src.views.stats.merged,
  );
  mirror('netmaster_agent_stream_flushes_total', 'Groups of changes sent (or found empty) by the fan-out', () => src.fanOut.stats.flushes);
  mirror('netmaster_agent_stream_progress_marks_total', 'Progress marks sent to idle streams', () => src.fanOut.stats.progressMarks);
}
