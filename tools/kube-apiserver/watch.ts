/**
 * Watch streams as kube-apiserver serves them: newline-delimited JSON events (ADDED, MODIFIED,
 * DELETED, BOOKMARK, ERROR). Without a resourceVersion (or "0") the stream starts with the current
 * objects as ADDED; with one it carries every change after it, read from etcd's history, and a
 * version etcd has compacted away gets an ERROR event with the 410 Expired Status, then the end.
 * Selectors filter as the real watch cache does (an object that stops matching is DELETED, one
 * that starts is ADDED). BOOKMARKs carry the latest version the stream has seen; the stream ends
 * cleanly after timeoutSeconds (default: between --min-request-timeout and twice that).
 */
import type { Logger } from '../../lib/logger';
import { isCompactedError } from '../../netmaster/store/errors';
import { matchesFields } from './field-selector';
import { isObject, type JsonObject } from './json';
import { matchesLabels } from './label-selector';
import type { ListQuery } from './list-query';
import { apiVersionOf, selectableFields, type ResourceDef } from './resources';
import { tooOldResourceVersion } from './status';
import type { ObjectStore, StoredEvent } from './store';

export interface WatchSink {
  /** one event, written as one JSON line */
  send(event: JsonObject): void;
  end(): void;
  /** called once when the client goes away */
  onClose(cb: () => void): void;
}

export interface WatchOptions {
  store: ObjectStore;
  resource: ResourceDef;
  namespace: string | undefined;
  query: ListQuery;
  sink: WatchSink;
  /** how an object goes on the wire (as is, or as a Table row) */
  present: (o: JsonObject) => JsonObject;
  bookmarkIntervalMs: number;
  minRequestTimeoutMs: number;
  logger?: Logger;
}

/** Whether a failed etcd watch means its start revision is gone (etcd cancels such a watch without a reason). */
function isExpiredWatch(e: Error): boolean {
  return isCompactedError(e) || /Watcher canceled/i.test(e.message);
}

export async function serveWatch(o: WatchOptions): Promise<void> {
  const { store, resource: r, namespace, query: q, sink } = o;
  const matches = (obj: JsonObject): boolean =>
    matchesLabels(q.labels, (isObject(obj.metadata) ? obj.metadata.labels : undefined) as Record<string, string> | undefined) &&
    matchesFields(q.fields, selectableFields(r, obj));
  const withKind = (obj: JsonObject): JsonObject => ({ ...obj, kind: r.kind, apiVersion: apiVersionOf(r) });
  let closed = false;
  let stopWatch: (() => Promise<void>) | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    void stopWatch?.().catch(() => undefined);
    sink.end();
  };
  sink.onClose(() => finish());
  const fail = (rv: string): void => {
    sink.send({ type: 'ERROR', object: tooOldResourceVersion(rv).status() });
    finish();
  };

  let start = q.resourceVersion;
  if (start === undefined || start === '0') {
    const { objects, revision } = await store.listAll(r, namespace);
    for (const obj of objects) if (matches(obj)) sink.send({ type: 'ADDED', object: o.present(withKind(obj)) });
    start = revision;
  } else {
    // a compacted start revision: etcd would cancel the watch without saying why; ask it directly
    try {
      await store.kv.listPage(store.prefixOf(r, namespace), { limit: 1, revision: start, keysOnly: true });
    } catch (e) {
      if (isCompactedError(e)) return fail(start);
      // a revision in the future: watching from it is fine
    }
  }
  if (closed) return;
  let lastRv = start;
  const onEvents = (events: StoredEvent[]): void => {
    if (closed) return;
    for (const e of events) {
      lastRv = e.revision;
      const cur = e.type === 'put' && matches(e.object);
      const prev = e.previous !== undefined && matches(e.previous);
      if (cur && !prev) sink.send({ type: 'ADDED', object: o.present(withKind(e.object)) });
      else if (cur && prev) sink.send({ type: 'MODIFIED', object: o.present(withKind(e.object)) });
      else if (!cur && prev) sink.send({ type: 'DELETED', object: o.present(withKind(e.previous as JsonObject)) });
    }
  };
  try {
    stopWatch = await store.watch(r, namespace, start, onEvents, (e) => {
      o.logger?.debug({ resource: r.plural, err: e.message }, 'etcd watch ended');
      if (isExpiredWatch(e)) fail(lastRv);
      else finish();
    });
  } catch (e) {
    o.logger?.warn({ resource: r.plural, err: e instanceof Error ? e.message : String(e) }, 'etcd watch failed to start');
    finish();
    return;
  }
  if (closed) {
    await stopWatch().catch(() => undefined);
    return;
  }
  const timeoutMs = q.timeoutSeconds !== undefined ? q.timeoutSeconds * 1000 : o.minRequestTimeoutMs * (1 + Math.random());
  timers.push(setTimeout(finish, timeoutMs));
  if (q.allowBookmarks) {
    const bookmark = (): void => {
      if (closed) return;
      sink.send({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: lastRv } } });
      timers.push(setTimeout(bookmark, o.bookmarkIntervalMs));
    };
    timers.push(setTimeout(bookmark, o.bookmarkIntervalMs));
  }
}
