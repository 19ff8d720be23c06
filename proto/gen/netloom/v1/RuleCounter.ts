// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface RuleCounter {
  'ruleId'?: (string);
  'packets'?: (number | string | Long);
  'bytes'?: (number | string | Long);
}

export interface RuleCounter__Output {
  'ruleId': (string);
  'packets': (string);
  'bytes': (string);
}
