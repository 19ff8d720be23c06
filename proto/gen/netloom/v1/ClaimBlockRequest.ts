// Original file: proto/netloom/agent.proto


export interface ClaimBlockRequest {
  'host'?: (string);
  'network'?: (string);
  'claimId'?: (string);
}

export interface ClaimBlockRequest__Output {
  'host': (string);
  'network': (string);
  'claimId': (string);
}
