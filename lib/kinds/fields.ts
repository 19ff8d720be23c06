/**
 * The field schemas kinds share (names, bounded text, lists and integers, Contiv's link
 * placeholders), built from the zod a kind's schema factory is given. Every string and list gets
 * a bound from limits.ts. Messages name the field, as netmaster's errors do.
 */
import type { z } from 'zod';
import { CONTROL_RE, DOT_DOT_RE, LIMITS } from './limits';

/** The zod module as a kind's schema factory receives it (types only: lib/kinds loads without zod). */
export type Zod = typeof z;

/** Contiv's name rule: DNS-style labels, at most 64 characters. */
export const NAME_RE = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

export function fieldsOf(z: Zod) {
  /** a string of at most `max` characters, no control characters; the length check runs first and stops the rest */
  const text = (what: string, max: number = LIMITS.string) =>
    z
      .string({ error: (iss) => (iss.input === undefined ? `${what} is required` : `${what} must be a string`) })
      .max(max, { error: `${what} must be at most ${max} characters`, abort: true })
      .refine((s) => !CONTROL_RE.test(s), { error: `${what} must not contain control characters (NUL, newlines, tabs)` });
  const name = (what: string) =>
    z
      .string({ error: `${what} is required` })
      .max(LIMITS.name, { error: `${what} must be at most ${LIMITS.name} characters`, abort: true })
      .regex(NAME_RE, { error: `${what} must be a DNS label (letters, digits, '-', '.'), at most ${LIMITS.name} characters` });
  return {
    name,
    text,
    /** text used as a name that may reach a path (a host, a container): no `..` part either */
    pathSafe: (what: string, max: number = LIMITS.string) =>
      text(what, max).refine((s) => !DOT_DOT_RE.test(s), { error: `${what} must not contain a '..' path part` }),
    /** a name that may be empty (unset) */
    optName: (what: string) =>
      z
        .string({ error: `${what} must be a string` })
        .max(LIMITS.name, { error: `${what} must be at most ${LIMITS.name} characters`, abort: true })
        .refine((s) => s === '' || NAME_RE.test(s), {
          error: `${what} must be empty or a DNS label (letters, digits, '-', '.'), at most ${LIMITS.name} characters`,
        })
        .default(''),
    /** a list of at most `max` entries */
    list: <T extends z.ZodType>(what: string, item: T, max: number = LIMITS.list) =>
      z.array(item, { error: `${what} must be a list` }).max(max, { error: `${what} must have at most ${max} entries` }),
    int: (what: string, min: number, max: number) =>
      z
        .number({ error: `${what} must be a number` })
        .int({ error: `${what} must be an integer` })
        .min(min, { error: `${what} must be between ${min} and ${max}` })
        .max(max, { error: `${what} must be between ${min} and ${max}` }),
    /** Contiv's `key`, `links` and `link-sets`: accepted on input, dropped, filled on output */
    placeholders: {
      key: z.string().max(LIMITS.string).optional(),
      // dropped unread: checked for being an object only (a record schema would check each of many keys)
      links: z.custom<Record<string, unknown>>(isPlainObject, { error: 'links must be an object' }).optional(),
      'link-sets': z.custom<Record<string, unknown>>(isPlainObject, { error: 'link-sets must be an object' }).optional(),
    },
  };
}

export type Fields = ReturnType<typeof fieldsOf>;
