// Original file: proto/netloom/agent.proto


export interface KubePolicyPort {
  'protocol'?: (string);
  'port'?: (number);
  'namedPort'?: (string);
  'endPort'?: (number);
}

export interface KubePolicyPort__Output {
  'protocol': (string);
  'port': (number);
  'namedPort': (string);
  'endPort': (number);
}
