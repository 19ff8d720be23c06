// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatResponse {
  'leaseTtlSeconds'?: (number | string | Long);
  'revision'?: (number | string | Long);
}

export interface HeartbeatResponse__Output {
  'leaseTtlSeconds': (string);
  'revision': (string);
}
