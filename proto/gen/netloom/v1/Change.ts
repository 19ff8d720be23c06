// Original file: proto/netloom/agent.proto

import type { Global as _netloom_v1_Global, Global__Output as _netloom_v1_Global__Output } from '../../netloom/v1/Global';
import type { Network as _netloom_v1_Network, Network__Output as _netloom_v1_Network__Output } from '../../netloom/v1/Network';
import type { EndpointGroup as _netloom_v1_EndpointGroup, EndpointGroup__Output as _netloom_v1_EndpointGroup__Output } from '../../netloom/v1/EndpointGroup';
import type { Policy as _netloom_v1_Policy, Policy__Output as _netloom_v1_Policy__Output } from '../../netloom/v1/Policy';
import type { NetProfile as _netloom_v1_NetProfile, NetProfile__Output as _netloom_v1_NetProfile__Output } from '../../netloom/v1/NetProfile';
import type { Endpoint as _netloom_v1_Endpoint, Endpoint__Output as _netloom_v1_Endpoint__Output } from '../../netloom/v1/Endpoint';
import type { Vtep as _netloom_v1_Vtep, Vtep__Output as _netloom_v1_Vtep__Output } from '../../netloom/v1/Vtep';
import type { BgpConfig as _netloom_v1_BgpConfig, BgpConfig__Output as _netloom_v1_BgpConfig__Output } from '../../netloom/v1/BgpConfig';
import type { Tenant as _netloom_v1_Tenant, Tenant__Output as _netloom_v1_Tenant__Output } from '../../netloom/v1/Tenant';
import type { ServiceLB as _netloom_v1_ServiceLB, ServiceLB__Output as _netloom_v1_ServiceLB__Output } from '../../netloom/v1/ServiceLB';
import type { AddressBlock as _netloom_v1_AddressBlock, AddressBlock__Output as _netloom_v1_AddressBlock__Output } from '../../netloom/v1/AddressBlock';
import type { KubeNetworkPolicy as _netloom_v1_KubeNetworkPolicy, KubeNetworkPolicy__Output as _netloom_v1_KubeNetworkPolicy__Output } from '../../netloom/v1/KubeNetworkPolicy';
import type { KubeNamespace as _netloom_v1_KubeNamespace, KubeNamespace__Output as _netloom_v1_KubeNamespace__Output } from '../../netloom/v1/KubeNamespace';

export interface Change {
  'deleted'?: (boolean);
  'global'?: (_netloom_v1_Global | null);
  'network'?: (_netloom_v1_Network | null);
  'group'?: (_netloom_v1_EndpointGroup | null);
  'policy'?: (_netloom_v1_Policy | null);
  'profile'?: (_netloom_v1_NetProfile | null);
  'endpoint'?: (_netloom_v1_Endpoint | null);
  'vtep'?: (_netloom_v1_Vtep | null);
  'bgp'?: (_netloom_v1_BgpConfig | null);
  'tenant'?: (_netloom_v1_Tenant | null);
  'key'?: (string);
  'service'?: (_netloom_v1_ServiceLB | null);
  'block'?: (_netloom_v1_AddressBlock | null);
  'kubePolicy'?: (_netloom_v1_KubeNetworkPolicy | null);
  'kubeNamespace'?: (_netloom_v1_KubeNamespace | null);
  'object'?: "global"|"network"|"group"|"policy"|"profile"|"endpoint"|"vtep"|"bgp"|"tenant"|"service"|"block"|"kubePolicy"|"kubeNamespace";
}

export interface Change__Output {
  'deleted': (boolean);
  'global'?: (_netloom_v1_Global__Output | null);
  'network'?: (_netloom_v1_Network__Output | null);
  'group'?: (_netloom_v1_EndpointGroup__Output | null);
  'policy'?: (_netloom_v1_Policy__Output | null);
  'profile'?: (_netloom_v1_NetProfile__Output | null);
  'endpoint'?: (_netloom_v1_Endpoint__Output | null);
  'vtep'?: (_netloom_v1_Vtep__Output | null);
  'bgp'?: (_netloom_v1_BgpConfig__Output | null);
  'tenant'?: (_netloom_v1_Tenant__Output | null);
  'key': (string);
  'service'?: (_netloom_v1_ServiceLB__Output | null);
  'block'?: (_netloom_v1_AddressBlock__Output | null);
  'kubePolicy'?: (_netloom_v1_KubeNetworkPolicy__Output | null);
  'kubeNamespace'?: (_netloom_v1_KubeNamespace__Output | null);
  'object'?: "global"|"network"|"group"|"policy"|"profile"|"endpoint"|"vtep"|"bgp"|"tenant"|"service"|"block"|"kubePolicy"|"kubeNamespace";
}
