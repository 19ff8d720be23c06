// Original file: proto/netloom/agent.proto


export interface KubeNamespace {
  'key'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface KubeNamespace__Output {
  'key': (string);
  'labels': ({[key: string]: string});
}
