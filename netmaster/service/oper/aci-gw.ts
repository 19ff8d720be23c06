/**
 * The aciGw object's oper: how many app profiles there are, in all tenants (Contiv's), and the
 * ACI gateway's state and each tenant's sync (in sync / pending / error with the APIC's message)
 * as the leader's gateway stored it in etcd, so that every replica shows it.
 */
import { readAciSync } from '../../aci/sync-store';
import type { KindOper } from './kind-oper';

export const aciGwOper: KindOper<'aciGw'> = async (svc) => {
  const [appProfiles, aci] = await Promise.all([svc.list('appProfile'), readAciSync(svc.kv)]);
  return { numAppProfiles: appProfiles.length, ...(aci ? { aci } : {}) };
};
