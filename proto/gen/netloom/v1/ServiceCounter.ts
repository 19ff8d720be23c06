// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface ServiceCounter {
  'service'?: (string);
  'endpointId'?: (string);
  'packets'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'connections'?: (number | string | Long);
}

export interface ServiceCounter__Output {
  'service': (string);
  'endpointId': (string);
  'packets': (string);
  'bytes': (string);
  'connections': (string);
}
