/**
 * The cluster cache over a fake store: one full read, then one watch from the revision after it;
 * each watch response is applied as one batch (every key that changed, with its value before and
 * after), a failed watch makes it read everything again and ignore the old watch,
 * and stop() ends the watch.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { ClusterCache, type ClusterBatch } from '../../../netmaster/agent/cluster-cache';
import type { EtcdKV, KeyValue, WatchEvent } from '../../../netmaster/store/kv';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { layout } from '../../../netmaster/store/layout';
import { BadValues } from '../../../netmaster/store/bad-values';

const logger = createLogger('cluster-cache-test', { level: 'silent' });

interface FakeWatch {
  prefix: string;
  since: string;
  onBatch: (events: WatchEvent[]) => void;
  onError: (e: Error) => void;
  stopped: boolean;
}

/** The parts of EtcdKV the cache uses: read (for the revision), list, watchBatches. */
function fakeStore(kvs: KeyValue[], revision: string) {
  const watches: FakeWatch[] = [];
  const state = { revision, kvs };
  const kv = {
    badValues: new BadValues(),
    read: async () => ({ revision: state.revision, results: [] }),
    list: async (prefix: string) => ({ revision: state.revision, kvs: state.kvs.filter((e) => e.key.startsWith(prefix)) }),
    watchBatches: async (prefix: string, since: string, onBatch: FakeWatch['onBatch'], onError: FakeWatch['onError']) => {
      const w: FakeWatch = { prefix, since, onBatch, onError, stopped: false };
      watches.push(w);
      return async () => {
        w.stopped = true;
      };
    },
  } as unknown as EtcdKV;
  return { kv, watches, state };
}

const kv = (key: string, value: string, rev: string): KeyValue => ({ key, value, modRevision: rev, createRevision: rev });
const ep = (id: string, host: string) =>
  JSON.stringify({
    endpointID: id,
    tenantName: 't1',
    networkName: 'n1',
    network: 't1:n1',
    homingHost: host,
    ipAddress: '10.0.0.2',
    macAddress: '02:00:00:00:00:02',
  });
const put = (key: string, value: string, rev: string): WatchEvent => ({ type: 'put', key, value, prevValue: undefined, modRevision: rev });
const del = (key: string, rev: string): WatchEvent => ({ type: 'delete', key, value: '', prevValue: undefined, modRevision: rev });

describe('agent API: cluster cache', () => {
  it('loads at a revision and watches everything from the next one; each response is one batch', async () => {
    const { kv: store, watches } = fakeStore([kv(layout.ep('e1'), ep('e1', 'hostA'), '5')], '10');
    const cache = new ClusterCache(store, logger, { manageTenantIds: false });
    const batches: ClusterBatch[] = [];
    cache.subscribe((_s, b) => batches.push(b));
    await cache.start();
    assert.equal(cache.state.revision, '10');
    assert.equal(cache.state.endpoints.get('e1')?.ep.homingHost, 'hostA');
    assert.deepEqual(batches.slice(), [{ reload: true, changes: [] }], 'the load: every view is new');
    assert.equal(watches.length, 1);
    assert.equal(watches[0]?.prefix, layout.root);
    assert.equal(watches[0]?.since, '10', 'the store watches from the revision after this one');

    watches[0]?.onBatch([put(layout.ep('e1'), ep('e1', 'hostB'), '11'), put(agentLayout.host('hostB'), '{"host":"hostB"}', '12')]);
    assert.equal(cache.state.revision, '12');
    assert.equal(batches.length, 2, 'one response, one batch');
    const [epChange, agentChange] = batches[1]?.changes ?? [];
    assert.ok(epChange?.kind === 'endpoint');
    assert.deepEqual([epChange.before?.homingHost, epChange.after?.homingHost], ['hostA', 'hostB'], 'the endpoint before and after');
    assert.ok(agentChange?.kind === 'agent');
    assert.equal(agentChange.host, 'hostB');
    assert.equal(agentChange.before, undefined);
    assert.equal(batches[1]?.reload, false);

    watches[0]?.onBatch([put(layout.cfg('tenant', 't1'), '{"config":{"tenantName":"t1"},"oper":{}}', '13'), del(layout.ep('e1'), '14')]);
    assert.deepEqual(
      batches[2]?.changes.map((c) => c.kind),
      ['object', 'endpoint'],
      'an intent object and an endpoint delete',
    );
    assert.equal(cache.state.endpoints.has('e1'), false);
    assert.ok(cache.state.objects.get('tenant')?.has('t1'));
    assert.equal(cache.state.revision, '14');
    await cache.stop();
    assert.ok(watches[0]?.stopped);
  });

  it('reads everything again when the watch fails, and ignores the failed watch from then on', async () => {
    const { kv: store, watches, state } = fakeStore([], '10');
    const cache = new ClusterCache(store, logger, { manageTenantIds: false });
    await cache.start();
    state.revision = '20';
    state.kvs = [kv(layout.ep('e2'), ep('e2', 'hostA'), '18')];
    watches[0]?.onError(new Error('etcd: mvcc: required revision has been compacted'));
    for (let i = 0; i < 50 && watches.length < 2; i++) await new Promise((r) => setImmediate(r));
    assert.equal(watches.length, 2, 'a new watch');
    assert.ok(watches[0]?.stopped, 'the old one stopped');
    assert.equal(watches[1]?.since, '20');
    assert.equal(cache.state.revision, '20');
    assert.ok(cache.state.endpoints.has('e2'));
    watches[0]?.onBatch([del(layout.ep('e2'), '21')]);
    assert.ok(cache.state.endpoints.has('e2'), 'events of the old watch are ignored');
    assert.equal(cache.state.revision, '20');
    await cache.stop();
    assert.ok(watches[1]?.stopped);
  });
});
