// Original file: proto/netloom/agent.proto


export interface LookupNetworkRequest {
  'host'?: (string);
  'tenant'?: (string);
  'network'?: (string);
  'subnet'?: (string);
}

export interface LookupNetworkRequest__Output {
  'host': (string);
  'tenant': (string);
  'network': (string);
  'subnet': (string);
}
