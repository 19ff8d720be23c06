// Original file: proto/netloom/agent.proto


export interface EndpointRegistration {
  'id'?: (string);
  'idempotencyKey'?: (string);
  'tenant'?: (string);
  'network'?: (string);
  'group'?: (string);
  'containerId'?: (string);
  'containerName'?: (string);
  'intfName'?: (string);
  'ip'?: (string);
  'mac'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface EndpointRegistration__Output {
  'id': (string);
  'idempotencyKey': (string);
  'tenant': (string);
  'network': (string);
  'group': (string);
  'containerId': (string);
  'containerName': (string);
  'intfName': (string);
  'ip': (string);
  'mac': (string);
  'labels': ({[key: string]: string});
}
