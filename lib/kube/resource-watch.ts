/**
 * One Kubernetes resource kept in memory from the API server: list, then watch from the list's
 * resourceVersion with bookmarks, relist when the server says the version expired (410), and
 * after any other failure (the server restarting, a broken connection) try again with the one
 * backoff, resuming the watch from the last version seen (a relist follows if it expired).
 * @kubernetes/client-node's ListWatch does the list/watch/410 part; it stops for good on an error
 * and never asks for bookmarks, which is what this adds. Used by netmaster's controller and by the
 * agent's pod cache (one cache per resource, never a GET per event).
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffPolicy } from '../backoff';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';

/** A Watch that asks for BOOKMARK events (the server then reports its progress on quiet resources). */
class BookmarkWatch extends Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

export interface ResourceWatchOptions<T extends KubernetesObject> {
  kubeconfig: KubeConfig;
  /** the collection's path, e.g. /apis/networking.k8s.io/v1/networkpolicies */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** every (re)list's whole result, before its items are reported one by one */
  onList?: (items: T[]) => void;
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T) => void;
  onDelete?: (obj: T) => void;
  logger?: Logger;
  backoff?: BackoffPolicy;
  /** ends the watch */
  signal?: AbortSignal;
}

export interface ResourceWatch<T extends KubernetesObject> {
  /** the cached object, by namespace ('' for cluster objects) and name */
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** whether a list has completed since the start (the cache is whole) */
  readonly synced: boolean;
  /** lists done so far (the first one and every relist) */
  readonly lists: number;
  /** the last resourceVersion seen (from a list, an event or a bookmark) */
  readonly resourceVersion: string;
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000, jitter: 0.2 };

/** Start keeping one resource; resolves once the first list is in the cache (or rejects if `signal` ends first). */
export async function watchResource<T extends KubernetesObject>(opts: ResourceWatchOptions<T>): Promise<ResourceWatch<T>> {
  let lists = 0;
  let firstList: () => void = () => undefined;
  const listed = new Promise<void>((resolve) => (firstList = resolve));
  const listing = async (): Promise<KubernetesListObject<T>> => {
    const l = await opts.list();
    lists++;
    opts.onList?.(l.items);
    // ListWatch fills its cache right after this returns, in the same turn: report after that
    setImmediate(firstList);
    return l;
  };
  const lw = new ListWatch<T>(opts.path, new BookmarkWatch(opts.kubeconfig), listing, false, opts.labelSelector, opts.fieldSelector);
  if (opts.onAdd) lw.on('add', opts.onAdd);
  if (opts.onUpdate) lw.on('update', opts.onUpdate);
  if (opts.onDelete) lw.on('delete', opts.onDelete);

  const backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF);
  let stopped = false;
  let restarting = false;
  const log = opts.logger?.child({ resource: opts.path });
  lw.on('connect', () => {
    if (lists > 0) backoff.reset();
  });
  // ListWatch gives up after an error other than 410: start it again after the backoff
  lw.on('error', (err: unknown) => {
    if (stopped || restarting) return;
    restarting = true;
    const delay = backoff.next();
    log?.warn({ err: errorMessage(err), retryInMs: delay }, 'kubernetes watch failed; retrying');
    const t = setTimeout(() => {
      restarting = false;
      if (!stopped) void lw.start();
    }, delay);
    t.unref();
  });
  const stop = async (): Promise<void> => {
    stopped = true;
    await lw.stop();
  };
  opts.signal?.addEventListener('abort', () => void stop(), { once: true });

  void lw.start();
  await new Promise<void>((resolve, reject) => {
    const aborted = (): void => reject(new Error(`watch of ${opts.path} stopped before its first list`));
    if (opts.signal?.aborted) return aborted();
    opts.signal?.addEventListener('abort', aborted, { once: true });
    void listed.then(() => {
      opts.signal?.removeEventListener('abort', aborted);
      resolve();
    });
  });
  return {
    get: (name, namespace) => lw.get(name, namespace),
    list: (namespace) => lw.list(namespace),
    get synced() {
      return lists > 0;
    },
    get lists() {
      return lists;
    },
    get resourceVersion() {
      return lw.latestResourceVersion();
    },
    stop,
  };
}
