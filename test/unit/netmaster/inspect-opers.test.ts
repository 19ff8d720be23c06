/**
 * Inspect's Oper comes from the function registered for the kind; a kind without one shows the
 * oper the store keeps. Every registration names a declared kind.
 */
import assert from 'node:assert/strict';
import { KIND_NAMES } from '../../../lib/kinds';
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';
import { inspect } from '../../../netmaster/service/inspect';
import { KIND_OPERS } from '../../../netmaster/service/oper';
import type { ServiceReads } from '../../../netmaster/service/reads';
import { aciLayout } from '../../../netmaster/store/aci-layout';

function reads(
  objects: Record<string, { config: unknown; oper: Record<string, unknown> }>,
  etcd: Record<string, string> = {},
  endpoints: unknown[] = [],
): ServiceReads {
  const none = () => Promise.reject(new Error('not used'));
  return {
    // no allocations: every address range list is empty; single keys from `etcd`
    kv: {
      list: async () => ({ kvs: [] }),
      get: async (key: string) => (etcd[key] === undefined ? undefined : { key, value: etcd[key] }),
    } as never,
    get: async (type, key) => {
      const o = objects[`${type}/${key}`];
      if (!o) throw new Error(`no ${type} ${key}`);
      return { key, config: o.config as never, oper: o.oper };
    },
    list: async (type) =>
      Object.entries(objects)
        .filter(([k]) => k.startsWith(`${type}/`))
        .map(([k, o]) => ({ key: k.slice(type.length + 1), config: o.config as never, oper: o.oper })),
    getEndpoint: none,
    listEndpoints: none,
    endpointsIn: async () => endpoints as never,
    deleteEndpoint: none,
    currentRevision: none,
  };
}

