/**
 * The wire format of Docker's plugin protocol for a libnetwork remote NetworkDriver and IpamDriver:
 * method names (URL paths), request schemas (validated with zod, with errors that name the bad
 * field) and the response shapes. Pure data and parsing; no I/O.
 *
 * Facts from libnetwork's docs/remote.md and docs/ipam.md, checked against dockerd 20.10.24:
 * every call is an HTTP POST with a JSON body (Plugin.Activate and the GetCapabilities calls have
 * an empty one); a failure is `{"Err": "..."}`.
 */
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { ID_PATTERN, MAX_ID_LENGTH, MAX_MAP_ENTRIES, MAX_POOL_ID_LENGTH, MAX_SHORT_TEXT, MAX_TEXT, printable } from './limits';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

/** The key under which `docker network create -o k=v` options arrive in CreateNetwork's Options. */
export const GENERIC_OPTIONS_KEY = 'com.docker.network.generic';
/** The RequestAddress option that marks the network gateway request. */
export const REQUEST_ADDRESS_TYPE = 'RequestAddressType';
export const GATEWAY_ADDRESS_TYPE = 'com.docker.network.gateway';

export const NETWORK_DRIVER_METHODS = [
  'GetCapabilities',
  'CreateNetwork',
  'DeleteNetwork',
  'CreateEndpoint',
  'DeleteEndpoint',
  'EndpointOperInfo',
  'Join',
  'Leave',
  'DiscoverNew',
  'DiscoverDelete',
  'ProgramExternalConnectivity',
  'RevokeExternalConnectivity',
  'AllocateNetwork',
  'FreeNetwork',
] as const;
export const IPAM_DRIVER_METHODS = [
  'GetCapabilities',
  'GetDefaultAddressSpaces',
  'RequestPool',
  'ReleasePool',
  'RequestAddress',
  'ReleaseAddress',
] as const;

export type NetworkDriverMethod = (typeof NETWORK_DRIVER_METHODS)[number];
export type IpamDriverMethod = (typeof IPAM_DRIVER_METHODS)[number];

/** The address space this IPAM driver serves (GetDefaultAddressSpaces); '' means the default. */
export const DEFAULT_ADDRESS_SPACE = 'netloom';

const NON_EMPTY = 'must be a non-empty string';
/** A Docker network or endpoint id: it becomes a key of the state file and part of the agent's records. */
const id = z
  .string()
  .min(1, NON_EMPTY)
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(ID_PATTERN, "must be a Docker id (letters, digits, '_', '.', '-'; starting with a letter or digit)");
const poolId = z.string().min(1, NON_EMPTY).max(MAX_POOL_ID_LENGTH, `must be at most ${MAX_POOL_ID_LENGTH} characters`);
const shortText = z.string().max(MAX_SHORT_TEXT, `must be at most ${MAX_SHORT_TEXT} characters`);
/** An address or CIDR; '' (or null, absent) when not given. */
const optionalAddress = shortText.nullish().transform((s) => s ?? '');
const addressSpace = shortText
  .refine((s) => s === '' || s === DEFAULT_ADDRESS_SPACE, `unknown address space; this driver serves "${DEFAULT_ADDRESS_SPACE}"`)
  .nullish()
  .transform((s) => s ?? '');
/**
 * CreateNetwork's address space names the network's IPAM driver's space: ours, or another's (Docker's
 * default IPAM says LocalDefault / GlobalDefault); only a bounded plain name is accepted.
 */
const anyAddressSpace = shortText
  .regex(/^([A-Za-z0-9][A-Za-z0-9_.-]*)?$/, "must be an address space name (letters, digits, '_', '.', '-')")
  .nullish()
  .transform((s) => s ?? '');
