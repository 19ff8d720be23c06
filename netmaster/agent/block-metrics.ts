/**
 * Prometheus metrics of address blocks (issue 15): blocks claimed per network and per host (read
 * from the cluster cache when scraped), ClaimBlock answers by outcome (claimed, existing: a retry
 * found its claim, or the error code), and SyncEndpoints items by outcome (OK, CONFLICT, ...).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterState } from './cluster';

export interface BlockMetrics {
  claims: Counter<'outcome'>;
  registrations: Counter<'outcome'>;
  deregistrations: Counter<'outcome'>;
}

/** The metrics, registered in `registry` when given (else kept unregistered, for tests). */
export function createBlockMetrics(registry: Registry | undefined, cluster: () => ClusterState): BlockMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: 'netmaster_address_blocks',
    help: 'Address blocks claimed, per network',
    labelNames: ['network'],
    registers,
    collect() {
      this.reset();
      for (const [network, blocks] of cluster().blocks) this.set({ network }, blocks.size);
    },
  });
  new Gauge({
    name: 'netmaster_address_blocks_per_host',
    help: 'Address blocks claimed, per owning host',
    labelNames: ['host'],
    registers,
    collect() {
      this.reset();
      for (const [host, ids] of cluster().index.blocksByHost) this.set({ host }, ids.size);
    },
  });
  return {
    claims: new Counter({
      name: 'netmaster_block_claims_total',
      help: 'ClaimBlock answers by outcome (claimed, existing: a retried claim id, else the error code)',
      labelNames: ['outcome'],
      registers,
    }),
    registrations: new Counter({
      name: 'netmaster_endpoint_registrations_total',
      help: 'Endpoints registered by agents (SyncEndpoints) by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    deregistrations: new Counter({
      name: 'netmaster_endpoint_deregistrations_total',
      help: 'Endpoints deregistered by agents (SyncEndpoints) by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
