/**
 * Inspect's Oper comes from the function registered for the kind; a kind without one shows the
 * oper the store keeps. Every registration names a declared kind.
 */
import assert from 'node:assert/strict';
import { KIND_NAMES } from '../../../lib/kinds';
import { inspect } from '../../../netmaster/service/inspect';
import { KIND_OPERS } from '../../../netmaster/service/oper';
import type { ServiceReads } from '../../../netmaster/service/reads';

function reads(objects: Record<string, { config: unknown; oper: Record<string, unknown> }>): ServiceReads {
  const none = () => Promise.reject(new Error('not used'));
  return {
    kv: undefined as never,
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
    endpointsIn: async () => [],
    deleteEndpoint: none,
    currentRevision: none,
  };
}

describe('netmaster inspect: oper registered per kind', () => {
  it('registers oper only for declared kinds', () => {
    for (const k of Object.keys(KIND_OPERS)) assert.ok((KIND_NAMES as string[]).includes(k), k);
  });

  it('shows the stored oper of a kind without a registered function', async () => {
    const svc = reads({ 'Bgp/h1': { config: { hostname: 'h1' }, oper: { peers: 2 } } });
    assert.deepEqual(await inspect(svc, 'Bgp', 'h1'), { Config: { key: 'h1', hostname: 'h1' }, Oper: { peers: 2 } });
  });

  it('computes the oper of a kind with one (tenant counts)', async () => {
    const svc = reads({
      'tenant/t1': { config: { tenantName: 't1' }, oper: { ignored: true } },
      'network/t1:n1': { config: { tenantName: 't1', networkName: 'n1' }, oper: {} },
      'policy/t1:p1': { config: {}, oper: {} },
      'policy/t2:p1': { config: {}, oper: {} },
    });
    const r = await inspect(svc, 'tenant', 't1');
    assert.deepEqual(r.Oper, {
      networks: 1,
      endpointGroups: 0,
      policys: 1,
      netprofiles: 0,
      appProfiles: 0,
      serviceLBs: 0,
      numEndpoints: 0,
    });
  });
});
