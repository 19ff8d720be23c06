/**
 * The CNI front end of the agent: what the agent needs to serve `bin/netloom-cni`. Implement
 * `CniBackend`, then either `listenCni(socketPath, { backend, logger })` or mount
 * `createCniHandler({ backend })` on an existing node:http server. Contract: docs/cni.md.
 */
export type * from './types';
export { CniError, CNI_CODE, toCniError } from './errors';
export {
  createCniHandler,
  serveCni,
  CNI_REQUEST_PATH,
  CNI_HEADERS,
  type CniHandlerOptions,
  type CniServeOptions,
  type CniOutcome,
} from './handler';
export { listenCni, DEFAULT_AGENT_SOCKET, type CniServer } from './server';
export { parseCniRequest, type CniEnv, type ParsedCniRequest } from './parse';
export { formatResult, parseResult, SUPPORTED_CNI_VERSIONS, CURRENT_CNI_VERSION } from './version';
export { MAX_NETCONF_BYTES, MAX_ENV_BYTES } from './limits';
export { probeNetns, type NetnsProbe } from './netns-probe';
