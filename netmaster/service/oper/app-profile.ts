/** An app profile's oper: on the replica running the ACI gateway, the sync state of its tenant on the APIC. */
import type { KindOper } from './kind-oper';

export const appProfileOper: KindOper<'appProfile'> = async (svc, _key, config, stored) => {
  const sync = svc.aci?.view().tenants[config.tenantName];
  return { ...stored, ...(sync ? { aciSync: sync } : {}) };
};
