// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  'host'?: (string);
  'leaseId'?: (number | string | Long);
  'appliedRevision'?: (number | string | Long);
}

export interface HeartbeatRequest__Output {
  'host': (string);
  'leaseId': (string);
  'appliedRevision': (string);
}
