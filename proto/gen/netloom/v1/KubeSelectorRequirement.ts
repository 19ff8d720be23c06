// Original file: proto/netloom/agent.proto


export interface KubeSelectorRequirement {
  'key'?: (string);
  'operator'?: (string);
  'values'?: (string)[];
}

export interface KubeSelectorRequirement__Output {
  'key': (string);
  'operator': (string);
  'values': (string)[];
}
