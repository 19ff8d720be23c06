/**
 * Lists and watches of the stand-in through @kubernetes/client-node, as controllers use them:
 * list + watch from the list's resourceVersion (ADDED, MODIFIED, DELETED), BOOKMARKs, selectors
 * on a watch (an object that stops matching is DELETED), limit/continue at one revision, the real
 * 410 Expired for a version etcd compacted (on a watch: an ERROR event; on an exact list: the
 * response), client-node's informer relisting after it, and a restart of the stand-in that loses
 * nothing (objects, versions, watches resuming). Real etcd.
 */
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, makeInformer, Watch, type V1ConfigMap, type V1ConfigMapList } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { waitFor } from '../../../lib/clock';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const NS = 'ka-watch';
const PATH = `/api/v1/namespaces/${NS}/configmaps`;

interface Event {
  type: string;
  name: string;
  rv: string;
  code?: number;
  reason?: string;
}

describe('kube-apiserver stand-in: list and watch with client-node', function () {
  let etcd: EtcdFixture;
  let api: KubeApiFixture;
  let standby: KubeApiFixture;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let raw: Etcd3;
  const stops: Array<() => void> = [];

  /** A watch of PATH from `params`, its events collected; `ended` resolves when the server ends it. */
  async function watch(
    params: Record<string, string | number | boolean>,
  ): Promise<{ events: Event[]; ended: Promise<unknown>; stop(): void }> {
    const events: Event[] = [];
    let end: (e: unknown) => void = () => undefined;
    const ended = new Promise((resolve) => (end = resolve));
    const ctl = await new Watch(kc).watch(
      PATH,
      params,
      (type, obj: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string }) =>
        events.push({
          type,
          name: obj.metadata?.name ?? '',
          rv: obj.metadata?.resourceVersion ?? '',
          ...(obj.code ? { code: obj.code, reason: obj.reason ?? '' } : {}),
        }),
      (err) => end(err ?? 'closed'),
    );
    const stop = (): void => ctl.abort();
    stops.push(stop);
    return { events, ended, stop };
  }

  const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): V1ConfigMap => ({
    metadata: { name, labels },
    data,
  });

  before(async function () {
    etcd = await startTestEtcd('ka-watch', 27430);
    api = await startKubeApi({ name: 'ka-watch', etcdEndpoint: etcd.endpoint, port: 27433, bookmarkIntervalSeconds: 1 });
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    raw = new Etcd3({ hosts: etcd.endpoint });
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async function () {
    for (const s of stops) s();
    raw?.close();
    await standby?.stop();
    await api?.stop();
    await etcd?.stop();
  });

  it('watches from a list resourceVersion: ADDED, MODIFIED, DELETED in order, each with its revision, and BOOKMARKs', async function () {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('before') });
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const listRv = list.metadata?.resourceVersion ?? '';
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['before'],
    );
    const w = await watch({ resourceVersion: listRv, allowWatchBookmarks: true });
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm('w1', { a: '1' }) });
    const updated = await core.replaceNamespacedConfigMap({ name: 'w1', namespace: NS, body: { ...created, data: { a: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: NS });
    await waitFor(
      'the three events and a bookmark after them',
      () => w.events.length >= 4 && w.events.some((e, i) => e.type === 'BOOKMARK' && i >= 3),
    );
    const changes = w.events.filter((e) => e.type !== 'BOOKMARK');
    assert.deepEqual(
      changes.map((e) => [e.type, e.name]),
      [
        ['ADDED', 'w1'],
        ['MODIFIED', 'w1'],
        ['DELETED', 'w1'],
      ],
    );
    assert.equal(changes[0]?.rv, created.metadata?.resourceVersion);
    assert.equal(changes[1]?.rv, updated.metadata?.resourceVersion);
    assert.ok(BigInt(changes[2]?.rv ?? '0') > BigInt(updated.metadata?.resourceVersion ?? '0'), 'a delete has its own revision');
    const bookmark = w.events.filter((e) => e.type === 'BOOKMARK').pop();
    assert.equal(bookmark?.rv, changes[2]?.rv, 'a bookmark carries the latest revision the watch has seen');
    w.stop();
  });

  it('starts a watch without a resourceVersion with the current objects, and ends it cleanly at timeoutSeconds', async function () {
    const started = Date.now();
    const w = await watch({ timeoutSeconds: 1 });
    assert.equal(await w.ended, 'closed');
    assert.ok(Date.now() - started >= 900, 'not before the timeout');
    assert.deepEqual(
      w.events.map((e) => [e.type, e.name]),
      [['ADDED', 'before']],
    );
    const legacy = await api.request('GET', `/api/v1/watch/namespaces/${NS}/configmaps?timeoutSeconds=1`);
    assert.deepEqual(
      legacy.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } })
        .map((e) => [e.type, e.object.metadata.name]),
      [['ADDED', 'before']],
      'the old /watch/ path is a watch too',
    );
  });

  it('filters a watch by labels and fields: an object that stops matching is DELETED, one that starts is ADDED', async function () {
    const w = await watch({ labelSelector: 'tier=web', fieldSelector: 'metadata.name!=ignored' });
    const a = await core.createNamespacedConfigMap({ namespace: NS, body: cm('sel', {}, { tier: 'web' }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('ignored', {}, { tier: 'web' }) });
    const moved = await core.replaceNamespacedConfigMap({
      name: 'sel',
      namespace: NS,
      body: { ...a, metadata: { ...a.metadata, labels: { tier: 'db' } } },
    });
    await core.replaceNamespacedConfigMap({
      name: 'sel',
      namespace: NS,
      body: { ...moved, metadata: { ...moved.metadata, labels: { tier: 'web' } } },
    });
    await waitFor('three events', () => w.events.length >= 3);
    assert.deepEqual(
      w.events.map((e) => [e.type, e.name]),
      [
        ['ADDED', 'sel'],
        ['DELETED', 'sel'],
        ['ADDED', 'sel'],
      ],
    );
    assert.equal(w.events[1]?.rv, moved.metadata?.resourceVersion, 'the DELETED carries the revision of the change');
    w.stop();
  });

  it("pages a list with limit and continue, every page at the first one's revision", async function () {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: NS, body: cm(`page-${i}`, {}, { paged: 'yes' }) });
    const first = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'paged=yes', limit: 2 });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('page-9', {}, { paged: 'yes' }) });
    const names = first.items.map((i) => i.metadata?.name);
    let token = first.metadata?._continue;
    while (token) {
      const page: V1ConfigMapList = await core.listNamespacedConfigMap({
        namespace: NS,
        labelSelector: 'paged=yes',
        limit: 2,
        _continue: token,
      });
      assert.equal(page.metadata?.resourceVersion, first.metadata?.resourceVersion);
      names.push(...page.items.map((i) => i.metadata?.name));
      token = page.metadata?._continue;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4'], 'what was created after the first page is not in the list');
  });

  it('answers a version etcd compacted with 410 Expired: an ERROR event on a watch, the Status on an exact list', async function () {
    const old = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('after-compaction') });
    const now = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    await raw.kv.compact({ revision: now, physical: true });
    const w = await watch({ resourceVersion: old });
    assert.equal(await w.ended, 'closed', 'the server ends the watch after the error');
    assert.deepEqual(w.events, [{ type: 'ERROR', name: '', rv: '', code: 410, reason: 'Expired' }]);
    const res = await api.request('GET', `${PATH}?limit=10&resourceVersion=${old}&resourceVersionMatch=Exact`);
    assert.equal(res.status, 410);
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${old}`,
      reason: 'Expired',
      code: 410,
    });
  });

  it("keeps client-node's informer whole across a stand-in restart (resumes, no relist) and a compacted version (410, relist)", async function () {
    standby = await startKubeApi({ name: 'ka-watch-standby', etcdEndpoint: etcd.endpoint, port: 27436 });
    let lists = 0;
    const informer = makeInformer<V1ConfigMap>(kc, PATH, async () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: NS });
    });
    // the documented way to keep an informer running: start it again after an error
    informer.on('error', () => setTimeout(() => void informer.start(), 200));
    stops.push(() => void informer.stop());
    await informer.start();
    const names = (): string[] =>
      informer
        .list(NS)
        .map((o) => o.metadata?.name ?? '')
        .sort();
    assert.ok(names().includes('before') && lists === 1);

    const rvBefore = (await core.readNamespacedConfigMap({ name: 'before', namespace: NS })).metadata?.resourceVersion;
    await api.restart();
    const after = await core.readNamespacedConfigMap({ name: 'before', namespace: NS });
    assert.equal(after.metadata?.resourceVersion, rvBefore, 'a restart keeps objects and their versions');
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('after-restart') });
    await waitFor('the informer to see what was made after the restart', () => names().includes('after-restart'));
    assert.equal(lists, 1, 'the informer resumed its watch: no relist');

    // while the stand-in is down, another replica changes things and etcd compacts the history
    await api.stopServer();
    const standbyCore = (() => {
      const k = new KubeConfig();
      k.loadFromFile(standby.kubeconfig);
      return k.makeApiClient(CoreV1Api);
    })();
    await standbyCore.deleteNamespacedConfigMap({ name: 'before', namespace: NS });
    await standbyCore.createNamespacedConfigMap({ namespace: NS, body: cm('while-away') });
    const rv = (await standbyCore.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    await raw.kv.compact({ revision: rv, physical: true });
    await api.startServer();
    await waitFor(
      'the informer to relist after the 410',
      () => lists === 2 && names().includes('while-away') && !names().includes('before'),
      { timeoutMs: 20_000 },
    );
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('after-relist') });
    await waitFor('the informer to watch again after its relist', () => names().includes('after-relist'));
  });
});
