// Original file: proto/netloom/agent.proto


export interface BgpNeighbor {
  'address'?: (string);
  'as'?: (number);
}

export interface BgpNeighbor__Output {
  'address': (string);
  'as': (number);
}
