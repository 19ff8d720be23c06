/** An app profile's oper: the sync state of its tenant on the APIC, as the ACI gateway stored it. */
import { readTenantSync } from '../../aci/sync-store';
import type { KindOper } from './kind-oper';

export const appProfileOper: KindOper<'appProfile'> = async (svc, _key, config, stored) => {
  const sync = await readTenantSync(svc.kv, config.tenantName);
  return { ...stored, ...(sync ? { aciSync: sync } : {}) };
};
