// Original file: proto/netloom/agent.proto

import type { TraceResult as _netloom_v1_TraceResult, TraceResult__Output as _netloom_v1_TraceResult__Output } from '../../netloom/v1/TraceResult';

export interface QueryAnswer {
  'host'?: (string);
  'id'?: (string);
  'trace'?: (_netloom_v1_TraceResult | null);
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'errorField'?: (string);
}

export interface QueryAnswer__Output {
  'host': (string);
  'id': (string);
  'trace': (_netloom_v1_TraceResult__Output | null);
  'errorCode': (string);
  'errorMessage': (string);
  'errorField': (string);
}
