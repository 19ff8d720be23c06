/** The aciGw object's oper (Contiv's): how many app profiles there are, in all tenants. */
import type { KindOper } from './kind-oper';

export const aciGwOper: KindOper<'aciGw'> = async (svc) => ({ numAppProfiles: (await svc.list('appProfile')).length });
