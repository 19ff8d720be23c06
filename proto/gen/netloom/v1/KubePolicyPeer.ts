// Original file: proto/netloom/agent.proto

import type { KubeLabelSelector as _netloom_v1_KubeLabelSelector, KubeLabelSelector__Output as _netloom_v1_KubeLabelSelector__Output } from '../../netloom/v1/KubeLabelSelector';
import type { KubeIpBlock as _netloom_v1_KubeIpBlock, KubeIpBlock__Output as _netloom_v1_KubeIpBlock__Output } from '../../netloom/v1/KubeIpBlock';

export interface KubePolicyPeer {
  'podSelector'?: (_netloom_v1_KubeLabelSelector | null);
  'namespaceSelector'?: (_netloom_v1_KubeLabelSelector | null);
  'ipBlock'?: (_netloom_v1_KubeIpBlock | null);
}

export interface KubePolicyPeer__Output {
  'podSelector': (_netloom_v1_KubeLabelSelector__Output | null);
  'namespaceSelector': (_netloom_v1_KubeLabelSelector__Output | null);
  'ipBlock': (_netloom_v1_KubeIpBlock__Output | null);
}
