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

const id = z.string().min(1, 'must be a non-empty string');
/** Docker sends `null` for empty maps and lists in some calls; treat null like absent. */
const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((m) => m ?? {});
const anyMap = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((m) => m ?? {});

const ipamData = z.object({
  AddressSpace: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  Pool: z.string().min(1, 'must be a CIDR such as 10.1.0.0/24'),
  Gateway: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  AuxAddresses: stringMap,
});
const ipamDataList = z
  .array(ipamData)
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
    .object({
      Address: z
        .string()
        .nullish()
        .transform((s) => s ?? ''),
      AddressIPv6: z
        .string()
        .nullish()
        .transform((s) => s ?? ''),
      MacAddress: z
        .string()
        .nullish()
        .transform((s) => s ?? ''),
    })
    .nullish()
    .transform((i) => i ?? { Address: '', AddressIPv6: '', MacAddress: '' }),
});
export const endpointRequest = z.object({ NetworkID: id, EndpointID: id });
export const joinRequest = z.object({ NetworkID: id, EndpointID: id, SandboxKey: id, Options: anyMap });
export const externalConnectivityRequest = z.object({ NetworkID: id, EndpointID: id, Options: anyMap });
export const discoverRequest = z.object({ DiscoveryType: z.number().int(), DiscoveryData: z.unknown() });
export const allocateNetworkRequest = z.object({
  NetworkID: id,
  Options: stringMap,
  IPv4Data: ipamDataList,
  IPv6Data: ipamDataList,
});

export const requestPoolRequest = z.object({
  AddressSpace: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  Pool: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  SubPool: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  Options: stringMap,
  V6: z
    .boolean()
    .nullish()
    .transform((b) => b ?? false),
});
export const releasePoolRequest = z.object({ PoolID: id });
export const requestAddressRequest = z.object({
  PoolID: id,
  Address: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  Options: stringMap,
});
export const releaseAddressRequest = z.object({ PoolID: id, Address: id });

export type CreateNetworkRequest = z.output<typeof createNetworkRequest>;
export type CreateEndpointRequest = z.output<typeof createEndpointRequest>;
export type EndpointRequest = z.output<typeof endpointRequest>;
export type JoinRequest = z.output<typeof joinRequest>;
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
