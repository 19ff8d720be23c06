// Original file: proto/netloom/agent.proto


export interface RegisterRequest {
  'host'?: (string);
  'vtepIp'?: (string);
  'mgmtIp'?: (string);
  'capabilities'?: (string)[];
  'agentVersion'?: (string);
}

export interface RegisterRequest__Output {
  'host': (string);
  'vtepIp': (string);
  'mgmtIp': (string);
  'capabilities': (string)[];
  'agentVersion': (string);
}
