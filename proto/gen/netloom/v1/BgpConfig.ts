// Original file: proto/netloom/agent.proto

import type { BgpNeighbor as _netloom_v1_BgpNeighbor, BgpNeighbor__Output as _netloom_v1_BgpNeighbor__Output } from '../../netloom/v1/BgpNeighbor';

export interface BgpConfig {
  'hostname'?: (string);
  'routerIp'?: (string);
  'as'?: (number);
  'neighbor'?: (string);
  'neighborAs'?: (number);
  'neighbors'?: (_netloom_v1_BgpNeighbor)[];
  'holdTime'?: (number);
  'keepaliveTime'?: (number);
  'fromDefault'?: (boolean);
}

export interface BgpConfig__Output {
  'hostname': (string);
  'routerIp': (string);
  'as': (number);
  'neighbor': (string);
  'neighborAs': (number);
  'neighbors': (_netloom_v1_BgpNeighbor__Output)[];
  'holdTime': (number);
  'keepaliveTime': (number);
  'fromDefault': (boolean);
}
