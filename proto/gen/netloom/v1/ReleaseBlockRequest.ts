// Original file: proto/netloom/agent.proto


export interface ReleaseBlockRequest {
  'host'?: (string);
  'network'?: (string);
  'cidr'?: (string);
}

export interface ReleaseBlockRequest__Output {
  'host': (string);
  'network': (string);
  'cidr': (string);
}
