// Original file: proto/netloom/agent.proto


export interface Rule {
  'ruleId'?: (string);
  'direction'?: (string);
  'priority'?: (number);
  'action'?: (string);
  'protocol'?: (string);
  'port'?: (number);
  'fromGroup'?: (string);
  'toGroup'?: (string);
  'fromNetwork'?: (string);
  'toNetwork'?: (string);
  'fromIp'?: (string);
  'toIp'?: (string);
}

export interface Rule__Output {
  'ruleId': (string);
  'direction': (string);
  'priority': (number);
  'action': (string);
  'protocol': (string);
  'port': (number);
  'fromGroup': (string);
  'toGroup': (string);
  'fromNetwork': (string);
  'toNetwork': (string);
  'fromIp': (string);
  'toIp': (string);
}
