/**
 * Tenant ids (a tenant's vrfId and ctZone, 1..65535), stable and unique across replicas: claimed
 * by compare-and-create of `agent/tenantid/<id>` (-> tenant) together with the reverse key
 * `agent/tenantid-of/<tenant>` (-> id), released (both keys) when the tenant is gone, guarded by the
 * tenant's key being absent. `reconcileTenantIds` is run by the cluster cache after each change;
 * any replica may run it at the same time (a lost race only means a retry on the next change).
 */
import type { Logger } from '../../lib/logger';
import type { EtcdKV } from '../store/kv';
import { layout } from '../store/layout';
import type { ClusterState } from './cluster';
import { agentLayout, TENANT_ID_RANGE } from '../store/agent-layout';

/** What to claim and release so that every tenant has an id and no id outlives its tenant (pure). */
export function tenantIdWork(cluster: ClusterState): { missing: string[]; stale: string[] } {
  const tenants = cluster.objects.get('tenant') ?? new Map();
  const missing = [...tenants.keys()].filter((t) => !cluster.tenantIds.has(t)).sort();
  const stale = [...cluster.tenantIds.keys()].filter((t) => !tenants.has(t)).sort();
  return { missing, stale };
}

/** The lowest id in the range not in `used`. */
export function lowestFree(used: ReadonlySet<number>, range: [number, number] = TENANT_ID_RANGE): number | undefined {
  for (let n = range[0]; n <= range[1]; n++) if (!used.has(n)) return n;
  return undefined;
}

export async function reconcileTenantIds(kv: EtcdKV, cluster: ClusterState, logger: Logger): Promise<void> {
  const { missing, stale } = tenantIdWork(cluster);
  for (const tenant of stale) {
    const id = cluster.tenantIds.get(tenant);
    const writes = [
      { kind: 'delete' as const, key: agentLayout.tenantIdOf(tenant) },
      ...(id ? [{ kind: 'delete' as const, key: agentLayout.tenantId(id) }] : []),
    ];
    const r = await kv.commit([{ kind: 'modEquals', key: layout.cfg('tenant', tenant), modRevision: '0' }], writes);
    if (r.ok) logger.info({ tenant, id }, 'tenant id released');
  }
  if (missing.length === 0) return;
  const { kvs } = await kv.list(agentLayout.tenantIdPrefix, { keysOnly: true });
  const used = new Set(kvs.map((e) => Number(e.key.slice(agentLayout.tenantIdPrefix.length))));
  for (const tenant of missing) {
    const id = lowestFree(used);
    if (id === undefined) {
      logger.error({ tenant }, 'no tenant id left (65535 in use)');
      return;
    }
    used.add(id);
    const r = await kv.commit(
      [
        { kind: 'modEquals', key: agentLayout.tenantId(id), modRevision: '0' },
        { kind: 'modEquals', key: agentLayout.tenantIdOf(tenant), modRevision: '0' },
      ],
      [
        { kind: 'put', key: agentLayout.tenantId(id), value: tenant },
        { kind: 'put', key: agentLayout.tenantIdOf(tenant), value: String(id) },
      ],
    );
    if (r.ok) logger.info({ tenant, id }, 'tenant id claimed');
  }
}
