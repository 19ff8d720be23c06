// Original file: proto/netloom/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddressBlock as _netloom_v1_AddressBlock, AddressBlock__Output as _netloom_v1_AddressBlock__Output } from '../../netloom/v1/AddressBlock';
import type { AgentQuery as _netloom_v1_AgentQuery, AgentQuery__Output as _netloom_v1_AgentQuery__Output } from '../../netloom/v1/AgentQuery';
import type { ClaimBlockRequest as _netloom_v1_ClaimBlockRequest, ClaimBlockRequest__Output as _netloom_v1_ClaimBlockRequest__Output } from '../../netloom/v1/ClaimBlockRequest';
import type { CreateEndpointRequest as _netloom_v1_CreateEndpointRequest, CreateEndpointRequest__Output as _netloom_v1_CreateEndpointRequest__Output } from '../../netloom/v1/CreateEndpointRequest';
import type { DeleteEndpointRequest as _netloom_v1_DeleteEndpointRequest, DeleteEndpointRequest__Output as _netloom_v1_DeleteEndpointRequest__Output } from '../../netloom/v1/DeleteEndpointRequest';
import type { DeleteEndpointResponse as _netloom_v1_DeleteEndpointResponse, DeleteEndpointResponse__Output as _netloom_v1_DeleteEndpointResponse__Output } from '../../netloom/v1/DeleteEndpointResponse';
import type { DesiredStateUpdate as _netloom_v1_DesiredStateUpdate, DesiredStateUpdate__Output as _netloom_v1_DesiredStateUpdate__Output } from '../../netloom/v1/DesiredStateUpdate';
import type { Endpoint as _netloom_v1_Endpoint, Endpoint__Output as _netloom_v1_Endpoint__Output } from '../../netloom/v1/Endpoint';
import type { HeartbeatRequest as _netloom_v1_HeartbeatRequest, HeartbeatRequest__Output as _netloom_v1_HeartbeatRequest__Output } from '../../netloom/v1/HeartbeatRequest';
import type { HeartbeatResponse as _netloom_v1_HeartbeatResponse, HeartbeatResponse__Output as _netloom_v1_HeartbeatResponse__Output } from '../../netloom/v1/HeartbeatResponse';
import type { ListNetworksRequest as _netloom_v1_ListNetworksRequest, ListNetworksRequest__Output as _netloom_v1_ListNetworksRequest__Output } from '../../netloom/v1/ListNetworksRequest';
import type { ListNetworksResponse as _netloom_v1_ListNetworksResponse, ListNetworksResponse__Output as _netloom_v1_ListNetworksResponse__Output } from '../../netloom/v1/ListNetworksResponse';
import type { LookupNetworkRequest as _netloom_v1_LookupNetworkRequest, LookupNetworkRequest__Output as _netloom_v1_LookupNetworkRequest__Output } from '../../netloom/v1/LookupNetworkRequest';
import type { Network as _netloom_v1_Network, Network__Output as _netloom_v1_Network__Output } from '../../netloom/v1/Network';
import type { QueriesRequest as _netloom_v1_QueriesRequest, QueriesRequest__Output as _netloom_v1_QueriesRequest__Output } from '../../netloom/v1/QueriesRequest';
import type { QueryAnswer as _netloom_v1_QueryAnswer, QueryAnswer__Output as _netloom_v1_QueryAnswer__Output } from '../../netloom/v1/QueryAnswer';
import type { QueryAnswerAck as _netloom_v1_QueryAnswerAck, QueryAnswerAck__Output as _netloom_v1_QueryAnswerAck__Output } from '../../netloom/v1/QueryAnswerAck';
import type { RegisterRequest as _netloom_v1_RegisterRequest, RegisterRequest__Output as _netloom_v1_RegisterRequest__Output } from '../../netloom/v1/RegisterRequest';
import type { RegisterResponse as _netloom_v1_RegisterResponse, RegisterResponse__Output as _netloom_v1_RegisterResponse__Output } from '../../netloom/v1/RegisterResponse';
import type { ReleaseBlockRequest as _netloom_v1_ReleaseBlockRequest, ReleaseBlockRequest__Output as _netloom_v1_ReleaseBlockRequest__Output } from '../../netloom/v1/ReleaseBlockRequest';
import type { ReleaseBlockResponse as _netloom_v1_ReleaseBlockResponse, ReleaseBlockResponse__Output as _netloom_v1_ReleaseBlockResponse__Output } from '../../netloom/v1/ReleaseBlockResponse';
import type { SetEndpointLabelsRequest as _netloom_v1_SetEndpointLabelsRequest, SetEndpointLabelsRequest__Output as _netloom_v1_SetEndpointLabelsRequest__Output } from '../../netloom/v1/SetEndpointLabelsRequest';
import type { SyncEndpointsRequest as _netloom_v1_SyncEndpointsRequest, SyncEndpointsRequest__Output as _netloom_v1_SyncEndpointsRequest__Output } from '../../netloom/v1/SyncEndpointsRequest';
import type { SyncEndpointsResponse as _netloom_v1_SyncEndpointsResponse, SyncEndpointsResponse__Output as _netloom_v1_SyncEndpointsResponse__Output } from '../../netloom/v1/SyncEndpointsResponse';
import type { WatchRequest as _netloom_v1_WatchRequest, WatchRequest__Output as _netloom_v1_WatchRequest__Output } from '../../netloom/v1/WatchRequest';

