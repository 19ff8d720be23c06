/**
 * Every intent object kind, in the order netmaster lists them (object counts, tenant children,
 * in-use messages). A new kind is one file in this folder plus its line here.
 */
import { aciGwKind } from './aci-gw';
import { appProfileKind } from './app-profile';
import { bgpKind } from './bgp';
import { endpointGroupKind } from './endpoint-group';
import { extContractsGroupKind } from './ext-contracts-group';
import { externalEndpointKind } from './external-endpoint';
import { globalKind } from './global';
import { kubeNamespaceKind } from './kube-namespace';
import { kubeNetworkPolicyKind } from './kube-network-policy';
import { kubeServiceKind } from './kube-service';
import { kubeServiceSliceKind } from './kube-service-slice';
import { networkKind } from './network';
import { netprofileKind } from './netprofile';
import { policyKind } from './policy';
import { ruleKind } from './rule';
import { serviceLBKind } from './service-lb';
import { tenantKind } from './tenant';
import type { KindDescriptor } from './kind';

export const KINDS = {
  tenant: tenantKind,
  network: networkKind,
  endpointGroup: endpointGroupKind,
  policy: policyKind,
  rule: ruleKind,
  netprofile: netprofileKind,
  appProfile: appProfileKind,
  global: globalKind,
  Bgp: bgpKind,
  aciGw: aciGwKind,
  serviceLB: serviceLBKind,
  extContractsGroup: extContractsGroupKind,
  externalEndpoint: externalEndpointKind,
  kubeNetworkPolicy: kubeNetworkPolicyKind,
  kubeNamespace: kubeNamespaceKind,
  kubeService: kubeServiceKind,
  kubeServiceSlice: kubeServiceSliceKind,
} as const;

export type KindName = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as KindName[];

/** The kinds as a list of plain descriptors (for code that does not need each schema's type). */
export const ALL_KINDS: readonly KindDescriptor[] = KIND_NAMES.map((n) => KINDS[n] as unknown as KindDescriptor);

/** The kind served under a REST collection name, if any. */
export function kindOfCollection(collection: string): KindDescriptor | undefined {
  return ALL_KINDS.find((k) => k.collection === collection);
}

export type { KindDescriptor, LinkSet, Reference } from './kind';
export { keyFromFields } from './kind';
