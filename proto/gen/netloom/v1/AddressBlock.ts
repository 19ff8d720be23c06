// Original file: proto/netloom/agent.proto


export interface AddressBlock {
  'network'?: (string);
  'cidr'?: (string);
  'host'?: (string);
  'vtepIp'?: (string);
}

export interface AddressBlock__Output {
  'network': (string);
  'cidr': (string);
  'host': (string);
  'vtepIp': (string);
}
