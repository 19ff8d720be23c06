/**
 * The one way from a failed zod check to a NetloomError: the code the call site needs, `field` = the
 * dotted path of the first issue, a message naming that field, and every issue in `details.issues`.
 * Call sites whose wording users and tests already rely on (CNM replies reach Docker, REST bodies
 * reach scripts) keep it through the options rather than each turning issues into text by hand.
 */
import type { z } from 'zod';
import { NetloomError } from './errors';

/** One issue as reported in `details.issues`: the dotted path of the bad field ('' = the value as a whole) and why. */
export interface IssueReport {
  field: string;
  message: string;
}

/** The first issue, as handed to a call site's own `message` wording. */
export interface FirstIssue {
  /** Dotted path of the bad field; '' when the value as a whole is wrong. */
  path: string;
  /** The field the error reports (see `rootField` and `field`). */
  field: string | undefined;
  /** Why it is wrong: zod's text, or `missingReason` for an absent required field. */
  reason: string;
}

export interface ValidationErrorOptions {
  /** What was checked ("host state", "NetworkDriver.CreateNetwork"); the default message starts with it. */
  what: string;
  /** INVALID_ARGUMENT (default) for input a caller sent; DECODE_ERROR for data read back, such as a state file. */
  code?: 'INVALID_ARGUMENT' | 'DECODE_ERROR';
  /**
   * The field to report when the first issue is about the value as a whole (empty path). Default:
   * `what`, with the message saying just "what: reason"; a string is also named in the message;
   * `null` reports no field.
   */
  rootField?: string | null;
  /** Report this field whatever the path (e.g. the option that names a damaged file). */
  field?: string;
  /** Said instead of zod's text when the first issue is a required field that is absent. */
  missingReason?: string;
  /** Build the message from the first issue, for a call site with its own established wording. */
  message?: (first: FirstIssue) => string;
  /** Merged into `details` next to `issues`. */
  details?: Record<string, unknown>;
}

export function dottedPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function issueReports(err: z.ZodError): IssueReport[] {
  return err.issues.map((i) => ({ field: dottedPath(i.path), message: i.message }));
}

/** zod reports an absent required field as a type error whose input was undefined. */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && /received undefined/.test(issue.message);
}

export function validationError(err: z.ZodError, opts: ValidationErrorOptions): NetloomError {
  const issue = err.issues[0];
  const path = issue ? dottedPath(issue.path) : '';
  const rootField = opts.rootField === undefined ? opts.what : (opts.rootField ?? undefined);
  const field = opts.field ?? (path !== '' ? path : rootField);
  const reason = !issue ? 'invalid' : opts.missingReason !== undefined && isMissing(issue) ? opts.missingReason : issue.message;
  // the field is named in the message unless it would only repeat `what`
  const named = path !== '' ? path : opts.rootField ? opts.rootField : undefined;
  const message = opts.message
    ? opts.message({ path, field, reason })
    : named
      ? `${opts.what}: ${named}: ${reason}`
      : `${opts.what}: ${reason}`;
  return new NetloomError(opts.code ?? 'INVALID_ARGUMENT', message, {
    ...(field === undefined ? {} : { field }),
    details: { ...opts.details, issues: issueReports(err) },
  });
}

/** Check `input` against `schema` and return the parsed value, or throw `validationError`. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, opts: ValidationErrorOptions): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw validationError(r.error, opts);
}
