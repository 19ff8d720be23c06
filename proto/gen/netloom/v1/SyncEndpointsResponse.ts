// Original file: proto/netloom/agent.proto

import type { SyncResult as _netloom_v1_SyncResult, SyncResult__Output as _netloom_v1_SyncResult__Output } from '../../netloom/v1/SyncResult';

export interface SyncEndpointsResponse {
  'deregistered'?: (_netloom_v1_SyncResult)[];
  'registered'?: (_netloom_v1_SyncResult)[];
}

export interface SyncEndpointsResponse__Output {
  'deregistered': (_netloom_v1_SyncResult__Output)[];
  'registered': (_netloom_v1_SyncResult__Output)[];
}
