// Original file: proto/netloom/agent.proto


export interface SetEndpointLabelsRequest {
  'host'?: (string);
  'id'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface SetEndpointLabelsRequest__Output {
  'host': (string);
  'id': (string);
  'labels': ({[key: string]: string});
}
