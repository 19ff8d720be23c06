/**
 * How big each etcd read and watch response may be (pure helpers for kv.ts). etcd answers a
 * range with every key asked for in one gRPC message, and the client refuses a message over its
 * receive limit; so range reads go in pages sized by the bytes the last page held (aiming at
 * PAGE_TARGET_BYTES), a page refused as too large is asked again at half the size, and a single
 * value too large even alone is skipped and reported. Watches ask etcd to fragment big responses;
 * the fragments of one response are joined again here, so a follower still sees whole revisions.
 */

/** What one range response should hold at most: far below the receive limit, whatever the value sizes. */
export const PAGE_TARGET_BYTES = 1024 * 1024;

/**
 * The client's receive limit for etcd responses, raised deliberately from gRPC's 4 MiB (and kept
 * bounded): a watch event carries a value and its previous value, so a value of up to half this
 * still arrives in one event. Range reads never come near it (PAGE_TARGET_BYTES).
 */
export const ETCD_MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

/** The first page's size: small, as nothing is known yet of the value sizes. */
export const FIRST_PAGE = 64;

/** The next page's size after one of `kvs` entries that held `bytes`, within [1, maxPage]. */
export function nextPageSize(current: number, kvs: number, bytes: number, maxPage: number, targetBytes = PAGE_TARGET_BYTES): number {
  if (kvs === 0) return Math.max(1, Math.min(current, maxPage));
  const perKv = Math.max(1, bytes / kvs);
  return Math.max(1, Math.min(maxPage, Math.floor(targetBytes / perKv)));
}

/** The page size to try after a page of `current` entries was refused as too large (0: give up, skip one key). */
export function afterTooLarge(current: number): number {
  return current <= 1 ? 0 : Math.floor(current / 2);
}

/** Whether an error from the etcd client says a response was over the receive limit. */
export function isTooLargeError(e: unknown): boolean {
  // gRPC's wording (RESOURCE_EXHAUSTED alone also means "etcdserver: too many requests")
  return e instanceof Error && /message larger than max/i.test(e.message);
}

/** Joins the fragments of one etcd watch response (WatchCreateRequest.fragment) back into one list. */
export class FragmentJoiner<E> {
  private held: E[] = [];

  /** Add one response's events; returns the whole response's events once its last fragment came. */
  add(events: readonly E[], fragment: boolean): E[] | undefined {
    if (fragment) {
      this.held.push(...events);
      return undefined;
    }
    if (this.held.length === 0) return [...events];
    const all = this.held.concat(events);
    this.held = [];
    return all;
  }

  /** events held from fragments of a response not yet complete */
  get pending(): number {
    return this.held.length;
  }

  /** Drop a half-received response (the watch restarts from its revision). */
  reset(): void {
    this.held = [];
  }
}
