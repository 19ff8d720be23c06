/**
 * A failed gRPC call to a daemon netloom drives (containerd's CRI, gobgpd) as a NetloomError that
 * names the daemon and the call and quotes its answer: the one mapping of their status codes to
 * ours (netloom's own agent API carries its codes in metadata instead: proto/status.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { NetloomError, type ErrorCode } from './errors';

const BY_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [grpc.status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
};

/** `daemon rpc: detail`, coded by the gRPC status (COMMAND_FAILED for the daemon's other refusals); a NetloomError passes as is. */
export function grpcCallError(daemon: string, rpc: string, e: unknown): NetloomError {
  if (e instanceof NetloomError) return e;
  const se = e as Partial<grpc.ServiceError>;
  const detail = se.details ?? (e as Error).message ?? String(e);
  const code = (se.code !== undefined ? BY_STATUS[se.code] : undefined) ?? 'COMMAND_FAILED';
  return new NetloomError(code, `${daemon} ${rpc}: ${detail}`, { details: { rpc, grpcCode: se.code }, cause: e });
}
