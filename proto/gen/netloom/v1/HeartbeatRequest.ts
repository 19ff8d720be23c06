// Original file: proto/netloom/agent.proto

import type { RuleCounter as _netloom_v1_RuleCounter, RuleCounter__Output as _netloom_v1_RuleCounter__Output } from '../../netloom/v1/RuleCounter';
import type { ServiceCounter as _netloom_v1_ServiceCounter, ServiceCounter__Output as _netloom_v1_ServiceCounter__Output } from '../../netloom/v1/ServiceCounter';
import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  'host'?: (string);
  'leaseId'?: (number | string | Long);
  'appliedRevision'?: (number | string | Long);
  'ruleCounters'?: (_netloom_v1_RuleCounter)[];
  'serviceCounters'?: (_netloom_v1_ServiceCounter)[];
}

export interface HeartbeatRequest__Output {
  'host': (string);
  'leaseId': (string);
  'appliedRevision': (string);
  'ruleCounters': (_netloom_v1_RuleCounter__Output)[];
  'serviceCounters': (_netloom_v1_ServiceCounter__Output)[];
}
