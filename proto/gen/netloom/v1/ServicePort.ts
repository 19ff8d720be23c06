// Original file: proto/netloom/agent.proto


export interface ServicePort {
  'port'?: (number);
  'targetPort'?: (number);
  'protocol'?: (string);
  'name'?: (string);
  'nodePort'?: (number);
}

export interface ServicePort__Output {
  'port': (number);
  'targetPort': (number);
  'protocol': (string);
  'name': (string);
  'nodePort': (number);
}
