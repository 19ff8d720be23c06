/**
 * Input limits of the CNM plugin, and how a value is shown in an error. Docker's calls are small
 * and its ids are 64 hex digits (swarm's 25 alphanumerics), so these bounds refuse only what no
 * dockerd sends, while keeping what is stored (state file) and echoed (Err) small.
 */

/** Largest request body read; Docker's requests are a few KB. */
export const MAX_BODY_BYTES = 256 * 1024;
/** NetworkID / EndpointID: Docker ids (hex) and swarm ids (alphanumeric), with room to spare. */
export const MAX_ID_LENGTH = 128;
/** Docker ids as stored keys: they cannot be `__proto__` or carry path separators or control characters. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** PoolID: ours, `netloom|space|tenant|network|cidr|subpool`. */
export const MAX_POOL_ID_LENGTH = 256;
/** An address, a CIDR or an address space name. */
export const MAX_SHORT_TEXT = 64;
/** SandboxKey (a path) and option values. */
export const MAX_TEXT = 4096;
/** Entries in one options map or aux-address map. */
export const MAX_MAP_ENTRIES = 64;

/** A value for an error message: JSON text, cut to `max` characters so that a huge input is not echoed back. */
export function shown(value: unknown, max = MAX_SHORT_TEXT): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…(${text.length} characters)` : text;
}

/** Up to five items, then how many more. */
export function listed(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

/** True when `s` has no control characters (C0, DEL). */
export function printable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
