// Original file: proto/netloom/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface TraceRequest {
  'protocol'?: (string);
  'srcIp'?: (string);
  'dstIp'?: (string);
  'srcMac'?: (string);
  'dstMac'?: (string);
  'srcNetwork'?: (string);
  'dstNetwork'?: (string);
  'srcPort'?: (number);
  'dstPort'?: (number);
  'ttl'?: (number);
  'arrival'?: (string);
  'srcEndpoint'?: (string);
  'tunId'?: (number | string | Long);
  'tunSrc'?: (string);
  'tunDst'?: (string);
  'vlan'?: (number);
}

export interface TraceRequest__Output {
  'protocol': (string);
  'srcIp': (string);
  'dstIp': (string);
  'srcMac': (string);
  'dstMac': (string);
  'srcNetwork': (string);
  'dstNetwork': (string);
  'srcPort': (number);
  'dstPort': (number);
  'ttl': (number);
  'arrival': (string);
  'srcEndpoint': (string);
  'tunId': (string);
  'tunSrc': (string);
  'tunDst': (string);
  'vlan': (number);
}
