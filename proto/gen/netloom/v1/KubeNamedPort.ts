// Original file: proto/netloom/agent.proto


export interface KubeNamedPort {
  'name'?: (string);
  'protocol'?: (string);
  'port'?: (number);
}

export interface KubeNamedPort__Output {
  'name': (string);
  'protocol': (string);
  'port': (number);
}
