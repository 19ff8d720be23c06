// Original file: proto/netloom/agent.proto

import type { BgpNeighborStatus as _netloom_v1_BgpNeighborStatus, BgpNeighborStatus__Output as _netloom_v1_BgpNeighborStatus__Output } from '../../netloom/v1/BgpNeighborStatus';
import type { BgpRoute as _netloom_v1_BgpRoute, BgpRoute__Output as _netloom_v1_BgpRoute__Output } from '../../netloom/v1/BgpRoute';

export interface BgpInspectResult {
  'host'?: (string);
  'running'?: (boolean);
  'error'?: (string);
  'pid'?: (number);
  'as'?: (number);
  'routerId'?: (string);
  'neighbors'?: (_netloom_v1_BgpNeighborStatus)[];
  'announced'?: (_netloom_v1_BgpRoute)[];
  'installed'?: (_netloom_v1_BgpRoute)[];
}

export interface BgpInspectResult__Output {
  'host': (string);
  'running': (boolean);
  'error': (string);
  'pid': (number);
  'as': (number);
  'routerId': (string);
  'neighbors': (_netloom_v1_BgpNeighborStatus__Output)[];
  'announced': (_netloom_v1_BgpRoute__Output)[];
  'installed': (_netloom_v1_BgpRoute__Output)[];
}
