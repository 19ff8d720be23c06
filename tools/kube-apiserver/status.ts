/**
 * Errors as the API server reports them: a `Status` object (kind Status, apiVersion v1) with the
 * HTTP code, a reason kubectl and client libraries switch on (NotFound, AlreadyExists, Conflict,
 * Invalid, Expired, ...), a message worded like apimachinery's errors package, and details.
 */
import { errorBody, fieldErrorText, type FieldError } from './field-errors';
import type { JsonObject } from './json';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason: string; message: string; field?: string }>;
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  status(): JsonObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details as JsonObject } : {}),
      code: this.code,
    };
  }
}

/** A resource as errors name it: `pods`, `networkpolicies.networking.k8s.io`. */
export interface GroupResource {
  group: string;
  plural: string;
}

export const qualifiedResource = (gr: GroupResource): string => (gr.group ? `${gr.plural}.${gr.group}` : gr.plural);

const details = (gr: GroupResource, name: string): StatusDetails => ({ name, ...(gr.group ? { group: gr.group } : {}), kind: gr.plural });

export const notFound = (gr: GroupResource, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, details(gr, name));

export const alreadyExists = (gr: GroupResource, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, details(gr, name));

export const conflict = (gr: GroupResource, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, details(gr, name));

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid: `Kind.group "name" is invalid: field: ...` with one cause per field error. */
export function invalid(kind: { group: string; kind: string }, name: string, errors: readonly FieldError[]): ApiError {
  const qualified = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const texts = errors.map(fieldErrorText);
  const summary = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualified} "${name}" is invalid: ${summary}`, {
    name,
    ...(kind.group ? { group: kind.group } : {}),
    kind: kind.kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');
export const methodNotSupported = (gr: GroupResource, verb: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`, {
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.plural,
  });
/** 410 Expired: a resourceVersion older than what the store still has (etcd compacted it). */
export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);
export const tooOldResourceVersion = (asked: string, oldest?: string): ApiError =>
  expired(`too old resource version: ${asked}${oldest ? ` (${oldest})` : ''}`);
export const unsupportedMediaType = (type: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${type}`);
export const notAcceptable = (): ApiError =>
  new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml');
export const internalError = (message: string): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: 'UnexpectedServerResponse', message }] });
export const timeout = (message: string): ApiError => new ApiError(504, 'Timeout', message);

/** The Status a successful delete answers with when the object itself is not returned. */
export function success(details: StatusDetails): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: details as JsonObject };
}
