// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface TraceOutput {
  'port'?: (number);
  'kind'?: (string);
  'endpoint'?: (string);
  'tunId'?: (number | string | Long);
  'tunDst'?: (string);
  'vlan'?: (number);
}

export interface TraceOutput__Output {
  'port': (number);
  'kind': (string);
  'endpoint': (string);
  'tunId': (string);
  'tunDst': (string);
  'vlan': (number);
}
