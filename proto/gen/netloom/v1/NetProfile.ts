// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface NetProfile {
  'key'?: (string);
  'tenant'?: (string);
  'name'?: (string);
  'bandwidthKbps'?: (number | string | Long);
  'burstKb'?: (number | string | Long);
  'dscp'?: (number);
}

export interface NetProfile__Output {
  'key': (string);
  'tenant': (string);
  'name': (string);
  'bandwidthKbps': (string);
  'burstKb': (string);
  'dscp': (number);
}
