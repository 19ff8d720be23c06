// Original file: proto/netloom/agent.proto

import type { KubePod as _netloom_v1_KubePod, KubePod__Output as _netloom_v1_KubePod__Output } from '../../netloom/v1/KubePod';

export interface CreateEndpointRequest {
  'idempotencyKey'?: (string);
  'host'?: (string);
  'tenant'?: (string);
  'network'?: (string);
  'group'?: (string);
  'containerId'?: (string);
  'containerName'?: (string);
  'intfName'?: (string);
  'requestedIp'?: (string);
  'requestedMac'?: (string);
  'labels'?: ({[key: string]: string});
  'pod'?: (_netloom_v1_KubePod | null);
}

export interface CreateEndpointRequest__Output {
  'idempotencyKey': (string);
  'host': (string);
  'tenant': (string);
  'network': (string);
  'group': (string);
  'containerId': (string);
  'containerName': (string);
  'intfName': (string);
  'requestedIp': (string);
  'requestedMac': (string);
  'labels': ({[key: string]: string});
  'pod': (_netloom_v1_KubePod__Output | null);
}
