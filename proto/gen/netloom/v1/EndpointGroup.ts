// Original file: proto/netloom/agent.proto


export interface EndpointGroup {
  'key'?: (string);
  'tenant'?: (string);
  'name'?: (string);
  'network'?: (string);
  'groupId'?: (number);
  'policies'?: (string)[];
  'netProfile'?: (string);
  'pktTag'?: (number);
}

export interface EndpointGroup__Output {
  'key': (string);
  'tenant': (string);
  'name': (string);
  'network': (string);
  'groupId': (number);
  'policies': (string)[];
  'netProfile': (string);
  'pktTag': (number);
}
