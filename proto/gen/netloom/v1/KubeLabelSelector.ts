// Original file: proto/netloom/agent.proto

import type { KubeSelectorRequirement as _netloom_v1_KubeSelectorRequirement, KubeSelectorRequirement__Output as _netloom_v1_KubeSelectorRequirement__Output } from '../../netloom/v1/KubeSelectorRequirement';

export interface KubeLabelSelector {
  'matchLabels'?: ({[key: string]: string});
  'matchExpressions'?: (_netloom_v1_KubeSelectorRequirement)[];
}

export interface KubeLabelSelector__Output {
  'matchLabels': ({[key: string]: string});
  'matchExpressions': (_netloom_v1_KubeSelectorRequirement__Output)[];
}
