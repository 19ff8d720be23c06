/**
 * The aciGw object's oper: how many app profiles there are, in all tenants (Contiv's), and on the
 * replica running the ACI gateway its state and each tenant's sync (in sync / pending / error
 * with the APIC's message).
 */
import type { KindOper } from './kind-oper';

export const aciGwOper: KindOper<'aciGw'> = async (svc) => ({
  numAppProfiles: (await svc.list('appProfile')).length,
  ...(svc.aci ? { aci: svc.aci.view() } : {}),
});
