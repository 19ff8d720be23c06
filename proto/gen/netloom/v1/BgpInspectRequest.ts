// Original file: proto/netloom/agent.proto


export interface BgpInspectRequest {
}

export interface BgpInspectRequest__Output {
}
