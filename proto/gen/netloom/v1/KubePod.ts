// Original file: proto/netloom/agent.proto

import type { KubeNamedPort as _netloom_v1_KubeNamedPort, KubeNamedPort__Output as _netloom_v1_KubeNamedPort__Output } from '../../netloom/v1/KubeNamedPort';

export interface KubePod {
  'namespace'?: (string);
  'name'?: (string);
  'uid'?: (string);
  'namedPorts'?: (_netloom_v1_KubeNamedPort)[];
}

export interface KubePod__Output {
  'namespace': (string);
  'name': (string);
  'uid': (string);
  'namedPorts': (_netloom_v1_KubeNamedPort__Output)[];
}
