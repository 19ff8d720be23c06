// Original file: proto/netloom/agent.proto

import type { HostState as _netloom_v1_HostState, HostState__Output as _netloom_v1_HostState__Output } from '../../netloom/v1/HostState';

// Original file: proto/netloom/agent.proto

export const _netloom_v1_Snapshot_Reason = {
  INITIAL: 'INITIAL',
  COMPACTED: 'COMPACTED',
  RESYNC: 'RESYNC',
} as const;

export type _netloom_v1_Snapshot_Reason =
  | 'INITIAL'
  | 0
  | 'COMPACTED'
  | 1
  | 'RESYNC'
  | 2

export type _netloom_v1_Snapshot_Reason__Output = typeof _netloom_v1_Snapshot_Reason[keyof typeof _netloom_v1_Snapshot_Reason]

export interface Snapshot {
  'reason'?: (_netloom_v1_Snapshot_Reason);
  'state'?: (_netloom_v1_HostState | null);
  'more'?: (boolean);
}

export interface Snapshot__Output {
  'reason': (_netloom_v1_Snapshot_Reason__Output);
  'state': (_netloom_v1_HostState__Output | null);
  'more': (boolean);
}
