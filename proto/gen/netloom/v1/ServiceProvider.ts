// Original file: proto/netloom/agent.proto


export interface ServiceProvider {
  'endpointId'?: (string);
  'ip'?: (string);
  'targetPorts'?: (number)[];
  'hostIp'?: (string);
}

export interface ServiceProvider__Output {
  'endpointId': (string);
  'ip': (string);
  'targetPorts': (number)[];
  'hostIp': (string);
}
