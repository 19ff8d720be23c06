/**
 * The kinds whose inspect computes its Oper, by kind name. A kind not listed shows the oper the
 * store keeps for it (empty for most). A new kind with computed oper is one file here plus its line.
 */
import type { ObjectType } from '../../model/schemas';
import { aciGwOper } from './aci-gw';
import { appProfileOper } from './app-profile';
import { endpointGroupOper } from './endpoint-group';
import { globalOper } from './global';
import type { KindOper } from './kind-oper';
import { networkOper } from './network';
import { policyOper } from './policy';
import { serviceLBOper } from './service-lb';
import { tenantOper } from './tenant';

export const KIND_OPERS: { readonly [T in ObjectType]?: KindOper<T> } = {
  tenant: tenantOper,
  network: networkOper,
  endpointGroup: endpointGroupOper,
  policy: policyOper,
  global: globalOper,
  serviceLB: serviceLBOper,
  aciGw: aciGwOper,
  appProfile: appProfileOper,
};

export type { KindOper } from './kind-oper';
export { endpointOper } from './endpoint';
