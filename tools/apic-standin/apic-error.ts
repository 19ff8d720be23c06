/**
 * An error as the APIC answers it: an HTTP status and `imdata[0].error.attributes {code, text}`.
 * The codes are those the APIC uses for the same faults (numbers as strings).
 */
export class ApicError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    text: string,
  ) {
    super(text);
    this.name = 'ApicError';
  }

  /** The reply body, APIC's error format. */
  body(): { totalCount: string; imdata: Array<{ error: { attributes: { code: string; text: string } } }> } {
    return { totalCount: '1', imdata: [{ error: { attributes: { code: this.code, text: this.message } } }] };
  }

  static badRequest(text: string): ApicError {
    return new ApicError(400, '400', text);
  }

  /** A property's value refused by the model (APIC: code 103 or 182 with this wording). */
  static badProperty(cls: string, prop: string, value: string, why: string): ApicError {
    return new ApicError(400, '103', `Property ${prop} of ${cls} failed validation for value '${value}': ${why}`);
  }

  static unknownClass(cls: string): ApicError {
    return new ApicError(400, '121', `unknown class ${cls}`);
  }

  static unknownProperty(cls: string, prop: string): ApicError {
    return new ApicError(400, '121', `unknown property ${prop} of class ${cls}`);
  }

  static containment(parentCls: string, childCls: string): ApicError {
    return new ApicError(400, '104', `${parentCls} cannot contain ${childCls}`);
  }

  static parentMissing(dn: string): ApicError {
    return new ApicError(400, '102', `configured object ((${dn})) not found`);
  }

  static rnMismatch(cls: string, dn: string, rn: string): ApicError {
    return new ApicError(400, '107', `rn '${rn}' of ${cls} does not match its naming properties (dn ${dn})`);
  }

  static notFound(dn: string): ApicError {
    return new ApicError(400, '102', `configured object ((${dn})) not found`);
  }

  static tokenTimeout(): ApicError {
    return new ApicError(403, '403', 'Token was invalid (Error: Token timeout)');
  }

  static noToken(): ApicError {
    return new ApicError(403, '403', 'Need a valid webtoken cookie (named APIC-cookie) or a signed request with signature in the cookie.');
  }

  /** A signed request refused (403, as a request without a valid token). */
  static signatureRefused(why: string): ApicError {
    return new ApicError(403, '403', `Signature verification failed: ${why}`);
  }

  static badLogin(): ApicError {
    return new ApicError(401, '401', 'Username or password or domain is incorrect - FAILED local authentication');
  }

  static unavailable(): ApicError {
    return new ApicError(503, '503', 'Service Unavailable (fault injected by the stand-in)');
  }
}
