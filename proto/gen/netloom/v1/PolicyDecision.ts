// Original file: proto/netloom/agent.proto


export interface PolicyDecision {
  'direction'?: (string);
  'table'?: (number);
  'tableName'?: (string);
  'object'?: (string);
  'tenant'?: (string);
  'policy'?: (string);
  'ruleId'?: (string);
  'isolationEndpoint'?: (string);
  'action'?: (string);
}

export interface PolicyDecision__Output {
  'direction': (string);
  'table': (number);
  'tableName': (string);
  'object': (string);
  'tenant': (string);
  'policy': (string);
  'ruleId': (string);
  'isolationEndpoint': (string);
  'action': (string);
}
