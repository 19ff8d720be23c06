/**
 * The ACI gateway's sync state in etcd: the writes are only the keys that changed, a tenant gone
 * is deleted, a failed write is retried by the next publish, a new leader reads the state back;
 * and against the APIC stand-in, failing passes that fail the same way write nothing more, while
 * the last error stays once the tenant is in sync again.
 */
import { strict as assert } from 'node:assert';
import { desiredTrees } from '../../../netmaster/aci/desired-tree';
import { AciGateway } from '../../../netmaster/aci/gateway';
import { ApicSession } from '../../../netmaster/aci/session';
import { AciSyncStore, readAciSync, readTenantSync, syncWrites, viewOf } from '../../../netmaster/aci/sync-store';
import type { AciSyncView } from '../../../netmaster/aci/sync-status';
import { aciLayout } from '../../../netmaster/store/aci-layout';
import type { EtcdKV } from '../../../netmaster/store/kv';
import { startApicStandin } from '../../../tools/apic-standin/server';
import { FakeEtcd } from '../agent-api/fake-etcd';
import { REF_INTENT } from '../../support/aci-reference';

function kvOf(etcd: FakeEtcd): Pick<EtcdKV, 'list' | 'get' | 'commit'> {
  const c = etcd.client();
  return {
    list: async (prefix) => ({ ...(await c.list(prefix)) }),
    get: async (key) => (await c.read([{ kind: 'get', key }])).results[0]?.kvs[0],
    commit: (g, w) => c.commit(g, w),
  };
}

const view = (tenants: AciSyncView['tenants']): AciSyncView => ({ apic: 'https://apic', gateway: 'running', replica: 'r1', tenants });
const inSync = { state: 'in sync' as const, since: '2026-01-01T00:00:00.000Z' };

describe('ACI sync state in etcd', () => {
  it('writes only what changed, deletes tenants gone, and reads back the same view', () => {
    const first = syncWrites(view({ acA: inSync, acB: inSync }), new Map());
    assert.deepEqual(
      first.map((w) => `${w.kind} ${'key' in w ? w.key : ''}`),
      [`put ${aciLayout.gateway}`, `put ${aciLayout.tenantSync('acA')}`, `put ${aciLayout.tenantSync('acB')}`],
    );
    const stored = new Map(first.map((w) => [w.kind === 'put' ? w.key : '', w.kind === 'put' ? w.value : '']));
    assert.deepEqual(viewOf(stored), view({ acA: inSync, acB: inSync }));
    assert.deepEqual(syncWrites(view({ acA: inSync, acB: inSync }), stored), [], 'the same view again: nothing');
    const pending = { state: 'pending' as const, since: '2026-01-01T00:01:00.000Z', message: 'APIC POST: 503' };
    assert.deepEqual(
      syncWrites(view({ acA: pending }), stored).map((w) => `${w.kind} ${'key' in w ? w.key : ''}`),
      [`put ${aciLayout.tenantSync('acA')}`, `delete ${aciLayout.tenantSync('acB')}`],
    );
    stored.set(aciLayout.tenantSync('acC'), '{not json');
    assert.deepEqual(Object.keys(viewOf(stored)?.tenants ?? {}), ['acA', 'acB'], 'a bad value is left out, not fatal');
    assert.equal(viewOf(new Map()), undefined, 'no gateway ever ran');
  });

  it('publishes through etcd once per change, retries a failed write, a new leader loads it, a stopped one writes nothing', async () => {
    const etcd = new FakeEtcd();
    const kv = kvOf(etcd);
    const store = new AciSyncStore(kv);
    await store.publish(view({ acA: inSync }));
    await store.publish(view({ acA: inSync }));
    assert.equal(etcd.calls.commit, 1);
    assert.deepEqual(await readAciSync(kv), view({ acA: inSync }));
    assert.deepEqual(await readTenantSync(kv, 'acA'), inSync);
    etcd.down = new Error('etcd unreachable');
    const err = { state: 'error' as const, since: '2026-01-01T00:02:00.000Z', message: 'APIC refused' };
    await store.publish(view({ acA: err }));
    etcd.down = undefined;
    assert.deepEqual(await readTenantSync(kv, 'acA'), inSync, 'the failed write left the old state');
    await store.publish(view({ acA: err }));
    assert.deepEqual(await readTenantSync(kv, 'acA'), err, 'the next publish wrote it');
    const next = new AciSyncStore(kv);
    assert.deepEqual(await next.load(), view({ acA: err }));
    const commits = etcd.calls.commit;
    await next.publish(view({ acA: err }));
    assert.equal(etcd.calls.commit, commits, 'a new leader with the same view writes nothing');
    next.stop();
    await next.publish(view({ acA: inSync }));
    assert.equal(etcd.calls.commit, commits, 'a replica that no longer leads writes nothing');
    assert.deepEqual(await readTenantSync(kv, 'acA'), err);
  });

  it('a gateway failing the same way pass after pass writes once; the last error stays after the recovery', async () => {
    const s = await startApicStandin({ user: 'admin', password: 'pw' });
    try {
      const etcd = new FakeEtcd();
      const kv = kvOf(etcd);
      const store = new AciSyncStore(kv);
      const session = new ApicSession({ url: s.url, user: 'admin', password: 'pw', backoff: { initialMs: 1, maxMs: 2 }, maxAttempts: 2 });
      let gw: AciGateway | undefined = undefined;
      const publish = () => store.publish(view(Object.fromEntries(gw?.status ?? [])));
      gw = new AciGateway(session, { onChange: () => void publish() });
      const trees = desiredTrees(REF_INTENT);
      s.faults.set({ status: 503, count: 1000 });
      assert.equal(await gw.sync(trees), false);
      await publish();
      const afterFirst = etcd.calls.commit;
      const stored = await readTenantSync(kv, 'acA');
      assert.equal(stored?.state, 'pending');
      assert.match(stored?.message ?? '', /503.*Service Unavailable/);
      for (let i = 0; i < 3; i++) assert.equal(await gw.sync(trees), false);
      await publish();
      assert.equal(etcd.calls.commit, afterFirst, 'the same failure again: nothing written');
      s.faults.clear();
      assert.equal(await gw.sync(trees), true);
      await publish();
      const ok = await readTenantSync(kv, 'acA');
      assert.equal(ok?.state, 'in sync');
      assert.equal(ok?.lastError?.message, stored?.message);
      assert.equal(ok?.lastError?.at, stored?.since, 'the first time the failure was seen');
      assert.ok((ok?.posted ?? 0) > 0);
    } finally {
      await s.close();
    }
  });
});
