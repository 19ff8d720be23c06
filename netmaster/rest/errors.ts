/**
 * HTTP status and JSON body for errors: `{"error": message, "field": name, "code": CODE}`,
 * 400 for bad input, 404 for missing objects, 409 for conflicts and objects in use, 413/415 for
 * bodies the HTTP layer refuses. Errors of express and its body parser (malformed percent-encoding
 * in a path, an unknown charset or content encoding, a body that does not inflate, one over the
 * size limit) are the caller's: they become 4xx naming what was wrong, never 500.
 */
import { NetloomError, type ErrorCode } from '../../lib/errors';
import { LIMITS } from '../../lib/kinds/limits';

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

/** A caller's error whose HTTP status is not its code's (413 body too large, 415 unsupported encoding). */
export class HttpInputError extends NetloomError {
  constructor(
    readonly status: number,
    message: string,
    field: string,
  ) {
    super('INVALID_ARGUMENT', message, { field });
  }
}

export function httpStatusOf(e: unknown): number {
  if (e instanceof HttpInputError) return e.status;
  return e instanceof NetloomError ? (STATUS[e.code] ?? 500) : 500;
}

/** What express, its router and body parser attach to the errors they raise. */
interface HttpLayerError {
  status?: unknown;
  type?: unknown;
  code?: unknown;
  limit?: unknown;
  message?: unknown;
}

/**
 * Any error as the one the caller sees: NetloomErrors as they are; errors of the HTTP layer with
 * a 4xx status as INVALID_ARGUMENT naming the header, path or body at fault; anything else stays
 * ours (500).
 */
export function toNetloomError(err: unknown): unknown {
  if (err instanceof NetloomError || typeof err !== 'object' || err === null) return err;
  const e = err as HttpLayerError;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined || status < 400 || status > 499) return err;
  const why = typeof e.message === 'string' ? e.message : 'bad request';
  if (typeof e.code === 'string' && e.code.startsWith('Z_'))
    return new HttpInputError(400, `the body does not decode as its Content-Encoding says (${why})`, 'Content-Encoding');
  switch (e.type) {
    case 'entity.too.large': {
      const limit = typeof e.limit === 'number' ? e.limit : LIMITS.bodyBytes;
      return new HttpInputError(413, `the request body is larger than the limit of ${limit} bytes`, 'body');
    }
    case 'charset.unsupported':
      return new HttpInputError(415, `${why}: send JSON as UTF-8`, 'Content-Type');
    case 'encoding.unsupported':
      return new HttpInputError(415, `${why}: use gzip, deflate, br or none`, 'Content-Encoding');
    case 'request.size.invalid':
      return new HttpInputError(400, `${why}: Content-Length does not match the body`, 'Content-Length');
    case 'entity.verify.failed':
    case 'entity.parse.failed':
    case 'request.aborted':
      return new HttpInputError(status, why, 'body');
    default:
      // the router: a path parameter that does not percent-decode ("Failed to decode param ...")
      if (/decode param/i.test(why)) return new HttpInputError(400, `${why}: the path is not valid percent-encoding`, 'path');
      return new HttpInputError(status, why, 'request');
  }
}

export function errorBody(e: unknown): { error: string; field?: string; code: string; details?: unknown } {
  if (e instanceof NetloomError) {
    return { error: e.message, ...(e.field ? { field: e.field } : {}), code: e.code, ...(e.details ? { details: e.details } : {}) };
  }
  return { error: e instanceof Error ? e.message : String(e), code: 'INTERNAL' };
}
