/**
 * IPv4 addresses as unsigned 32-bit numbers, so that blocks can be walked and compared without
 * string games. Bad text is an INVALID_ARGUMENT naming the field.
 */
import { NetloomError } from '../../lib/errors';

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string, field: string): number {
  const m = DOTTED.exec(text);
  const parts = m ? m.slice(1).map(Number) : [];
  if (!m || parts.some((p) => p > 255) || m.slice(1).some((p) => p.length > 1 && p.startsWith('0'))) {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: '${text}' is not an IPv4 address`, { field });
  }
  // multiply rather than shift: a shift would make addresses >= 128.0.0.0 negative
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Ipv4Cidr {
  /** the first address, aligned to the prefix */
  base: number;
  prefixLength: number;
  /** how many addresses the prefix covers */
  size: number;
}

/** 'a.b.c.d/n' with the host bits zero (a block is named by its first address). */
export function parseIpv4Cidr(text: string, field: string): Ipv4Cidr {
  const [addr, len, extra] = text.split('/');
  const prefixLength = Number(len);
  if (addr === undefined || extra !== undefined || !/^\d{1,2}$/.test(len ?? '') || prefixLength > 32) {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: '${text}' is not an IPv4 CIDR (a.b.c.d/n)`, { field });
  }
  const base = parseIpv4(addr, field);
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) {
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `${field}: '${text}' has host bits set (the block starts at ${formatIpv4(base - (base % size))})`,
      {
        field,
      },
    );
  }
  return { base, prefixLength, size };
}
