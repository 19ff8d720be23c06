// Original file: proto/netloom/agent.proto


export interface DeleteEndpointRequest {
  'id'?: (string);
  'idempotencyKey'?: (string);
  'host'?: (string);
}

export interface DeleteEndpointRequest__Output {
  'id': (string);
  'idempotencyKey': (string);
  'host': (string);
}
