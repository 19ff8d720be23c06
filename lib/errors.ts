/**
 * Typed errors with stable codes. Every error a user can see carries a code that scripts can
 * match on, a message a person can act on and, where input was at fault, the field that was wrong.
 */
/** Every error code, in one list (the type follows from it). */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'IN_USE',
  'EXHAUSTED',
  'UNAVAILABLE',
  'TIMEOUT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'COMMAND_FAILED',
  'DECODE_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether a code read from elsewhere (a peer's answer, a server's JSON) is one of ours. */
export function isErrorCode(s: string): s is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(s);
}

export class NetloomError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NetloomError';
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      error: this.message,
      ...(this.field ? { field: this.field } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isNetloomError(e: unknown, code?: ErrorCode): e is NetloomError {
  return e instanceof NetloomError && (code === undefined || e.code === code);
}

/** The message of anything thrown, for logs and one-line CLI errors. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
