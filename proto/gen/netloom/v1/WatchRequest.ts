// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchRequest {
  'host'?: (string);
  'resumeFromRevision'?: (number | string | Long);
}

export interface WatchRequest__Output {
  'host': (string);
  'resumeFromRevision': (string);
}
