// Original file: proto/netloom/agent.proto


export interface ListNetworksRequest {
  'host'?: (string);
}

export interface ListNetworksRequest__Output {
  'host': (string);
}
