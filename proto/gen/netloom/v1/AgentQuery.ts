// Original file: proto/netloom/agent.proto

import type { TraceRequest as _netloom_v1_TraceRequest, TraceRequest__Output as _netloom_v1_TraceRequest__Output } from '../../netloom/v1/TraceRequest';
import type { BgpInspectRequest as _netloom_v1_BgpInspectRequest, BgpInspectRequest__Output as _netloom_v1_BgpInspectRequest__Output } from '../../netloom/v1/BgpInspectRequest';

export interface AgentQuery {
  'id'?: (string);
  'trace'?: (_netloom_v1_TraceRequest | null);
  'bgp'?: (_netloom_v1_BgpInspectRequest | null);
}

export interface AgentQuery__Output {
  'id': (string);
  'trace': (_netloom_v1_TraceRequest__Output | null);
  'bgp': (_netloom_v1_BgpInspectRequest__Output | null);
}
