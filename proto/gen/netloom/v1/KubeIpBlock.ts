// Original file: proto/netloom/agent.proto


export interface KubeIpBlock {
  'cidr'?: (string);
  'except'?: (string)[];
}

export interface KubeIpBlock__Output {
  'cidr': (string);
  'except': (string)[];
}
