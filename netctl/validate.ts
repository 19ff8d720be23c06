/**
 * Client-side checks of netctl input that would obviously be refused by netmaster (wrong enum,
 * non-numeric number, malformed address). Each failure is a UsageError naming the flag.
 */
import * as ipaddr from 'ipaddr.js';
import { UsageError } from './errors';

/** A name used in a REST key: non-empty, no characters that would break the key or the URL path. */
export function checkName(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`${what} required`, what);
  if (!/^[^\s/:?#%\\]+$/.test(value)) throw new UsageError(`invalid ${what} '${value}': may not contain spaces or / : ? # % \\`, what);
  if (value.length > 64 && what !== 'endpoint') throw new UsageError(`invalid ${what} '${value}': at most 64 characters`, what);
  return value;
}

/** An integer option; absent -> fallback. */
export function intOption(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`invalid value '${value}' for ${flag}: not a number`, flag);
  const n = Number(value.trim());
  if (n < min || n > max) throw new UsageError(`invalid value '${value}' for ${flag}: must be ${min}..${max}`, flag);
  return n;
}

export function oneOf(value: string | undefined, flag: string, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === '') return value;
  if (!allowed.includes(value)) throw new UsageError(`invalid value '${value}' for ${flag}: must be one of ${allowed.join(', ')}`, flag);
  return value;
}

export function isIPv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

export function isIPv6(s: string): boolean {
  return s.includes(':') && ipaddr.IPv6.isValid(s);
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

export function isIPv4Cidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  return m !== null && isIPv4(m[1]!) && Number(m[2]) <= 32;
}

export function isIPv6Cidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  return m !== null && isIPv6(m[1]!) && Number(m[2]) <= 128;
}

/** An IPv4 subnet: `a.b.c.d/len`, or Contiv's range form `a.b.c.d-e.f.g.h/len`. */
export function isIPv4Subnet(s: string): boolean {
  if (isIPv4Cidr(s)) return true;
  const m = /^([^-/]+)-([^-/]+)\/(\d{1,2})$/.exec(s);
  return m !== null && isIPv4(m[1]!) && isIPv4(m[2]!) && Number(m[3]) <= 32;
}

/** `N-M` with N <= M inside [min, max]. */
export function isRange(s: string, min: number, max: number): boolean {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a >= min && b <= max && a <= b;
}

/** A comma-separated list flag that may also be repeated: ['a,b', 'c'] -> ['a', 'b', 'c']. */
export function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
