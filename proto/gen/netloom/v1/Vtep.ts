// Original file: proto/netloom/agent.proto


export interface Vtep {
  'host'?: (string);
  'vtepIp'?: (string);
}

export interface Vtep__Output {
  'host': (string);
  'vtepIp': (string);
}
