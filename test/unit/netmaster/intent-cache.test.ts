/**
 * The watch-fed intent copy, driven by a fake etcd: it loads at a revision, applies watch events
 * in order, answers a check's needs from memory, and produces the guards a read from etcd at its
 * revision would have produced (ranges unchanged since that revision, keys at the revisions it
 * holds, tags absent). Endpoint counts are never answered from the copy.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { BadValues } from '../../../netmaster/store/bad-values';
import { IntentCache } from '../../../netmaster/store/intent-cache';
import type { EtcdKV, KeyValue, WatchEvent } from '../../../netmaster/store/kv';
import { layout } from '../../../netmaster/store/layout';
import { needsForUpsert } from '../../../netmaster/model/validate';
import { needsForDelete } from '../../../netmaster/model/deletes';
import { parseObject } from '../../../netmaster/model/keys';
import { DEFAULT_GLOBAL } from '../../../netmaster/service/service';

function fakeKv(initial: KeyValue[], revision: string) {
  let push: ((e: WatchEvent) => void) | undefined;
  let watchedFrom = '';
  const kv = {
    badValues: new BadValues(),
    list: async () => ({ revision, kvs: initial }),
    watch: async (_prefix: string, since: string, onEvent: (e: WatchEvent) => void) => {
      watchedFrom = since;
      push = onEvent;
      return async () => undefined;
    },
  } as unknown as EtcdKV;
  return { kv, push: (e: WatchEvent) => push?.(e), watchedFrom: () => watchedFrom };
}

const stored = (config: object, modRevision: string, key: string): KeyValue => ({
  key,
  value: JSON.stringify({ config, oper: {} }),
  modRevision,
  createRevision: modRevision,
});

describe('netmaster intent cache', () => {
  const tenant = { tenantName: 't1', defaultNetwork: '' };
  const global = { ...DEFAULT_GLOBAL };
  const n1 = {
    tenantName: 't1',
    networkName: 'n1',
    nwType: 'data',
    encap: 'vlan',
    pktTag: 10,
    subnet: '10.1.1.0/24',
    gateway: '',
    ipv6Subnet: '',
    ipv6Gateway: '',
    cfgdTag: '',
  };

  async function started() {
    const f = fakeKv(
      [
        stored(tenant, '5', layout.cfg('tenant', 't1')),
        stored(global, '2', layout.cfg('global', 'global')),
        stored(n1, '8', layout.cfg('network', 't1:n1')),
      ],
      '9',
    );
    const cache = new IntentCache(f.kv, createLogger('test', { level: 'silent' }));
    await cache.start();
    return { cache, ...f };
  }

  it('loads at a revision and follows the watch from there', async () => {
    const { cache, watchedFrom } = await started();
    assert.equal(cache.isReady, true);
    assert.equal(cache.revision, '9');
    assert.equal(watchedFrom(), '9', 'the watch starts right after the listed revision');
    assert.deepEqual(cache.entry('network', 't1:n1')?.modRevision, '8');
  });

  it('answers a network create from memory with the guards of a read at its revision', async () => {
    const { cache } = await started();
    // a VXLAN network: only its tenant's networks are read (a VLAN or bgp one may be routed: all of them)
    const obj = parseObject('network', { tenantName: 't1', networkName: 'n2', subnet: '10.1.2.0/24', encap: 'vxlan', pktTag: 20 });
    const loaded = cache.load(needsForUpsert('network', obj));
    assert.ok(loaded);
    assert.equal(loaded.state.list('network', 't1:').length, 1);
    assert.equal(loaded.state.tagOwner('vxlan', 20), undefined, 'tags are taken as free');
    const guards = loaded.guards();
    assert.deepEqual(
      guards.find((g) => g.kind === 'rangeUnchangedSince'),
      { kind: 'rangeUnchangedSince', prefix: layout.cfgPrefix('network') + 't1:', revision: '9' },
    );
    assert.ok(guards.some((g) => g.kind === 'modEquals' && g.key === layout.cfg('tenant', 't1') && g.modRevision === '5'));
    assert.ok(
      guards.some((g) => g.kind === 'modEquals' && g.key === layout.tag('vxlan', 20) && g.modRevision === '0'),
      'the tag must still be absent',
    );
    assert.ok(
      guards.some((g) => g.kind === 'modEquals' && g.key === layout.cfg('endpointGroup', 't1:n2') && g.modRevision === '0'),
      'no group may take the name meanwhile',
    );
  });

  it('applies puts and deletes in order and wakes waiters', async () => {
    const { cache, push } = await started();
    const waited = cache.waitFor('12', 1000).then(() => cache.revision);
    push({
      type: 'put',
      key: layout.cfg('policy', 't1:p1'),
      value: JSON.stringify({ config: { tenantName: 't1', policyName: 'p1' }, oper: {} }),
      prevValue: undefined,
      modRevision: '11',
    });
    push({ type: 'delete', key: layout.cfg('network', 't1:n1'), value: '', prevValue: undefined, modRevision: '12' });
    assert.equal(await waited, '12');
    assert.ok(cache.entry('policy', 't1:p1'));
    assert.equal(cache.entry('network', 't1:n1'), undefined);
  });

  it('does not answer checks that need endpoint counts', async () => {
    const { cache } = await started();
    assert.equal(cache.load(needsForDelete('network', 't1:n1')), undefined);
  });

  it('answers nothing once stopped', async () => {
    const { cache } = await started();
    await cache.stop();
    assert.equal(cache.load(needsForUpsert('policy', parseObject('policy', { tenantName: 't1', policyName: 'x' }))), undefined);
    assert.equal(cache.entry('tenant', 't1'), undefined);
  });
});
