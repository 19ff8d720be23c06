import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddressBlock as _netloom_v1_AddressBlock, AddressBlock__Output as _netloom_v1_AddressBlock__Output } from './netloom/v1/AddressBlock';
import type { AgentClient as _netloom_v1_AgentClient, AgentDefinition as _netloom_v1_AgentDefinition } from './netloom/v1/Agent';
import type { AgentQuery as _netloom_v1_AgentQuery, AgentQuery__Output as _netloom_v1_AgentQuery__Output } from './netloom/v1/AgentQuery';
import type { BgpConfig as _netloom_v1_BgpConfig, BgpConfig__Output as _netloom_v1_BgpConfig__Output } from './netloom/v1/BgpConfig';
import type { BgpInspectRequest as _netloom_v1_BgpInspectRequest, BgpInspectRequest__Output as _netloom_v1_BgpInspectRequest__Output } from './netloom/v1/BgpInspectRequest';
import type { BgpInspectResult as _netloom_v1_BgpInspectResult, BgpInspectResult__Output as _netloom_v1_BgpInspectResult__Output } from './netloom/v1/BgpInspectResult';
import type { BgpNeighbor as _netloom_v1_BgpNeighbor, BgpNeighbor__Output as _netloom_v1_BgpNeighbor__Output } from './netloom/v1/BgpNeighbor';
import type { BgpNeighborStatus as _netloom_v1_BgpNeighborStatus, BgpNeighborStatus__Output as _netloom_v1_BgpNeighborStatus__Output } from './netloom/v1/BgpNeighborStatus';
import type { BgpRoute as _netloom_v1_BgpRoute, BgpRoute__Output as _netloom_v1_BgpRoute__Output } from './netloom/v1/BgpRoute';
import type { Change as _netloom_v1_Change, Change__Output as _netloom_v1_Change__Output } from './netloom/v1/Change';
import type { Changes as _netloom_v1_Changes, Changes__Output as _netloom_v1_Changes__Output } from './netloom/v1/Changes';
import type { ClaimBlockRequest as _netloom_v1_ClaimBlockRequest, ClaimBlockRequest__Output as _netloom_v1_ClaimBlockRequest__Output } from './netloom/v1/ClaimBlockRequest';
import type { CreateEndpointRequest as _netloom_v1_CreateEndpointRequest, CreateEndpointRequest__Output as _netloom_v1_CreateEndpointRequest__Output } from './netloom/v1/CreateEndpointRequest';
import type { DeleteEndpointRequest as _netloom_v1_DeleteEndpointRequest, DeleteEndpointRequest__Output as _netloom_v1_DeleteEndpointRequest__Output } from './netloom/v1/DeleteEndpointRequest';
import type { DeleteEndpointResponse as _netloom_v1_DeleteEndpointResponse, DeleteEndpointResponse__Output as _netloom_v1_DeleteEndpointResponse__Output } from './netloom/v1/DeleteEndpointResponse';
import type { DesiredStateUpdate as _netloom_v1_DesiredStateUpdate, DesiredStateUpdate__Output as _netloom_v1_DesiredStateUpdate__Output } from './netloom/v1/DesiredStateUpdate';
import type { Endpoint as _netloom_v1_Endpoint, Endpoint__Output as _netloom_v1_Endpoint__Output } from './netloom/v1/Endpoint';
import type { EndpointGroup as _netloom_v1_EndpointGroup, EndpointGroup__Output as _netloom_v1_EndpointGroup__Output } from './netloom/v1/EndpointGroup';
import type { EndpointRegistration as _netloom_v1_EndpointRegistration, EndpointRegistration__Output as _netloom_v1_EndpointRegistration__Output } from './netloom/v1/EndpointRegistration';
import type { Global as _netloom_v1_Global, Global__Output as _netloom_v1_Global__Output } from './netloom/v1/Global';
import type { HeartbeatRequest as _netloom_v1_HeartbeatRequest, HeartbeatRequest__Output as _netloom_v1_HeartbeatRequest__Output } from './netloom/v1/HeartbeatRequest';
import type { HeartbeatResponse as _netloom_v1_HeartbeatResponse, HeartbeatResponse__Output as _netloom_v1_HeartbeatResponse__Output } from './netloom/v1/HeartbeatResponse';
import type { HostState as _netloom_v1_HostState, HostState__Output as _netloom_v1_HostState__Output } from './netloom/v1/HostState';
import type { KubeIpBlock as _netloom_v1_KubeIpBlock, KubeIpBlock__Output as _netloom_v1_KubeIpBlock__Output } from './netloom/v1/KubeIpBlock';
import type { KubeLabelSelector as _netloom_v1_KubeLabelSelector, KubeLabelSelector__Output as _netloom_v1_KubeLabelSelector__Output } from './netloom/v1/KubeLabelSelector';
import type { KubeNamedPort as _netloom_v1_KubeNamedPort, KubeNamedPort__Output as _netloom_v1_KubeNamedPort__Output } from './netloom/v1/KubeNamedPort';
import type { KubeNamespace as _netloom_v1_KubeNamespace, KubeNamespace__Output as _netloom_v1_KubeNamespace__Output } from './netloom/v1/KubeNamespace';
import type { KubeNetworkPolicy as _netloom_v1_KubeNetworkPolicy, KubeNetworkPolicy__Output as _netloom_v1_KubeNetworkPolicy__Output } from './netloom/v1/KubeNetworkPolicy';
import type { KubePod as _netloom_v1_KubePod, KubePod__Output as _netloom_v1_KubePod__Output } from './netloom/v1/KubePod';
import type { KubePolicyPeer as _netloom_v1_KubePolicyPeer, KubePolicyPeer__Output as _netloom_v1_KubePolicyPeer__Output } from './netloom/v1/KubePolicyPeer';
import type { KubePolicyPort as _netloom_v1_KubePolicyPort, KubePolicyPort__Output as _netloom_v1_KubePolicyPort__Output } from './netloom/v1/KubePolicyPort';
import type { KubePolicyRule as _netloom_v1_KubePolicyRule, KubePolicyRule__Output as _netloom_v1_KubePolicyRule__Output } from './netloom/v1/KubePolicyRule';
import type { KubeSelectorRequirement as _netloom_v1_KubeSelectorRequirement, KubeSelectorRequirement__Output as _netloom_v1_KubeSelectorRequirement__Output } from './netloom/v1/KubeSelectorRequirement';
import type { ListNetworksRequest as _netloom_v1_ListNetworksRequest, ListNetworksRequest__Output as _netloom_v1_ListNetworksRequest__Output } from './netloom/v1/ListNetworksRequest';
import type { ListNetworksResponse as _netloom_v1_ListNetworksResponse, ListNetworksResponse__Output as _netloom_v1_ListNetworksResponse__Output } from './netloom/v1/ListNetworksResponse';
import type { LookupNetworkRequest as _netloom_v1_LookupNetworkRequest, LookupNetworkRequest__Output as _netloom_v1_LookupNetworkRequest__Output } from './netloom/v1/LookupNetworkRequest';
import type { NetProfile as _netloom_v1_NetProfile, NetProfile__Output as _netloom_v1_NetProfile__Output } from './netloom/v1/NetProfile';
import type { Network as _netloom_v1_Network, Network__Output as _netloom_v1_Network__Output } from './netloom/v1/Network';
import type { Policy as _netloom_v1_Policy, Policy__Output as _netloom_v1_Policy__Output } from './netloom/v1/Policy';
import type { PolicyDecision as _netloom_v1_PolicyDecision, PolicyDecision__Output as _netloom_v1_PolicyDecision__Output } from './netloom/v1/PolicyDecision';
import type { Progress as _netloom_v1_Progress, Progress__Output as _netloom_v1_Progress__Output } from './netloom/v1/Progress';
import type { QueriesRequest as _netloom_v1_QueriesRequest, QueriesRequest__Output as _netloom_v1_QueriesRequest__Output } from './netloom/v1/QueriesRequest';
import type { QueryAnswer as _netloom_v1_QueryAnswer, QueryAnswer__Output as _netloom_v1_QueryAnswer__Output } from './netloom/v1/QueryAnswer';
import type { QueryAnswerAck as _netloom_v1_QueryAnswerAck, QueryAnswerAck__Output as _netloom_v1_QueryAnswerAck__Output } from './netloom/v1/QueryAnswerAck';
import type { RegisterRequest as _netloom_v1_RegisterRequest, RegisterRequest__Output as _netloom_v1_RegisterRequest__Output } from './netloom/v1/RegisterRequest';
import type { RegisterResponse as _netloom_v1_RegisterResponse, RegisterResponse__Output as _netloom_v1_RegisterResponse__Output } from './netloom/v1/RegisterResponse';
import type { ReleaseBlockRequest as _netloom_v1_ReleaseBlockRequest, ReleaseBlockRequest__Output as _netloom_v1_ReleaseBlockRequest__Output } from './netloom/v1/ReleaseBlockRequest';
import type { ReleaseBlockResponse as _netloom_v1_ReleaseBlockResponse, ReleaseBlockResponse__Output as _netloom_v1_ReleaseBlockResponse__Output } from './netloom/v1/ReleaseBlockResponse';
import type { Rule as _netloom_v1_Rule, Rule__Output as _netloom_v1_Rule__Output } from './netloom/v1/Rule';
import type { RuleCounter as _netloom_v1_RuleCounter, RuleCounter__Output as _netloom_v1_RuleCounter__Output } from './netloom/v1/RuleCounter';
import type { ServiceCounter as _netloom_v1_ServiceCounter, ServiceCounter__Output as _netloom_v1_ServiceCounter__Output } from './netloom/v1/ServiceCounter';
import type { ServiceLB as _netloom_v1_ServiceLB, ServiceLB__Output as _netloom_v1_ServiceLB__Output } from './netloom/v1/ServiceLB';
import type { ServicePort as _netloom_v1_ServicePort, ServicePort__Output as _netloom_v1_ServicePort__Output } from './netloom/v1/ServicePort';
import type { ServiceProvider as _netloom_v1_ServiceProvider, ServiceProvider__Output as _netloom_v1_ServiceProvider__Output } from './netloom/v1/ServiceProvider';
import type { SetEndpointLabelsRequest as _netloom_v1_SetEndpointLabelsRequest, SetEndpointLabelsRequest__Output as _netloom_v1_SetEndpointLabelsRequest__Output } from './netloom/v1/SetEndpointLabelsRequest';
import type { Snapshot as _netloom_v1_Snapshot, Snapshot__Output as _netloom_v1_Snapshot__Output } from './netloom/v1/Snapshot';
import type { SyncEndpointsRequest as _netloom_v1_SyncEndpointsRequest, SyncEndpointsRequest__Output as _netloom_v1_SyncEndpointsRequest__Output } from './netloom/v1/SyncEndpointsRequest';
import type { SyncEndpointsResponse as _netloom_v1_SyncEndpointsResponse, SyncEndpointsResponse__Output as _netloom_v1_SyncEndpointsResponse__Output } from './netloom/v1/SyncEndpointsResponse';
import type { SyncResult as _netloom_v1_SyncResult, SyncResult__Output as _netloom_v1_SyncResult__Output } from './netloom/v1/SyncResult';
import type { Tenant as _netloom_v1_Tenant, Tenant__Output as _netloom_v1_Tenant__Output } from './netloom/v1/Tenant';
import type { TraceOutput as _netloom_v1_TraceOutput, TraceOutput__Output as _netloom_v1_TraceOutput__Output } from './netloom/v1/TraceOutput';
import type { TraceRequest as _netloom_v1_TraceRequest, TraceRequest__Output as _netloom_v1_TraceRequest__Output } from './netloom/v1/TraceRequest';
import type { TraceResult as _netloom_v1_TraceResult, TraceResult__Output as _netloom_v1_TraceResult__Output } from './netloom/v1/TraceResult';
import type { TraceStep as _netloom_v1_TraceStep, TraceStep__Output as _netloom_v1_TraceStep__Output } from './netloom/v1/TraceStep';
import type { Vtep as _netloom_v1_Vtep, Vtep__Output as _netloom_v1_Vtep__Output } from './netloom/v1/Vtep';
import type { WatchRequest as _netloom_v1_WatchRequest, WatchRequest__Output as _netloom_v1_WatchRequest__Output } from './netloom/v1/WatchRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  netloom: {
    v1: {
      AddressBlock: MessageTypeDefinition<_netloom_v1_AddressBlock, _netloom_v1_AddressBlock__Output>
      Agent: SubtypeConstructor<typeof grpc.Client, _netloom_v1_AgentClient> & { service: _netloom_v1_AgentDefinition }
      AgentQuery: MessageTypeDefinition<_netloom_v1_AgentQuery, _netloom_v1_AgentQuery__Output>
      BgpConfig: MessageTypeDefinition<_netloom_v1_BgpConfig, _netloom_v1_BgpConfig__Output>
      BgpInspectRequest: MessageTypeDefinition<_netloom_v1_BgpInspectRequest, _netloom_v1_BgpInspectRequest__Output>
      BgpInspectResult: MessageTypeDefinition<_netloom_v1_BgpInspectResult, _netloom_v1_BgpInspectResult__Output>
      BgpNeighbor: MessageTypeDefinition<_netloom_v1_BgpNeighbor, _netloom_v1_BgpNeighbor__Output>
      BgpNeighborStatus: MessageTypeDefinition<_netloom_v1_BgpNeighborStatus, _netloom_v1_BgpNeighborStatus__Output>
      BgpRoute: MessageTypeDefinition<_netloom_v1_BgpRoute, _netloom_v1_BgpRoute__Output>
      Change: MessageTypeDefinition<_netloom_v1_Change, _netloom_v1_Change__Output>
      Changes: MessageTypeDefinition<_netloom_v1_Changes, _netloom_v1_Changes__Output>
      ClaimBlockRequest: MessageTypeDefinition<_netloom_v1_ClaimBlockRequest, _netloom_v1_ClaimBlockRequest__Output>
      CreateEndpointRequest: MessageTypeDefinition<_netloom_v1_CreateEndpointRequest, _netloom_v1_CreateEndpointRequest__Output>
      DeleteEndpointRequest: MessageTypeDefinition<_netloom_v1_DeleteEndpointRequest, _netloom_v1_DeleteEndpointRequest__Output>
      DeleteEndpointResponse: MessageTypeDefinition<_netloom_v1_DeleteEndpointResponse, _netloom_v1_DeleteEndpointResponse__Output>
      DesiredStateUpdate: MessageTypeDefinition<_netloom_v1_DesiredStateUpdate, _netloom_v1_DesiredStateUpdate__Output>
      Endpoint: MessageTypeDefinition<_netloom_v1_Endpoint, _netloom_v1_Endpoint__Output>
      EndpointGroup: MessageTypeDefinition<_netloom_v1_EndpointGroup, _netloom_v1_EndpointGroup__Output>
      EndpointRegistration: MessageTypeDefinition<_netloom_v1_EndpointRegistration, _netloom_v1_EndpointRegistration__Output>
      Global: MessageTypeDefinition<_netloom_v1_Global, _netloom_v1_Global__Output>
      HeartbeatRequest: MessageTypeDefinition<_netloom_v1_HeartbeatRequest, _netloom_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_netloom_v1_HeartbeatResponse, _netloom_v1_HeartbeatResponse__Output>
      HostState: MessageTypeDefinition<_netloom_v1_HostState, _netloom_v1_HostState__Output>
      KubeIpBlock: MessageTypeDefinition<_netloom_v1_KubeIpBlock, _netloom_v1_KubeIpBlock__Output>
      KubeLabelSelector: MessageTypeDefinition<_netloom_v1_KubeLabelSelector, _netloom_v1_KubeLabelSelector__Output>
      KubeNamedPort: MessageTypeDefinition<_netloom_v1_KubeNamedPort, _netloom_v1_KubeNamedPort__Output>
      KubeNamespace: MessageTypeDefinition<_netloom_v1_KubeNamespace, _netloom_v1_KubeNamespace__Output>
      KubeNetworkPolicy: MessageTypeDefinition<_netloom_v1_KubeNetworkPolicy, _netloom_v1_KubeNetworkPolicy__Output>
      KubePod: MessageTypeDefinition<_netloom_v1_KubePod, _netloom_v1_KubePod__Output>
      KubePolicyPeer: MessageTypeDefinition<_netloom_v1_KubePolicyPeer, _netloom_v1_KubePolicyPeer__Output>
      KubePolicyPort: MessageTypeDefinition<_netloom_v1_KubePolicyPort, _netloom_v1_KubePolicyPort__Output>
      KubePolicyRule: MessageTypeDefinition<_netloom_v1_KubePolicyRule, _netloom_v1_KubePolicyRule__Output>
      KubeSelectorRequirement: MessageTypeDefinition<_netloom_v1_KubeSelectorRequirement, _netloom_v1_KubeSelectorRequirement__Output>
      ListNetworksRequest: MessageTypeDefinition<_netloom_v1_ListNetworksRequest, _netloom_v1_ListNetworksRequest__Output>
      ListNetworksResponse: MessageTypeDefinition<_netloom_v1_ListNetworksResponse, _netloom_v1_ListNetworksResponse__Output>
      LookupNetworkRequest: MessageTypeDefinition<_netloom_v1_LookupNetworkRequest, _netloom_v1_LookupNetworkRequest__Output>
      NetProfile: MessageTypeDefinition<_netloom_v1_NetProfile, _netloom_v1_NetProfile__Output>
      Network: MessageTypeDefinition<_netloom_v1_Network, _netloom_v1_Network__Output>
      Policy: MessageTypeDefinition<_netloom_v1_Policy, _netloom_v1_Policy__Output>
      PolicyDecision: MessageTypeDefinition<_netloom_v1_PolicyDecision, _netloom_v1_PolicyDecision__Output>
      Progress: MessageTypeDefinition<_netloom_v1_Progress, _netloom_v1_Progress__Output>
      QueriesRequest: MessageTypeDefinition<_netloom_v1_QueriesRequest, _netloom_v1_QueriesRequest__Output>
      QueryAnswer: MessageTypeDefinition<_netloom_v1_QueryAnswer, _netloom_v1_QueryAnswer__Output>
      QueryAnswerAck: MessageTypeDefinition<_netloom_v1_QueryAnswerAck, _netloom_v1_QueryAnswerAck__Output>
      RegisterRequest: MessageTypeDefinition<_netloom_v1_RegisterRequest, _netloom_v1_RegisterRequest__Output>
      RegisterResponse: MessageTypeDefinition<_netloom_v1_RegisterResponse, _netloom_v1_RegisterResponse__Output>
      ReleaseBlockRequest: MessageTypeDefinition<_netloom_v1_ReleaseBlockRequest, _netloom_v1_ReleaseBlockRequest__Output>
      ReleaseBlockResponse: MessageTypeDefinition<_netloom_v1_ReleaseBlockResponse, _netloom_v1_ReleaseBlockResponse__Output>
      Rule: MessageTypeDefinition<_netloom_v1_Rule, _netloom_v1_Rule__Output>
      RuleCounter: MessageTypeDefinition<_netloom_v1_RuleCounter, _netloom_v1_RuleCounter__Output>
      ServiceCounter: MessageTypeDefinition<_netloom_v1_ServiceCounter, _netloom_v1_ServiceCounter__Output>
      ServiceLB: MessageTypeDefinition<_netloom_v1_ServiceLB, _netloom_v1_ServiceLB__Output>
      ServicePort: MessageTypeDefinition<_netloom_v1_ServicePort, _netloom_v1_ServicePort__Output>
      ServiceProvider: MessageTypeDefinition<_netloom_v1_ServiceProvider, _netloom_v1_ServiceProvider__Output>
      SetEndpointLabelsRequest: MessageTypeDefinition<_netloom_v1_SetEndpointLabelsRequest, _netloom_v1_SetEndpointLabelsRequest__Output>
      Snapshot: MessageTypeDefinition<_netloom_v1_Snapshot, _netloom_v1_Snapshot__Output>
      SyncEndpointsRequest: MessageTypeDefinition<_netloom_v1_SyncEndpointsRequest, _netloom_v1_SyncEndpointsRequest__Output>
      SyncEndpointsResponse: MessageTypeDefinition<_netloom_v1_SyncEndpointsResponse, _netloom_v1_SyncEndpointsResponse__Output>
      SyncResult: MessageTypeDefinition<_netloom_v1_SyncResult, _netloom_v1_SyncResult__Output>
      Tenant: MessageTypeDefinition<_netloom_v1_Tenant, _netloom_v1_Tenant__Output>
      TraceOutput: MessageTypeDefinition<_netloom_v1_TraceOutput, _netloom_v1_TraceOutput__Output>
      TraceRequest: MessageTypeDefinition<_netloom_v1_TraceRequest, _netloom_v1_TraceRequest__Output>
      TraceResult: MessageTypeDefinition<_netloom_v1_TraceResult, _netloom_v1_TraceResult__Output>
      TraceStep: MessageTypeDefinition<_netloom_v1_TraceStep, _netloom_v1_TraceStep__Output>
      Vtep: MessageTypeDefinition<_netloom_v1_Vtep, _netloom_v1_Vtep__Output>
      WatchRequest: MessageTypeDefinition<_netloom_v1_WatchRequest, _netloom_v1_WatchRequest__Output>
    }
  }
}

