// Original file: proto/netloom/agent.proto

import type { Snapshot as _netloom_v1_Snapshot, Snapshot__Output as _netloom_v1_Snapshot__Output } from '../../netloom/v1/Snapshot';
import type { Change as _netloom_v1_Change, Change__Output as _netloom_v1_Change__Output } from '../../netloom/v1/Change';
import type { Progress as _netloom_v1_Progress, Progress__Output as _netloom_v1_Progress__Output } from '../../netloom/v1/Progress';
import type { Changes as _netloom_v1_Changes, Changes__Output as _netloom_v1_Changes__Output } from '../../netloom/v1/Changes';
import type { Long } from '@grpc/proto-loader';

export interface DesiredStateUpdate {
  'revision'?: (number | string | Long);
  'snapshot'?: (_netloom_v1_Snapshot | null);
  'change'?: (_netloom_v1_Change | null);
  'progress'?: (_netloom_v1_Progress | null);
  'changes'?: (_netloom_v1_Changes | null);
  'kind'?: "snapshot"|"change"|"progress"|"changes";
}

export interface DesiredStateUpdate__Output {
  'revision': (string);
  'snapshot'?: (_netloom_v1_Snapshot__Output | null);
  'change'?: (_netloom_v1_Change__Output | null);
  'progress'?: (_netloom_v1_Progress__Output | null);
  'changes'?: (_netloom_v1_Changes__Output | null);
  'kind'?: "snapshot"|"change"|"progress"|"changes";
}
