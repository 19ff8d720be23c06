// Original file: proto/netloom/agent.proto

import type { Global as _netloom_v1_Global, Global__Output as _netloom_v1_Global__Output } from '../../netloom/v1/Global';
import type { Tenant as _netloom_v1_Tenant, Tenant__Output as _netloom_v1_Tenant__Output } from '../../netloom/v1/Tenant';
import type { Network as _netloom_v1_Network, Network__Output as _netloom_v1_Network__Output } from '../../netloom/v1/Network';
import type { EndpointGroup as _netloom_v1_EndpointGroup, EndpointGroup__Output as _netloom_v1_EndpointGroup__Output } from '../../netloom/v1/EndpointGroup';
import type { Policy as _netloom_v1_Policy, Policy__Output as _netloom_v1_Policy__Output } from '../../netloom/v1/Policy';
import type { NetProfile as _netloom_v1_NetProfile, NetProfile__Output as _netloom_v1_NetProfile__Output } from '../../netloom/v1/NetProfile';
import type { Endpoint as _netloom_v1_Endpoint, Endpoint__Output as _netloom_v1_Endpoint__Output } from '../../netloom/v1/Endpoint';
import type { Vtep as _netloom_v1_Vtep, Vtep__Output as _netloom_v1_Vtep__Output } from '../../netloom/v1/Vtep';
import type { BgpConfig as _netloom_v1_BgpConfig, BgpConfig__Output as _netloom_v1_BgpConfig__Output } from '../../netloom/v1/BgpConfig';
import type { ServiceLB as _netloom_v1_ServiceLB, ServiceLB__Output as _netloom_v1_ServiceLB__Output } from '../../netloom/v1/ServiceLB';
import type { AddressBlock as _netloom_v1_AddressBlock, AddressBlock__Output as _netloom_v1_AddressBlock__Output } from '../../netloom/v1/AddressBlock';
import type { KubeNetworkPolicy as _netloom_v1_KubeNetworkPolicy, KubeNetworkPolicy__Output as _netloom_v1_KubeNetworkPolicy__Output } from '../../netloom/v1/KubeNetworkPolicy';
import type { KubeNamespace as _netloom_v1_KubeNamespace, KubeNamespace__Output as _netloom_v1_KubeNamespace__Output } from '../../netloom/v1/KubeNamespace';

export interface HostState {
  'global'?: (_netloom_v1_Global | null);
  'tenants'?: (_netloom_v1_Tenant)[];
  'networks'?: (_netloom_v1_Network)[];
  'groups'?: (_netloom_v1_EndpointGroup)[];
  'policies'?: (_netloom_v1_Policy)[];
  'profiles'?: (_netloom_v1_NetProfile)[];
  'endpoints'?: (_netloom_v1_Endpoint)[];
  'vteps'?: (_netloom_v1_Vtep)[];
  'bgp'?: (_netloom_v1_BgpConfig | null);
  'services'?: (_netloom_v1_ServiceLB)[];
  'blocks'?: (_netloom_v1_AddressBlock)[];
  'kubePolicies'?: (_netloom_v1_KubeNetworkPolicy)[];
  'kubeNamespaces'?: (_netloom_v1_KubeNamespace)[];
}

export interface HostState__Output {
  'global': (_netloom_v1_Global__Output | null);
  'tenants': (_netloom_v1_Tenant__Output)[];
  'networks': (_netloom_v1_Network__Output)[];
  'groups': (_netloom_v1_EndpointGroup__Output)[];
  'policies': (_netloom_v1_Policy__Output)[];
  'profiles': (_netloom_v1_NetProfile__Output)[];
  'endpoints': (_netloom_v1_Endpoint__Output)[];
  'vteps': (_netloom_v1_Vtep__Output)[];
  'bgp': (_netloom_v1_BgpConfig__Output | null);
  'services': (_netloom_v1_ServiceLB__Output)[];
  'blocks': (_netloom_v1_AddressBlock__Output)[];
  'kubePolicies': (_netloom_v1_KubeNetworkPolicy__Output)[];
  'kubeNamespaces': (_netloom_v1_KubeNamespace__Output)[];
}
