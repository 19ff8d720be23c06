// Original file: proto/netloom/agent.proto

import type { TraceStep as _netloom_v1_TraceStep, TraceStep__Output as _netloom_v1_TraceStep__Output } from '../../netloom/v1/TraceStep';
import type { PolicyDecision as _netloom_v1_PolicyDecision, PolicyDecision__Output as _netloom_v1_PolicyDecision__Output } from '../../netloom/v1/PolicyDecision';
import type { TraceOutput as _netloom_v1_TraceOutput, TraceOutput__Output as _netloom_v1_TraceOutput__Output } from '../../netloom/v1/TraceOutput';

export interface TraceResult {
  'host'?: (string);
  'flow'?: (string);
  'steps'?: (_netloom_v1_TraceStep)[];
  'decisions'?: (_netloom_v1_PolicyDecision)[];
  'outputs'?: (_netloom_v1_TraceOutput)[];
  'dropped'?: (boolean);
  'dlSrc'?: (string);
  'dlDst'?: (string);
  'ttl'?: (number);
  'tunSrc'?: (string);
  'raw'?: (string);
}

export interface TraceResult__Output {
  'host': (string);
  'flow': (string);
  'steps': (_netloom_v1_TraceStep__Output)[];
  'decisions': (_netloom_v1_PolicyDecision__Output)[];
  'outputs': (_netloom_v1_TraceOutput__Output)[];
  'dropped': (boolean);
  'dlSrc': (string);
  'dlDst': (string);
  'ttl': (number);
  'tunSrc': (string);
  'raw': (string);
}
