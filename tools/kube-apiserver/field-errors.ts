/**
 * Field errors as apimachinery's validation/field package words them (`spec.ports[0].port:
 * Invalid value: 0: must be between 1 and 65535, inclusive`); a 422 Invalid Status carries them
 * as causes (status.ts).
 */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** the offending value (undefined for Required/Forbidden/TooLong) */
  value?: unknown;
  detail: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
};

/** The error without its field, as Go's ErrorBody() prints it. */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'FieldValueTooLong') {
    const v = e.value;
    if (typeof v === 'string') s += `: ${JSON.stringify(v)}`;
    else if (typeof v === 'number' || typeof v === 'boolean') s += `: ${String(v)}`;
    else s += `: ${JSON.stringify(v ?? null)}`;
  }
  return e.detail ? `${s}: ${e.detail}` : s;
}

export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/** A field path built like field.Path: `spec.ingress[0].ports[1].port`. */
export class FieldPath {
  constructor(readonly text: string) {}
  child(name: string): FieldPath {
    return new FieldPath(this.text === '' ? name : `${this.text}.${name}`);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }
}

export const root = (name: string): FieldPath => new FieldPath(name);

export const required = (p: FieldPath, detail = ''): FieldError => ({ type: 'FieldValueRequired', field: p.text, detail });
export const invalid = (p: FieldPath, value: unknown, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field: p.text,
  value,
  detail,
});
export const forbidden = (p: FieldPath, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: p.text, detail });
export const duplicate = (p: FieldPath, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field: p.text, value, detail: '' });
export const tooMany = (p: FieldPath, actual: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field: p.text,
  value: actual,
  detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
});
export function notSupported(p: FieldPath, value: unknown, valid: readonly string[]): FieldError {
  return {
    type: 'FieldValueNotSupported',
    field: p.text,
    value,
    detail: valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '',
  };
}
