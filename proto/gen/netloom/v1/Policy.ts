// Original file: proto/netloom/agent.proto

import type { Rule as _netloom_v1_Rule, Rule__Output as _netloom_v1_Rule__Output } from '../../netloom/v1/Rule';

export interface Policy {
  'key'?: (string);
  'tenant'?: (string);
  'name'?: (string);
  'rules'?: (_netloom_v1_Rule)[];
}

export interface Policy__Output {
  'key': (string);
  'tenant': (string);
  'name': (string);
  'rules': (_netloom_v1_Rule__Output)[];
}
