// Original file: proto/netloom/agent.proto


export interface BgpConfig {
  'hostname'?: (string);
  'routerIp'?: (string);
  'as'?: (number);
  'neighbor'?: (string);
  'neighborAs'?: (number);
}

export interface BgpConfig__Output {
  'hostname': (string);
  'routerIp': (string);
  'as': (number);
  'neighbor': (string);
  'neighborAs': (number);
}
