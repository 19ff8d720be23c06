/**
 * The error contract of the agent API, shared by netmaster (server) and netplugin (client):
 * NetloomError codes to gRPC status codes (and back, for the client). The message names the bad
 * field; the code and field also travel as trailing metadata (`netloom-code`, `netloom-field`).
 * Field names of the service (REST/Contiv names) are translated to the proto's field names.
 */
import * as grpc from '@grpc/grpc-js';
import { NetloomError, errorMessage, isNetloomError, type ErrorCode } from '../lib/errors';

const TO_GRPC: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  DECODE_ERROR: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  IN_USE: grpc.status.FAILED_PRECONDITION,
  CONFLICT: grpc.status.FAILED_PRECONDITION,
  EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  COMMAND_FAILED: grpc.status.INTERNAL,
  INTERNAL: grpc.status.INTERNAL,
};

/** Service (Contiv) field names -> agent.proto field names. */
const FIELD_NAMES: Record<string, string> = {
  tenantName: 'tenant',
  networkName: 'network',
  groupName: 'group',
  homingHost: 'host',
  containerID: 'container_id',
  containerName: 'container_name',
  intfName: 'intf_name',
  idempotencyKey: 'idempotency_key',
  ipAddress: 'requested_ip',
  labels: 'labels',
};

export function grpcStatusOf(code: ErrorCode): grpc.status {
  return TO_GRPC[code];
}

export function protoFieldName(field: string): string {
  return FIELD_NAMES[field] ?? field;
}

/** The gRPC error to send for anything a handler threw. */
export function toServiceError(e: unknown): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (isNetloomError(e)) {
    const field = e.field === undefined ? undefined : protoFieldName(e.field);
    metadata.set('netloom-code', e.code);
    if (field) metadata.set('netloom-field', field);
    const details = field && !e.message.includes(field) ? `${field}: ${e.message}` : e.message;
    return Object.assign(new Error(details), { code: TO_GRPC[e.code], details, metadata });
  }
  const details = `internal error: ${errorMessage(e)}`;
  metadata.set('netloom-code', 'INTERNAL');
  return Object.assign(new Error(details), { code: grpc.status.INTERNAL, details, metadata });
}

const FROM_GRPC: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [grpc.status.FAILED_PRECONDITION]: 'CONFLICT',
  [grpc.status.RESOURCE_EXHAUSTED]: 'EXHAUSTED',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [grpc.status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [grpc.status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
};

/** A gRPC error as the client sees it, back into a NetloomError (the code from metadata when present). */
export function fromServiceError(e: unknown): NetloomError {
  const se = e as Partial<grpc.ServiceError>;
  const metaCode = se.metadata?.get('netloom-code')[0];
  const metaField = se.metadata?.get('netloom-field')[0];
  const code: ErrorCode =
    typeof metaCode === 'string' && metaCode in TO_GRPC
      ? (metaCode as ErrorCode)
      : (FROM_GRPC[se.code ?? grpc.status.UNKNOWN] ?? 'INTERNAL');
  return new NetloomError(code, se.details ?? errorMessage(e), {
    ...(typeof metaField === 'string' ? { field: metaField } : {}),
    cause: e,
  });
}
