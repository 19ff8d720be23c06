/**
 * The leader's ACI sync loop (netmaster/aci/run.ts) against the APIC stand-in, time frozen on a
 * fake clock: a pass that failed only for want of intent (a group's VLAN not allocated yet) is
 * woken by the intent change that completes it, without waiting a backoff; so when the fabric
 * mode becomes aci the APIC binds a group's new VLAN as soon as the leader allocated it, not a
 * backoff after the agents moved the group's traffic onto it.
 */
import { strict as assert } from 'node:assert';
import { AciSyncLoop, type AciRunOptions } from '../../../netmaster/aci/run';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { FakeClock } from '../../support/fake-clock';
import { FakeEtcd } from '../agent-api/fake-etcd';
import {
  REF_APP_PROFILES,
  REF_EXT_CONTRACTS,
  REF_GROUPS,
  REF_GROUP_VLANS,
  REF_GW,
  REF_NETWORKS,
  REF_RULES,
  REF_VLANS,
} from '../../support/aci-reference';

type Stored = { key: string; config: unknown; oper: Record<string, unknown> };
type WatchEvent = { kind: string; type: string };

describe('ACI sync loop', () => {
  let apic: RunningApicStandin;
  beforeEach(async () => {
    apic = await startApicStandin({ user: 'admin', password: 'pw' });
  });
  afterEach(() => apic.close());

  it('a tenant waiting for a group VLAN is synced as soon as the VLAN is allocated, not after a backoff', async () => {
    const vlans: Record<string, number | undefined> = { ...REF_GROUP_VLANS, 'acB:back': undefined };
    const objects: Record<string, () => Stored[]> = {
      global: () => [{ key: 'global', config: { name: 'global', networkInfraType: 'aci', vlans: REF_VLANS }, oper: {} }],
      aciGw: () => [{ key: 'aciGw', config: REF_GW, oper: {} }],
      network: () => REF_NETWORKS.map((n) => ({ key: `${n.tenantName}:${n.networkName}`, config: n, oper: {} })),
      endpointGroup: () =>
        REF_GROUPS.map((g) => {
          const key = `${g.tenantName}:${g.groupName}`;
          const v = vlans[key];
          return { key, config: g, oper: v === undefined ? {} : { pktTag: v } };
        }),
      rule: () => REF_RULES.map((r) => ({ key: r.ruleId, config: r, oper: {} })),
      appProfile: () => REF_APP_PROFILES.map((a) => ({ key: a.appProfileName, config: a, oper: {} })),
      extContractsGroup: () => REF_EXT_CONTRACTS.map((c) => ({ key: c.contractsGroupName, config: c, oper: {} })),
    };
    let notify: ((e: WatchEvent) => void) | undefined;
    const c = new FakeEtcd().client();
    const service = {
      list: async (type: string) => (objects[type] ?? (() => []))(),
      watch: async (_rev: string, onEvent: (e: WatchEvent) => void) => {
        notify = onEvent;
        return async () => undefined;
      },
      kv: {
        list: async (prefix: string) => ({ ...(await c.list(prefix)) }),
        get: async (key: string) => (await c.read([{ kind: 'get', key }])).results[0]?.kvs[0],
        commit: (g: Parameters<typeof c.commit>[0], w: Parameters<typeof c.commit>[1]) => c.commit(g, w),
      },
    };
    const clock = new FakeClock(); // never moved: no backoff ever runs out
    const loop = new AciSyncLoop({
      // the loop reads only list, watch and the kv calls above
      service: service as unknown as AciRunOptions['service'],
      apic: { url: apic.url, user: 'admin', password: 'pw' },
      logger: createLogger('t', { level: 'silent' }),
      clock,
    });
    const stop = new AbortController();
    const running = loop.run(stop.signal);
    try {
      const pending = await waitFor(
        'acB pending on the missing VLAN, acA in sync',
        () => {
          const t = loop.view().tenants;
          return t['acA']?.state === 'in sync' && t['acB']?.state === 'pending' ? t['acB'] : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 10 },
      );
      assert.match(pending.message ?? '', /group acB:back: its VLAN of its own is not allocated yet/);
      assert.ok(
        !apic
          .mit()
          .dump()
          .some((o) => o.dn === 'uni/tn-acB'),
        'nothing sent for acB',
      );

      vlans['acB:back'] = REF_GROUP_VLANS['acB:back'];
      notify!({ kind: 'config', type: 'endpointGroup' });
      const dn = `uni/tn-acB/ap-app2/epg-back`;
      await waitFor(
        "back's binding on the APIC with its VLAN, the clock standing still",
        () =>
          apic
            .mit()
            .dump()
            .some((o) => o.dn.startsWith(`${dn}/rspathAtt-`) && o.attrs['encap'] === `vlan-${REF_GROUP_VLANS['acB:back']}`),
        { timeoutMs: 10_000, intervalMs: 10 },
      );
      assert.equal(loop.view().tenants['acB']?.state, 'in sync');
    } finally {
      stop.abort();
      await running;
    }
  });
});
