// Original file: proto/netloom/agent.proto


export interface Global {
  'fwdMode'?: (string);
  'arpMode'?: (string);
  'pvtSubnet'?: (string);
  'networkInfraType'?: (string);
}

export interface Global__Output {
  'fwdMode': (string);
  'arpMode': (string);
  'pvtSubnet': (string);
  'networkInfraType': (string);
}
