// Original file: proto/netloom/agent.proto


export interface QueryAnswerAck {
}

export interface QueryAnswerAck__Output {
}
