// Original file: proto/netloom/agent.proto


export interface Tenant {
  'name'?: (string);
  'ctZone'?: (number);
  'vrfId'?: (number);
}

export interface Tenant__Output {
  'name': (string);
  'ctZone': (number);
  'vrfId': (number);
}
