/**
 * The service counters of a heartbeat (proto/netloom/agent.proto ServiceCounter), shared by the
 * agent that sends them and netmaster that checks them: the most one heartbeat carries (one per
 * service provider a host balances to) and the longest service key and endpoint id. An agent
 * with more sends the first MAX_SERVICE_COUNTERS by service key and endpoint id.
 */
export const MAX_SERVICE_COUNTERS = 16384;
export const MAX_SERVICE_KEY_LENGTH = 160;
export const MAX_SERVICE_ENDPOINT_ID_LENGTH = 64;
