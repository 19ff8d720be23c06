/**
 * Errors reported by an OVSDB server, as NetloomErrors: the server's `error` string and `details`,
 * and for a transaction the index and kind of the operation that failed (or `atCommit` when the
 * transaction failed as a whole when committing, e.g. a constraint or referential integrity
 * violation found after every operation succeeded).
 */
import { ErrorCode, NetloomError } from '../../lib/errors';

/** Stable NetloomError code for each error string of RFC 7047 (and ovsdb-server's extras). */
export function codeForOvsdbError(error: string): ErrorCode {
  switch (error) {
    case 'constraint violation':
    case 'not owner':
    case 'not supported':
      return 'CONFLICT';
    case 'referential integrity violation':
      return 'IN_USE';
    case 'timed out':
      return 'TIMEOUT';
    case 'resources exhausted':
      return 'EXHAUSTED';
    case 'permission error':
      return 'PERMISSION_DENIED';
    case 'unknown database':
    case 'unknown table':
    case 'unknown column':
    case 'unknown method':
    case 'syntax error':
    case 'domain error':
    case 'range error':
    case 'type mismatch':
    case 'duplicate uuid-name':
    case 'not allowed':
    case 'unknown operation':
    case 'constraint violation in argument':
      return 'INVALID_ARGUMENT';
    case 'I/O error':
    case 'canceled':
    case 'aborted':
    default:
      return 'COMMAND_FAILED';
  }
}

export interface OvsdbErrorInfo {
  /** the server's `error` string, e.g. "constraint violation" */
  error: string;
  /** the server's `details`, when given */
  serverDetails?: string | undefined;
  /** the JSON-RPC method that failed */
  method: string;
  /** transact only: index of the failing operation (ops.length when the commit itself failed) */
  opIndex?: number | undefined;
  /** transact only: the `op` of the failing operation */
  op?: string | undefined;
  /** transact only: true when every operation succeeded but committing failed */
  atCommit?: boolean | undefined;
}

export class OvsdbError extends NetloomError {
  readonly ovsdbError: string;
  readonly serverDetails: string | undefined;
  readonly method: string;
  readonly opIndex: number | undefined;
  readonly op: string | undefined;
  readonly atCommit: boolean;

  constructor(info: OvsdbErrorInfo) {
    const where =
      info.opIndex === undefined
        ? info.method
        : info.atCommit
          ? `${info.method} commit`
          : `${info.method} operation ${info.opIndex} (${info.op ?? '?'})`;
    super(codeForOvsdbError(info.error), `OVSDB ${where} failed: ${info.error}${info.serverDetails ? `: ${info.serverDetails}` : ''}`, {
      details: {
        ovsdbError: info.error,
        ...(info.serverDetails !== undefined ? { serverDetails: info.serverDetails } : {}),
        method: info.method,
        ...(info.opIndex !== undefined ? { opIndex: info.opIndex, op: info.op, atCommit: info.atCommit === true } : {}),
      },
    });
    this.name = 'OvsdbError';
    this.ovsdbError = info.error;
    this.serverDetails = info.serverDetails;
    this.method = info.method;
    this.opIndex = info.opIndex;
    this.op = info.op;
    this.atCommit = info.atCommit === true;
  }
}

export function isOvsdbError(e: unknown, ovsdbError?: string): e is OvsdbError {
  return e instanceof OvsdbError && (ovsdbError === undefined || e.ovsdbError === ovsdbError);
}

/** An RFC 7047 error object `{error, details?}` (or a bare string, which some servers send). */
export function parseErrorObject(raw: unknown): { error: string; details?: string } | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'string') return { error: raw };
  if (typeof raw === 'object' && typeof (raw as { error?: unknown }).error === 'string') {
    const d = (raw as { details?: unknown }).details;
    return {
      error: (raw as { error: string }).error,
      ...(d === undefined ? {} : { details: typeof d === 'string' ? d : JSON.stringify(d) }),
    };
  }
  return { error: JSON.stringify(raw) };
}
