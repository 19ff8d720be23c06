// Original file: proto/netloom/agent.proto


export interface DeleteEndpointResponse {
  'existed'?: (boolean);
}

export interface DeleteEndpointResponse__Output {
  'existed': (boolean);
}
