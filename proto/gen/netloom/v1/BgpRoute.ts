// Original file: proto/netloom/agent.proto


export interface BgpRoute {
  'prefix'?: (string);
  'nextHops'?: (string)[];
}

export interface BgpRoute__Output {
  'prefix': (string);
  'nextHops': (string)[];
}
