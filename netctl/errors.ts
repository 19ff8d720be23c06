/**
 * netctl's error classes and how they map to exit codes: usage errors (bad flags or arguments,
 * caught before any request) exit 2; everything the server or the network did wrong exits 1.
 */
import { NetloomError, errorMessage } from '../lib/errors';
import { errorText } from '../lib/error-text';

export const EXIT_OK = 0;
export const EXIT_SERVER = 1;
export const EXIT_USAGE = 2;

/** Bad command-line input, detected by netctl itself before talking to netmaster. */
export class UsageError extends NetloomError {
  constructor(message: string, field?: string) {
    super('INVALID_ARGUMENT', message, field === undefined ? {} : { field });
    this.name = 'UsageError';
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof UsageError;
}

/**
 * The one line netctl prints on stderr for an error. Server errors name the field and the
 * server's error code when the server gave them: `netctl: subnet overlaps t1:n1 (field: subnet, code: CONFLICT)`.
 */
export function errorLine(e: unknown): string {
  if (e instanceof NetloomError && !(e instanceof UsageError)) {
    const serverCode = e.details?.['serverCode'];
    return `netctl: ${errorText(e.message, e.field, typeof serverCode === 'string' ? serverCode : undefined)}`;
  }
  return `netctl: ${errorText(errorMessage(e))}`;
}
