/**
 * The rule counters of a heartbeat (proto/netloom/agent.proto RuleCounter), shared by the agent
 * that sends them and netmaster that checks them: the most one heartbeat carries and the longest
 * rule id. An agent with more rules sends the first MAX_RULE_COUNTERS by rule id.
 */
export const MAX_RULE_COUNTERS = 4096;
export const MAX_RULE_ID_LENGTH = 512;
