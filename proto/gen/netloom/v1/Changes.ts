// Original file: proto/netloom/agent.proto

import type { Change as _netloom_v1_Change, Change__Output as _netloom_v1_Change__Output } from '../../netloom/v1/Change';

export interface Changes {
  'changes'?: (_netloom_v1_Change)[];
  'commit'?: (boolean);
}

export interface Changes__Output {
  'changes': (_netloom_v1_Change__Output)[];
  'commit': (boolean);
}
