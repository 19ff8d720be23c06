// Original file: proto/netloom/agent.proto


export interface BgpNeighborStatus {
  'address'?: (string);
  'peerAs'?: (number);
  'localAs'?: (number);
  'state'?: (string);
  'adminDown'?: (boolean);
  'uptimeSeconds'?: (number);
  'holdTime'?: (number);
  'negotiatedHoldTime'?: (number);
  'received'?: (number);
  'accepted'?: (number);
  'advertised'?: (number);
}

export interface BgpNeighborStatus__Output {
  'address': (string);
  'peerAs': (number);
  'localAs': (number);
  'state': (string);
  'adminDown': (boolean);
  'uptimeSeconds': (number);
  'holdTime': (number);
  'negotiatedHoldTime': (number);
  'received': (number);
  'accepted': (number);
  'advertised': (number);
}
