/**
 * The field schemas kinds share (names, bounded integers, Contiv's link placeholders), built from
 * the zod a kind's schema factory is given. Messages name the field, as netmaster's errors do.
 */
import type { z } from 'zod';

/** The zod module as a kind's schema factory receives it (types only: lib/kinds loads without zod). */
export type Zod = typeof z;

/** Contiv's name rule: DNS-style labels, at most 64 characters. */
export const NAME_RE = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

export function fieldsOf(z: Zod) {
  const name = (what: string) =>
    z
      .string({ error: `${what} is required` })
      .max(64, { error: `${what} must be at most 64 characters` })
      .regex(NAME_RE, { error: `${what} must be a DNS label (letters, digits, '-', '.'), at most 64 characters` });
  return {
    name,
    /** a name that may be empty (unset) */
    optName: (what: string) => z.union([z.literal(''), name(what)]).default(''),
    int: (what: string, min: number, max: number) =>
      z
        .number({ error: `${what} must be a number` })
        .int({ error: `${what} must be an integer` })
        .min(min, { error: `${what} must be between ${min} and ${max}` })
        .max(max, { error: `${what} must be between ${min} and ${max}` }),
    /** Contiv's `key`, `links` and `link-sets`: accepted on input, dropped, filled on output */
    placeholders: {
      key: z.string().optional(),
      links: z.record(z.string(), z.unknown()).optional(),
      'link-sets': z.record(z.string(), z.unknown()).optional(),
    },
  };
}

export type Fields = ReturnType<typeof fieldsOf>;
