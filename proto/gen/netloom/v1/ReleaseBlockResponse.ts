// Original file: proto/netloom/agent.proto


export interface ReleaseBlockResponse {
  'released'?: (boolean);
}

export interface ReleaseBlockResponse__Output {
  'released': (boolean);
}
