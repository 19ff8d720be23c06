/**
 * HTTP status and JSON body for errors: `{"error": message, "field": name, "code": CODE}`,
 * 400 for bad input, 404 for missing objects, 409 for conflicts and objects in use.
 */
import { NetloomError, type ErrorCode } from '../../lib/errors';

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  DECODE_ERROR: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  IN_USE: 409,
  EXHAUSTED: 409,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

export function httpStatusOf(e: unknown): number {
  return e instanceof NetloomError ? (STATUS[e.code] ?? 500) : 500;
}

export function errorBody(e: unknown): { error: string; field?: string; code: string; details?: unknown } {
  if (e instanceof NetloomError) {
    return { error: e.message, ...(e.field ? { field: e.field } : {}), code: e.code, ...(e.details ? { details: e.details } : {}) };
  }
  return { error: e instanceof Error ? e.message : String(e), code: 'INTERNAL' };
}
