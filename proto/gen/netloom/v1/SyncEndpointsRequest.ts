// Original file: proto/netloom/agent.proto

import type { EndpointRegistration as _netloom_v1_EndpointRegistration, EndpointRegistration__Output as _netloom_v1_EndpointRegistration__Output } from '../../netloom/v1/EndpointRegistration';

export interface SyncEndpointsRequest {
  'host'?: (string);
  'deregister'?: (string)[];
  'register'?: (_netloom_v1_EndpointRegistration)[];
}

export interface SyncEndpointsRequest__Output {
  'host': (string);
  'deregister': (string)[];
  'register': (_netloom_v1_EndpointRegistration__Output)[];
}
