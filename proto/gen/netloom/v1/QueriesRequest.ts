// Original file: proto/netloom/agent.proto


export interface QueriesRequest {
  'host'?: (string);
}

export interface QueriesRequest__Output {
  'host': (string);
}
