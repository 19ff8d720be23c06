// Original file: proto/netloom/agent.proto


export interface Progress {
}

export interface Progress__Output {
}
