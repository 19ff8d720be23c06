/**
 * Prometheus metrics of the agent's BGP speaker, read from it at each scrape (one ListPeer, one
 * ListPath and one `ip route` per scrape): sessions by state, paths announced, routes installed
 * (protocol 80), and whether gobgpd answers.
 */
import { Gauge, type Registry } from 'prom-client';
import type { SpeakerStatus } from './bgp-speaker';

const STATES = ['IDLE', 'CONNECT', 'ACTIVE', 'OPENSENT', 'OPENCONFIRM', 'ESTABLISHED'] as const;

/** Register the BGP gauges on `registry`; `status` is the speaker's (bgp-speaker.ts). */
export function registerBgpMetrics(registry: Registry, status: () => Promise<SpeakerStatus>): void {
  // one status per scrape, shared by the gauges that read it (they are collected one after another)
  let pending: Promise<SpeakerStatus> | undefined;
  const read = (): Promise<SpeakerStatus> => {
    pending ??= status().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'netplugin_bgp_sessions',
    help: "BGP sessions of this host's gobgpd by state",
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const s = await read();
      for (const st of STATES) this.set({ state: st }, s.neighbors.filter((n) => n.state === st).length);
    },
  });
  new Gauge({
    name: 'netplugin_bgp_paths_announced',
    help: 'Prefixes this host announces (blocks of routed networks, /32s of endpoints outside them)',
    registers: [registry],
    async collect() {
      this.set((await read()).announced.length);
    },
  });
  new Gauge({
    name: 'netplugin_bgp_routes_installed',
    help: 'Routes learned by BGP installed in the kernel (protocol 80)',
    registers: [registry],
    async collect() {
      this.set((await read()).installed.length);
    },
  });
  new Gauge({
    name: 'netplugin_bgp_up',
    help: '1 when this host has BGP settings and its gobgpd answers',
    registers: [registry],
    async collect() {
      this.set((await read()).running ? 1 : 0);
    },
  });
}
