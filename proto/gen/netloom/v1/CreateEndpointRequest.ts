// Original file: proto/netloom/agent.proto


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
}