const sandboxKey = z
  .string()
  .min(1, NON_EMPTY)
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine(printable, 'must not contain control characters');
const mapKey = z.string().max(MAX_SHORT_TEXT, `option names are at most ${MAX_SHORT_TEXT} characters`);
const fewEntries = (m: Record<string, unknown>): boolean => Object.keys(m).length <= MAX_MAP_ENTRIES;
const TOO_MANY = `at most ${MAX_MAP_ENTRIES} entries`;
/** Docker sends `null` for empty maps and lists in some calls; treat null like absent. */
const stringMap = z
  .record(mapKey, z.string().max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`))
  .refine(fewEntries, TOO_MANY)
  .nullish()
  .transform((m) => m ?? {});
const anyMap = z
  .record(mapKey, z.unknown())
  .refine(fewEntries, TOO_MANY)
  .nullish()
  .transform((m) => m ?? {});

const ipamData = z.object({
  AddressSpace: anyAddressSpace,
  Pool: shortText.min(1, 'must be a CIDR such as 10.1.0.0/24'),
  Gateway: optionalAddress,
  AuxAddresses: stringMap,
});
const ipamDataList = z
  .array(ipamData)
  .max(MAX_MAP_ENTRIES, TOO_MANY)
  .nullish()
  .transform((l) => l ?? []);

export const createNetworkRequest = z.object({
  NetworkID: id,
  Options: anyMap,
  IPv4Data: ipamDataList,
  IPv6Data: ipamDataList,
});
export const networkIdRequest = z.object({ NetworkID: id });
export const createEndpointRequest = z.object({
  NetworkID: id,
  EndpointID: id,
  Options: anyMap,
  Interface: z
    .object({ Address: optionalAddress, AddressIPv6: optionalAddress, MacAddress: optionalAddress })
    .nullish()
    .transform((i) => i ?? { Address: '', AddressIPv6: '', MacAddress: '' }),
});
export const endpointRequest = z.object({ NetworkID: id, EndpointID: id });
export const joinRequest = z.object({ NetworkID: id, EndpointID: id, SandboxKey: sandboxKey, Options: anyMap });
export const externalConnectivityRequest = z.object({ NetworkID: id, EndpointID: id, Options: anyMap });
export const discoverRequest = z.object({ DiscoveryType: z.number().int(), DiscoveryData: z.unknown() });
export const allocateNetworkRequest = z.object({
  NetworkID: id,
  Options: stringMap,
  IPv4Data: ipamDataList,
  IPv6Data: ipamDataList,
});

export const requestPoolRequest = z.object({
  AddressSpace: addressSpace,
  Pool: optionalAddress,
  SubPool: optionalAddress,
  Options: stringMap,
  V6: z
    .boolean()
    .nullish()
    .transform((b) => b ?? false),
});
export const releasePoolRequest = z.object({ PoolID: poolId });
export const requestAddressRequest = z.object({ PoolID: poolId, Address: optionalAddress, Options: stringMap });
export const releaseAddressRequest = z.object({ PoolID: poolId, Address: shortText.min(1, NON_EMPTY) });

export type CreateNetworkRequest = z.output<typeof createNetworkRequest>;
export type CreateEndpointRequest = z.output<typeof createEndpointRequest>;
export type EndpointRequest = z.output<typeof endpointRequest>;
export type JoinRequest = z.output<typeof joinRequest>;
export type ExternalConnectivityRequest = z.output<typeof externalConnectivityRequest>;
export type AllocateNetworkRequest = z.output<typeof allocateNetworkRequest>;
export type RequestPoolRequest = z.output<typeof requestPoolRequest>;
export type RequestAddressRequest = z.output<typeof requestAddressRequest>;
export type ReleaseAddressRequest = z.output<typeof releaseAddressRequest>;

/** Response bodies. Field names are Docker's (Go struct field names). */
export interface ActivateResponse {
  Implements: string[];
}
export interface NetworkCapabilitiesResponse {
  Scope: 'local' | 'global';
  ConnectivityScope: 'local' | 'global';
}
export interface CreateEndpointResponse {
  Interface?: { Address?: string; AddressIPv6?: string; MacAddress?: string };
}
export interface StaticRoute {
  Destination: string;
  /** 0: via NextHop, 1: connected */
  RouteType: 0 | 1;
  NextHop?: string;
}
export interface JoinResponse {
  InterfaceName: { SrcName: string; DstPrefix: string };
  Gateway?: string;
  StaticRoutes?: StaticRoute[];
  DisableGatewayService: boolean;
}
export interface EndpointOperInfoResponse {
  Value: Record<string, unknown>;
}
export interface IpamCapabilitiesResponse {
  RequiresMACAddress: boolean;
  RequiresRequestReplay: boolean;
}
export interface AddressSpacesResponse {
  LocalDefaultAddressSpace: string;
  GlobalDefaultAddressSpace: string;
}
export interface RequestPoolResponse {
  PoolID: string;
  Pool: string;
  Data: Record<string, string>;
}
export interface RequestAddressResponse {
  Address: string;
  Data: Record<string, string>;
}
/**
 * A failed call. The network driver protocol reads `Err`; the IPAM protocol reads `Error`
 * (libnetwork's ipams/remote/api Response), so IPAM failures carry both.
 */
export interface ErrorResponse {
  Err: string;
  Error?: string;
}

/** The error body for `method` (pure): `Error` as well for IpamDriver calls. */
export function errorResponse(method: string, message: string): ErrorResponse {
  return method.startsWith('IpamDriver.') ? { Err: message, Error: message } : { Err: message };
}

/** Marks errors about the shape of a request (answered with HTTP 400), as opposed to failed operations. */
const MALFORMED = { malformed: true };
export function isMalformedRequestError(e: unknown): boolean {
  return e instanceof NetloomError && e.details?.malformed === true;
}

/** Parse a JSON body; an empty body is `{}` (Docker sends none to Activate and GetCapabilities). */
export function parseJsonBody(method: string, body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new NetloomError('DECODE_ERROR', `${method}: request body is not valid JSON: ${(e as Error).message}`, { details: MALFORMED });
  }
}

/** Validate `value` against `schema`; the error names the method and the first bad field. */
export function parseRequest<S extends z.ZodType>(method: string, schema: S, value: unknown): z.output<S> {
  return parseWith(schema, value, { what: method, rootField: '(body)', missingReason: 'required field is missing', details: MALFORMED });
}
