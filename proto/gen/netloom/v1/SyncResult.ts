// Original file: proto/netloom/agent.proto


// Original file: proto/netloom/agent.proto

export const _netloom_v1_SyncResult_Outcome = {
  OK: 'OK',
  CONFLICT: 'CONFLICT',
  NOT_OWNER: 'NOT_OWNER',
  NOT_FOUND: 'NOT_FOUND',
  INVALID: 'INVALID',
} as const;

export type _netloom_v1_SyncResult_Outcome =
  | 'OK'
  | 0
  | 'CONFLICT'
  | 1
  | 'NOT_OWNER'
  | 2
  | 'NOT_FOUND'
  | 3
  | 'INVALID'
  | 4

export type _netloom_v1_SyncResult_Outcome__Output = typeof _netloom_v1_SyncResult_Outcome[keyof typeof _netloom_v1_SyncResult_Outcome]

export interface SyncResult {
  'endpointId'?: (string);
  'outcome'?: (_netloom_v1_SyncResult_Outcome);
  'message'?: (string);
  'conflictingEndpoint'?: (string);
}

export interface SyncResult__Output {
  'endpointId': (string);
  'outcome': (_netloom_v1_SyncResult_Outcome__Output);
  'message': (string);
  'conflictingEndpoint': (string);
}
