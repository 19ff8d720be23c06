/**
 * An error the APIC answered (its `imdata[0].error.attributes {code, text}`), as a NetloomError
 * whose message quotes the APIC so that `netctl aci-gw inspect` can show it as is.
 */
import { NetloomError, type ErrorCode } from '../../lib/errors';

export class ApicRequestError extends NetloomError {
  constructor(
    readonly httpStatus: number,
    readonly apicCode: string,
    readonly apicText: string,
    what: string,
  ) {
    super(codeFor(httpStatus), `APIC ${what}: ${httpStatus} (code ${apicCode}) ${apicText}`, {
      details: { httpStatus, apicCode, apicText },
    });
  }

  /** 5xx, 408 and 429 are worth another attempt; a refused request is not. */
  get retryable(): boolean {
    return this.httpStatus >= 500 || this.httpStatus === 408 || this.httpStatus === 429;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500 || status === 429) return 'UNAVAILABLE';
  if (status === 408) return 'TIMEOUT';
  return 'INVALID_ARGUMENT';
}

/** The APIC's error out of a reply body (undefined when the body is not its error format). */
export function apicErrorOf(body: unknown): { code: string; text: string } | undefined {
  const attrs = (body as { imdata?: Array<{ error?: { attributes?: { code?: unknown; text?: unknown } } }> } | undefined)?.imdata?.[0]
    ?.error?.attributes;
  if (!attrs) return undefined;
  return { code: String(attrs.code ?? ''), text: String(attrs.text ?? '') };
}
