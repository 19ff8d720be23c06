// Original file: proto/netloom/agent.proto

import type { TraceResult as _netloom_v1_TraceResult, TraceResult__Output as _netloom_v1_TraceResult__Output } from '../../netloom/v1/TraceResult';
import type { BgpInspectResult as _netloom_v1_BgpInspectResult, BgpInspectResult__Output as _netloom_v1_BgpInspectResult__Output } from '../../netloom/v1/BgpInspectResult';

export interface QueryAnswer {
  'host'?: (string);
  'id'?: (string);
  'trace'?: (_netloom_v1_TraceResult | null);
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'errorField'?: (string);
  'bgp'?: (_netloom_v1_BgpInspectResult | null);
}

export interface QueryAnswer__Output {
  'host': (string);
  'id': (string);
  'trace': (_netloom_v1_TraceResult__Output | null);
  'errorCode': (string);
  'errorMessage': (string);
  'errorField': (string);
  'bgp': (_netloom_v1_BgpInspectResult__Output | null);
}
