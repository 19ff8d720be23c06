// Original file: proto/netloom/agent.proto

import type { TraceRequest as _netloom_v1_TraceRequest, TraceRequest__Output as _netloom_v1_TraceRequest__Output } from '../../netloom/v1/TraceRequest';

export interface AgentQuery {
  'id'?: (string);
  'trace'?: (_netloom_v1_TraceRequest | null);
}

export interface AgentQuery__Output {
  'id': (string);
  'trace': (_netloom_v1_TraceRequest__Output | null);
}
