/**
 * CNI error codes (spec 1.1.0, section 5 "Error") and the mapping from netloom's own error codes to
 * them. A CniError is what the handler sends back to the shim, which prints it on stdout as the
 * CNI error result `{cniVersion, code, msg, details}`.
 */
import { isNetloomError, errorMessage, type ErrorCode } from '../../lib/errors';

export const CNI_CODE = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  NOT_AVAILABLE_LIMITED: 51,
  // plugin-specific codes (100+), documented in docs/cni.md
  CONFLICT: 100,
  EXHAUSTED: 101,
  CHECK_FAILED: 102,
  INTERNAL: 999,
} as const;

export type CniErrorCode = (typeof CNI_CODE)[keyof typeof CNI_CODE];

export class CniError extends Error {
  readonly code: CniErrorCode;
  readonly details: string;

  constructor(code: CniErrorCode, msg: string, details = '') {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }

  /** The CNI error result, in the given protocol version. */
  toResult(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

const FROM_NETLOOM: Record<ErrorCode, CniErrorCode> = {
  INVALID_ARGUMENT: CNI_CODE.INVALID_CONFIG,
  DECODE_ERROR: CNI_CODE.DECODE_FAILURE,
  NOT_FOUND: CNI_CODE.UNKNOWN_CONTAINER,
  ALREADY_EXISTS: CNI_CODE.CONFLICT,
  CONFLICT: CNI_CODE.CONFLICT,
  IN_USE: CNI_CODE.CONFLICT,
  EXHAUSTED: CNI_CODE.EXHAUSTED,
  UNAVAILABLE: CNI_CODE.TRY_AGAIN_LATER,
  TIMEOUT: CNI_CODE.TRY_AGAIN_LATER,
  UNAUTHENTICATED: CNI_CODE.INTERNAL,
  PERMISSION_DENIED: CNI_CODE.INTERNAL,
  COMMAND_FAILED: CNI_CODE.INTERNAL,
  INTERNAL: CNI_CODE.INTERNAL,
};

/** Any error thrown while serving a request, as a CniError (NetloomError codes mapped, the rest 999). */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (isNetloomError(e)) {
    const details = e.field ? `field: ${e.field}` : '';
    return new CniError(FROM_NETLOOM[e.code], e.message, details);
  }
  return new CniError(CNI_CODE.INTERNAL, 'internal error in the netloom agent', errorMessage(e));
}

/** HTTP status the agent answers with for a CNI error code (the shim only looks at 2xx or not). */
export function httpStatusFor(code: number): number {
  switch (code) {
    case CNI_CODE.INCOMPATIBLE_VERSION:
    case CNI_CODE.UNSUPPORTED_FIELD:
    case CNI_CODE.INVALID_ENV:
    case CNI_CODE.DECODE_FAILURE:
    case CNI_CODE.INVALID_CONFIG:
      return 400;
    case CNI_CODE.UNKNOWN_CONTAINER:
      return 404;
    case CNI_CODE.CONFLICT:
      return 409;
    case CNI_CODE.TRY_AGAIN_LATER:
    case CNI_CODE.NOT_AVAILABLE:
    case CNI_CODE.NOT_AVAILABLE_LIMITED:
      return 503;
    default:
      return 500;
  }
}
