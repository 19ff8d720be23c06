// Original file: proto/netloom/agent.proto


export interface TraceStep {
  'table'?: (number);
  'tableName'?: (string);
  'priority'?: (number);
  'match'?: (string);
  'cookie'?: (string);
  'feature'?: (string);
  'object'?: (string);
  'actions'?: (string)[];
  'pass'?: (number);
}

export interface TraceStep__Output {
  'table': (number);
  'tableName': (string);
  'priority': (number);
  'match': (string);
  'cookie': (string);
  'feature': (string);
  'object': (string);
  'actions': (string)[];
  'pass': (number);
}