export interface AgentClient extends grpc.Client {
  AnswerQuery(argument: _netloom_v1_QueryAnswer, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  AnswerQuery(argument: _netloom_v1_QueryAnswer, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  AnswerQuery(argument: _netloom_v1_QueryAnswer, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  AnswerQuery(argument: _netloom_v1_QueryAnswer, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  answerQuery(argument: _netloom_v1_QueryAnswer, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  answerQuery(argument: _netloom_v1_QueryAnswer, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  answerQuery(argument: _netloom_v1_QueryAnswer, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  answerQuery(argument: _netloom_v1_QueryAnswer, callback: grpc.requestCallback<_netloom_v1_QueryAnswerAck__Output>): grpc.ClientUnaryCall;
  
  ClaimBlock(argument: _netloom_v1_ClaimBlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  ClaimBlock(argument: _netloom_v1_ClaimBlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  ClaimBlock(argument: _netloom_v1_ClaimBlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  ClaimBlock(argument: _netloom_v1_ClaimBlockRequest, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  claimBlock(argument: _netloom_v1_ClaimBlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  claimBlock(argument: _netloom_v1_ClaimBlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  claimBlock(argument: _netloom_v1_ClaimBlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  claimBlock(argument: _netloom_v1_ClaimBlockRequest, callback: grpc.requestCallback<_netloom_v1_AddressBlock__Output>): grpc.ClientUnaryCall;
  
  CreateEndpoint(argument: _netloom_v1_CreateEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  CreateEndpoint(argument: _netloom_v1_CreateEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  CreateEndpoint(argument: _netloom_v1_CreateEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  CreateEndpoint(argument: _netloom_v1_CreateEndpointRequest, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  createEndpoint(argument: _netloom_v1_CreateEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  createEndpoint(argument: _netloom_v1_CreateEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  createEndpoint(argument: _netloom_v1_CreateEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  createEndpoint(argument: _netloom_v1_CreateEndpointRequest, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  
  DeleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _netloom_v1_DeleteEndpointRequest, callback: grpc.requestCallback<_netloom_v1_DeleteEndpointResponse__Output>): grpc.ClientUnaryCall;
  
  Heartbeat(argument: _netloom_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _netloom_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _netloom_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _netloom_v1_HeartbeatRequest, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _netloom_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _netloom_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _netloom_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _netloom_v1_HeartbeatRequest, callback: grpc.requestCallback<_netloom_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  ListNetworks(argument: _netloom_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _netloom_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _netloom_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _netloom_v1_ListNetworksRequest, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _netloom_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _netloom_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _netloom_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _netloom_v1_ListNetworksRequest, callback: grpc.requestCallback<_netloom_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  
  LookupNetwork(argument: _netloom_v1_LookupNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  LookupNetwork(argument: _netloom_v1_LookupNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  LookupNetwork(argument: _netloom_v1_LookupNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  LookupNetwork(argument: _netloom_v1_LookupNetworkRequest, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  lookupNetwork(argument: _netloom_v1_LookupNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  lookupNetwork(argument: _netloom_v1_LookupNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  lookupNetwork(argument: _netloom_v1_LookupNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  lookupNetwork(argument: _netloom_v1_LookupNetworkRequest, callback: grpc.requestCallback<_netloom_v1_Network__Output>): grpc.ClientUnaryCall;
  
  Queries(argument: _netloom_v1_QueriesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_AgentQuery__Output>;
  Queries(argument: _netloom_v1_QueriesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_AgentQuery__Output>;
  queries(argument: _netloom_v1_QueriesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_AgentQuery__Output>;
  queries(argument: _netloom_v1_QueriesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_AgentQuery__Output>;
  
  Register(argument: _netloom_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _netloom_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _netloom_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _netloom_v1_RegisterRequest, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _netloom_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _netloom_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _netloom_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _netloom_v1_RegisterRequest, callback: grpc.requestCallback<_netloom_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseBlock(argument: _netloom_v1_ReleaseBlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseBlock(argument: _netloom_v1_ReleaseBlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseBlock(argument: _netloom_v1_ReleaseBlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseBlock(argument: _netloom_v1_ReleaseBlockRequest, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  releaseBlock(argument: _netloom_v1_ReleaseBlockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  releaseBlock(argument: _netloom_v1_ReleaseBlockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  releaseBlock(argument: _netloom_v1_ReleaseBlockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  releaseBlock(argument: _netloom_v1_ReleaseBlockRequest, callback: grpc.requestCallback<_netloom_v1_ReleaseBlockResponse__Output>): grpc.ClientUnaryCall;
  
  SetEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  SetEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  SetEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  SetEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  setEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  setEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  setEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  setEndpointLabels(argument: _netloom_v1_SetEndpointLabelsRequest, callback: grpc.requestCallback<_netloom_v1_Endpoint__Output>): grpc.ClientUnaryCall;
  
  SyncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _netloom_v1_SyncEndpointsRequest, callback: grpc.requestCallback<_netloom_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  
  WatchDesiredState(argument: _netloom_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_DesiredStateUpdate__Output>;
  WatchDesiredState(argument: _netloom_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_DesiredStateUpdate__Output>;
  watchDesiredState(argument: _netloom_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_DesiredStateUpdate__Output>;
  watchDesiredState(argument: _netloom_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_netloom_v1_DesiredStateUpdate__Output>;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  AnswerQuery: grpc.handleUnaryCall<_netloom_v1_QueryAnswer__Output, _netloom_v1_QueryAnswerAck>;
  
  ClaimBlock: grpc.handleUnaryCall<_netloom_v1_ClaimBlockRequest__Output, _netloom_v1_AddressBlock>;
  
  CreateEndpoint: grpc.handleUnaryCall<_netloom_v1_CreateEndpointRequest__Output, _netloom_v1_Endpoint>;
  
  DeleteEndpoint: grpc.handleUnaryCall<_netloom_v1_DeleteEndpointRequest__Output, _netloom_v1_DeleteEndpointResponse>;
  
  Heartbeat: grpc.handleUnaryCall<_netloom_v1_HeartbeatRequest__Output, _netloom_v1_HeartbeatResponse>;
  
  ListNetworks: grpc.handleUnaryCall<_netloom_v1_ListNetworksRequest__Output, _netloom_v1_ListNetworksResponse>;
  
  LookupNetwork: grpc.handleUnaryCall<_netloom_v1_LookupNetworkRequest__Output, _netloom_v1_Network>;
  
  Queries: grpc.handleServerStreamingCall<_netloom_v1_QueriesRequest__Output, _netloom_v1_AgentQuery>;
  
  Register: grpc.handleUnaryCall<_netloom_v1_RegisterRequest__Output, _netloom_v1_RegisterResponse>;
  
  ReleaseBlock: grpc.handleUnaryCall<_netloom_v1_ReleaseBlockRequest__Output, _netloom_v1_ReleaseBlockResponse>;
  
  SetEndpointLabels: grpc.handleUnaryCall<_netloom_v1_SetEndpointLabelsRequest__Output, _netloom_v1_Endpoint>;
  
  SyncEndpoints: grpc.handleUnaryCall<_netloom_v1_SyncEndpointsRequest__Output, _netloom_v1_SyncEndpointsResponse>;
  
  WatchDesiredState: grpc.handleServerStreamingCall<_netloom_v1_WatchRequest__Output, _netloom_v1_DesiredStateUpdate>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  AnswerQuery: MethodDefinition<_netloom_v1_QueryAnswer, _netloom_v1_QueryAnswerAck, _netloom_v1_QueryAnswer__Output, _netloom_v1_QueryAnswerAck__Output>
  ClaimBlock: MethodDefinition<_netloom_v1_ClaimBlockRequest, _netloom_v1_AddressBlock, _netloom_v1_ClaimBlockRequest__Output, _netloom_v1_AddressBlock__Output>
  CreateEndpoint: MethodDefinition<_netloom_v1_CreateEndpointRequest, _netloom_v1_Endpoint, _netloom_v1_CreateEndpointRequest__Output, _netloom_v1_Endpoint__Output>
  DeleteEndpoint: MethodDefinition<_netloom_v1_DeleteEndpointRequest, _netloom_v1_DeleteEndpointResponse, _netloom_v1_DeleteEndpointRequest__Output, _netloom_v1_DeleteEndpointResponse__Output>
  Heartbeat: MethodDefinition<_netloom_v1_HeartbeatRequest, _netloom_v1_HeartbeatResponse, _netloom_v1_HeartbeatRequest__Output, _netloom_v1_HeartbeatResponse__Output>
  ListNetworks: MethodDefinition<_netloom_v1_ListNetworksRequest, _netloom_v1_ListNetworksResponse, _netloom_v1_ListNetworksRequest__Output, _netloom_v1_ListNetworksResponse__Output>
  LookupNetwork: MethodDefinition<_netloom_v1_LookupNetworkRequest, _netloom_v1_Network, _netloom_v1_LookupNetworkRequest__Output, _netloom_v1_Network__Output>
  Queries: MethodDefinition<_netloom_v1_QueriesRequest, _netloom_v1_AgentQuery, _netloom_v1_QueriesRequest__Output, _netloom_v1_AgentQuery__Output>
  Register: MethodDefinition<_netloom_v1_RegisterRequest, _netloom_v1_RegisterResponse, _netloom_v1_RegisterRequest__Output, _netloom_v1_RegisterResponse__Output>
  ReleaseBlock: MethodDefinition<_netloom_v1_ReleaseBlockRequest, _netloom_v1_ReleaseBlockResponse, _netloom_v1_ReleaseBlockRequest__Output, _netloom_v1_ReleaseBlockResponse__Output>
  SetEndpointLabels: MethodDefinition<_netloom_v1_SetEndpointLabelsRequest, _netloom_v1_Endpoint, _netloom_v1_SetEndpointLabelsRequest__Output, _netloom_v1_Endpoint__Output>
  SyncEndpoints: MethodDefinition<_netloom_v1_SyncEndpointsRequest, _netloom_v1_SyncEndpointsResponse, _netloom_v1_SyncEndpointsRequest__Output, _netloom_v1_SyncEndpointsResponse__Output>
  WatchDesiredState: MethodDefinition<_netloom_v1_WatchRequest, _netloom_v1_DesiredStateUpdate, _netloom_v1_WatchRequest__Output, _netloom_v1_DesiredStateUpdate__Output>
}
