// Original file: proto/netloom/agent.proto

import type { KubeLabelSelector as _netloom_v1_KubeLabelSelector, KubeLabelSelector__Output as _netloom_v1_KubeLabelSelector__Output } from '../../netloom/v1/KubeLabelSelector';
import type { KubePolicyRule as _netloom_v1_KubePolicyRule, KubePolicyRule__Output as _netloom_v1_KubePolicyRule__Output } from '../../netloom/v1/KubePolicyRule';

export interface KubeNetworkPolicy {
  'key'?: (string);
  'namespace'?: (string);
  'name'?: (string);
  'podSelector'?: (_netloom_v1_KubeLabelSelector | null);
  'ingressIsolation'?: (boolean);
  'egressIsolation'?: (boolean);
  'ingress'?: (_netloom_v1_KubePolicyRule)[];
  'egress'?: (_netloom_v1_KubePolicyRule)[];
}

export interface KubeNetworkPolicy__Output {
  'key': (string);
  'namespace': (string);
  'name': (string);
  'podSelector': (_netloom_v1_KubeLabelSelector__Output | null);
  'ingressIsolation': (boolean);
  'egressIsolation': (boolean);
  'ingress': (_netloom_v1_KubePolicyRule__Output)[];
  'egress': (_netloom_v1_KubePolicyRule__Output)[];
}
