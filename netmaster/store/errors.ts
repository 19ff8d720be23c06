/**
 * How etcd failures reach the rest of netmaster: every error out of the store is a NetloomError
 * (UNAVAILABLE, message `etcd: <etcd's message>`), and the two revision errors the agent API
 * acts on are recognised here, by etcd's wording, in one place.
 */
import { NetloomError } from '../../lib/errors';

/** A NetloomError as is; anything else (an etcd or gRPC failure) as UNAVAILABLE. */
export function storeError(e: unknown): NetloomError {
  return e instanceof NetloomError
    ? e
    : new NetloomError('UNAVAILABLE', `etcd: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Whether an etcd error says the revision asked for was compacted away. */
export function isCompactedError(e: unknown): boolean {
  return e instanceof Error && /compacted/i.test(e.message);
}

/** Whether an etcd error says the revision asked for is in the future. */
export function isFutureRevisionError(e: unknown): boolean {
  return e instanceof Error && /future revision/i.test(e.message);
}

/** Whether an etcd error says a lease named in the request does not exist (expired or revoked). */
export function isLeaseNotFoundError(e: unknown): boolean {
  return e instanceof Error && /lease not found/i.test(e.message);
}
