// Original file: proto/netloom/agent.proto


export interface Network {
  'key'?: (string);
  'tenant'?: (string);
  'name'?: (string);
  'encap'?: (string);
  'pktTag'?: (number);
  'subnet'?: (string);
  'gateway'?: (string);
  'ipv6Subnet'?: (string);
  'ipv6Gateway'?: (string);
  'nwType'?: (string);
  'networkId'?: (number);
  'gatewayMac'?: (string);
  'mtu'?: (number);
  'nat'?: (boolean);
  'blockPrefix'?: (number);
}

export interface Network__Output {
  'key': (string);
  'tenant': (string);
  'name': (string);
  'encap': (string);
  'pktTag': (number);
  'subnet': (string);
  'gateway': (string);
  'ipv6Subnet': (string);
  'ipv6Gateway': (string);
  'nwType': (string);
  'networkId': (number);
  'gatewayMac': (string);
  'mtu': (number);
  'nat': (boolean);
  'blockPrefix': (number);
}
