// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface RegisterResponse {
  'leaseId'?: (number | string | Long);
  'leaseTtlSeconds'?: (number | string | Long);
  'clusterId'?: (string);
}

export interface RegisterResponse__Output {
  'leaseId': (string);
  'leaseTtlSeconds': (string);
  'clusterId': (string);
}
