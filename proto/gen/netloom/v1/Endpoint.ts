// Original file: proto/netloom/agent.proto

import type { KubePod as _netloom_v1_KubePod, KubePod__Output as _netloom_v1_KubePod__Output } from '../../netloom/v1/KubePod';
import type { Long } from '@grpc/proto-loader';

export interface Endpoint {
  'id'?: (string);
  'network'?: (string);
  'group'?: (string);
  'host'?: (string);
  'ip'?: (string);
  'ipv6'?: (string);
  'mac'?: (string);
  'intfName'?: (string);
  'vtepIp'?: (string);
  'containerId'?: (string);
  'containerName'?: (string);
  'labels'?: ({[key: string]: string});
  'revision'?: (number | string | Long);
  'external'?: (boolean);
  'pod'?: (_netloom_v1_KubePod | null);
}

export interface Endpoint__Output {
  'id': (string);
  'network': (string);
  'group': (string);
  'host': (string);
  'ip': (string);
  'ipv6': (string);
  'mac': (string);
  'intfName': (string);
  'vtepIp': (string);
  'containerId': (string);
  'containerName': (string);
  'labels': ({[key: string]: string});
  'revision': (string);
  'external': (boolean);
  'pod': (_netloom_v1_KubePod__Output | null);
}
