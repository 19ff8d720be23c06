// Original file: proto/netloom/agent.proto

import type { Network as _netloom_v1_Network, Network__Output as _netloom_v1_Network__Output } from '../../netloom/v1/Network';

export interface ListNetworksResponse {
  'networks'?: (_netloom_v1_Network)[];
}

export interface ListNetworksResponse__Output {
  'networks': (_netloom_v1_Network__Output)[];
}