describe('netmaster inspect: oper registered per kind', () => {
  it('registers oper only for declared kinds', () => {
    for (const k of Object.keys(KIND_OPERS)) assert.ok((KIND_NAMES as string[]).includes(k), k);
  });

  it(`a serviceLB with more providers than the ${SERVICE_PROVIDERS_MAX} a service balances over says so: count balanced, those left out, a warning`, async () => {
    const svcConfig = {
      tenantName: 't1',
      serviceName: 'web',
      networkName: 'n1',
      selectors: ['app=web'],
      ports: ['80:8080:TCP'],
      ipAddress: '10.1.0.100',
    };
    const ep = (i: number) => ({
      endpointID: `ep${String(i).padStart(5, '0')}`,
      network: 't1:n1',
      ipAddress: `10.1.${i >> 8}.${i & 255}`,
      labels: { app: 'web' },
      homingHost: 'h1',
      containerName: `c${i}`,
    });
    const over = SERVICE_PROVIDERS_MAX + 2;
    const big = reads(
      { 'serviceLB/t1:web': { config: svcConfig, oper: {} } },
      {},
      Array.from({ length: over }, (_, i) => ep(over - i)),
    );
    const oper = (await inspect(big, 'serviceLB', 't1:web')).Oper as {
      numProviders: number;
      numProvidersBalanced: number;
      warning?: string;
      providers: Array<{ endpointID: string; balanced?: boolean }>;
    };
    assert.equal(oper.numProviders, over);
    assert.equal(oper.numProvidersBalanced, SERVICE_PROVIDERS_MAX);
    assert.match(oper.warning ?? '', new RegExp(`${over} providers are more than the ${SERVICE_PROVIDERS_MAX}`));
    // the agents' choice (agent/service-view.ts): the first by endpoint id
    assert.deepEqual(
      oper.providers.filter((p) => p.balanced === false).map((p) => p.endpointID),
      [ep(over - 1).endpointID, ep(over).endpointID],
    );
    const small = reads({ 'serviceLB/t1:web': { config: svcConfig, oper: {} } }, {}, [ep(1), ep(2)]);
    const fine = (await inspect(small, 'serviceLB', 't1:web')).Oper as Record<string, unknown>;
    assert.equal(fine['numProvidersBalanced'], 2);
    assert.equal(fine['warning'], undefined);
  });

  it('shows the stored oper of a kind without a registered function', async () => {
    const svc = reads({ 'Bgp/h1': { config: { hostname: 'h1' }, oper: { peers: 2 } } });
    assert.deepEqual(await inspect(svc, 'Bgp', 'h1'), { Config: { key: 'h1', hostname: 'h1' }, Oper: { peers: 2 } });
  });

  it("a network created without a tag: Config keeps pktTag 0, Oper's pktTag is the allocated tag, in its group's and the global oper too", async () => {
    const nw = (name: string, encap: string, pktTag: number, subnet: string) => ({
      tenantName: 't1',
      networkName: name,
      encap,
      pktTag,
      subnet,
      gateway: '',
      cfgdTag: '',
    });
    const svc = reads({
      'network/t1:auto': { config: nw('auto', 'vxlan', 0, '10.1.1.0/24'), oper: { pktTag: 4001 } },
      'network/t1:given': { config: nw('given', 'vlan', 12, '10.1.2.0/24'), oper: { pktTag: 12 } },
      'network/t1:old': { config: nw('old', 'vlan', 13, '10.1.3.0/24'), oper: {} },
      'endpointGroup/t1:web': { config: { tenantName: 't1', groupName: 'web', networkName: 'auto', cfgdTag: '', ipPool: '' }, oper: {} },
      'global/global': { config: { vlans: '1-4094', vxlans: '1-10000' }, oper: {} },
    });
    const auto = await inspect(svc, 'network', 't1:auto');
    assert.equal(auto.Config.pktTag, 0, "the config is the user's");
    assert.equal(auto.Oper.pktTag, 4001);
    assert.equal(auto.Oper.externalPktTag, 4001);
    assert.equal(auto.Oper.networkTag, '', "Contiv's networkTag is the configured tag name");
    assert.equal((await inspect(svc, 'network', 't1:given')).Oper.pktTag, 12);
    assert.equal((await inspect(svc, 'network', 't1:old')).Oper.pktTag, 13, 'stored before the oper record: the config tag');
    const web = await inspect(svc, 'endpointGroup', 't1:web');
    assert.equal(web.Oper.pktTag, 4001);
    assert.equal(web.Oper.externalPktTag, 4001);
    const g = await inspect(svc, 'global', 'global');
    assert.equal(g.Oper.vxlansInUse, '4001');
    assert.equal(g.Oper.vlansInUse, '12-13');
    assert.equal(g.Oper.freeVXLANsStart, 1);
  });

  it("computes the oper of a kind with one (tenant: its objects' opers and totals)", async () => {
    const svc = reads({
      'tenant/t1': { config: { tenantName: 't1' }, oper: { ignored: true } },
      'network/t1:n1': { config: { tenantName: 't1', networkName: 'n1', subnet: '10.1.1.0/24', gateway: '', cfgdTag: '' }, oper: {} },
      'policy/t1:p1': { config: {}, oper: {} },
      'policy/t2:p1': { config: {}, oper: {} },
    });
    const r = await inspect(svc, 'tenant', 't1');
    // Contiv's TenantOper: each kind's oper in an array, and totals
    const o = r.Oper as Record<string, unknown[] | number>;
    assert.deepEqual(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? `${v.length} items` : v])), {
      networks: '1 items',
      endpointGroups: '0 items',
      policies: '1 items',
      servicelbs: '0 items',
      endpoints: '0 items',
      totalNetworks: 1,
      totalEPGs: 0,
      totalPolicies: 1,
      totalNetprofiles: 0,
      totalAppProfiles: 0,
      totalServicelbs: 0,
      totalEndpoints: 0,
      numEndpoints: 0,
    });
  });

  it("an EPG's group and its app profile show their tenant's APIC sync as stored; a group in no app profile does not", async () => {
    const sync = {
      state: 'error',
      since: '2026-01-01T00:00:00.000Z',
      message: 'APIC POST uni/tn-t1.json: 400 (code 104) fvAp cannot contain fvRsBd',
    };
    const grp = (groupName: string) => ({ config: { tenantName: 't1', groupName, networkName: 'n', cfgdTag: '', ipPool: '' }, oper: {} });
    const svc = reads(
      {
        'endpointGroup/t1:web': grp('web'),
        'endpointGroup/t1:lone': grp('lone'),
        'appProfile/t1:app': { config: { tenantName: 't1', appProfileName: 'app', endpointGroups: ['web'] }, oper: {} },
      },
      { [aciLayout.tenantSync('t1')]: JSON.stringify(sync) },
    );
    assert.deepEqual((await inspect(svc, 'endpointGroup', 't1:web')).Oper.aciSync, sync);
    assert.deepEqual((await inspect(svc, 'appProfile', 't1:app')).Oper.aciSync, sync);
    assert.equal((await inspect(svc, 'endpointGroup', 't1:lone')).Oper.aciSync, undefined);
  });
});
