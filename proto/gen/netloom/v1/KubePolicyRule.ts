// Original file: proto/netloom/agent.proto

import type { KubePolicyPeer as _netloom_v1_KubePolicyPeer, KubePolicyPeer__Output as _netloom_v1_KubePolicyPeer__Output } from '../../netloom/v1/KubePolicyPeer';
import type { KubePolicyPort as _netloom_v1_KubePolicyPort, KubePolicyPort__Output as _netloom_v1_KubePolicyPort__Output } from '../../netloom/v1/KubePolicyPort';

export interface KubePolicyRule {
  'peers'?: (_netloom_v1_KubePolicyPeer)[];
  'ports'?: (_netloom_v1_KubePolicyPort)[];
}

export interface KubePolicyRule__Output {
  'peers': (_netloom_v1_KubePolicyPeer__Output)[];
  'ports': (_netloom_v1_KubePolicyPort__Output)[];
}
