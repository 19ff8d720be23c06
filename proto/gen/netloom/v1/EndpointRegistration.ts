// Original file: proto/netloom/agent.proto

import type { KubePod as _netloom_v1_KubePod, KubePod__Output as _netloom_v1_KubePod__Output } from '../../netloom/v1/KubePod';

export interface EndpointRegistration {
  'id'?: (string);
  'idempotencyKey'?: (string);
  'tenant'?: (string);
  'network'?: (string);
  'group'?: (string);
  'containerId'?: (string);
  'containerName'?: (string);
  'intfName'?: (string);
  'ip'?: (string);
  'mac'?: (string);
  'labels'?: ({[key: string]: string});
  'pod'?: (_netloom_v1_KubePod | null);
}

export interface EndpointRegistration__Output {
  'id': (string);
  'idempotencyKey': (string);
  'tenant': (string);
  'network': (string);
  'group': (string);
  'containerId': (string);
  'containerName': (string);
  'intfName': (string);
  'ip': (string);
  'mac': (string);
  'labels': ({[key: string]: string});
  'pod': (_netloom_v1_KubePod__Output | null);
}
