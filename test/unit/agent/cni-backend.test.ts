/**
 * The agent's CNI backend against a fake agent (no root, no OVS): a failed ADD gives the endpoint
 * back and leaves no record; DEL without a record still releases by key; GC releases exactly the
 * CNI attachments of that network not listed; STATUS follows the connections.
 */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import type { Agent } from '../../../netplugin/agent/agent';
import { EndpointRecord, EndpointStore } from '../../../netplugin/agent/endpoint-store';
import type { EndpointRequest } from '../../../netplugin/agent/fabric';
import { AgentCniBackend } from '../../../netplugin/backends/cni-backend';
import type { CniAddRequest, NetworkRef } from '../../../netplugin/cni/types';

const network: NetworkRef = { cniNetwork: 'nl', tenant: 't1', network: 'n' };

function fakeAgent() {
  const calls: string[] = [];
  const store = new EndpointStore(undefined);
  const ready = { ovs: true, controlPlane: true };
  const agent = {
    hostName: 'h1',
    store,
    config: { underlayMtu: 1500, txChecksumOff: true },
    logger: createLogger('test', { level: 'silent' }),
    localPorts: {},
    ready,
    allocator: {
      connected: true,
      create: async (r: EndpointRequest) => {
        calls.push(`create ${r.idempotencyKey}`);
        return { id: 'ep1', networkKey: 't1:n', tenant: 't1', network: 'n', ip: '10.0.0.5', prefixLength: 24, mac: '02:00:00:00:00:05', gateway: '10.0.0.1' };
      },
      delete: async (r: { endpointId?: string; idempotencyKey: string }) => void calls.push(`delete ${r.endpointId ?? '-'} ${r.idempotencyKey}`),
    },
    network: async () => ({ key: 't1:n', encap: 'vxlan', mtu: 0 }),
    attachEndpoint: async () => 7,
    detachEndpoint: async (r: EndpointRecord) => {
      calls.push(`detach ${r.endpointId}`);
      store.remove(r.idempotencyKey);
    },
  };
  // a structural fake: only what the backend uses
  return { agent: agent as unknown as Agent, calls, store, ready };
}

const rec = (n: number, over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  endpointId: `ep${n}`,
  idempotencyKey: `nl/c${n}/eth0`,
  kind: 'cni',
  frontNetwork: 'nl',
  containerId: `c${n}`,
  ifName: 'eth0',
  netnsPath: '/run/netns/none',
  hostIf: `nlunittest${n}`,
  networkKey: 't1:n',
  ip: `10.0.0.${n}`,
  prefixLength: 24,
  mac: '02:00:00:00:00:01',
  gateway: '10.0.0.1',
  mtu: 1450,
  ...over,
});

describe('agent CNI backend (fake agent)', () => {
  it('a failed ADD (namespace missing) gives the endpoint back and keeps no record', async () => {
    const { agent, calls, store } = fakeAgent();
    const req = { containerId: 'c1', ifName: 'eth0', network, idempotencyKey: 'nl/c1/eth0', labels: {}, cniVersion: '1.1.0', netconf: {}, netnsPath: '/run/netns/nl-unit-does-not-exist', requestedIps: [], portMappings: [] } as CniAddRequest;
    await assert.rejects(new AgentCniBackend(agent).add(req), (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'netns');
    assert.deepEqual(calls, ['create nl/c1/eth0', 'detach ep1', 'delete ep1 nl/c1/eth0']);
    assert.deepEqual(store.list(), []);
  });

  it('DEL without a record still releases by idempotency key', async () => {
    const { agent, calls } = fakeAgent();
    await new AgentCniBackend(agent).del({ containerId: 'c9', ifName: 'eth0', network, idempotencyKey: 'nl/c9/eth0', labels: {}, cniVersion: '1.1.0', netconf: {} });
    assert.deepEqual(calls, ['delete - nl/c9/eth0']);
  });

  it('GC releases exactly the CNI attachments of the network that are not listed', async () => {
    const { agent, calls, store } = fakeAgent();
    store.put(rec(1));
    store.put(rec(2));
    store.put(rec(3, { frontNetwork: 'other', idempotencyKey: 'other/c3/eth0' }));
    store.put(rec(4, { kind: 'cnm', idempotencyKey: 'cnm/x/4' }));
    const r = await new AgentCniBackend(agent).gc({ network, validAttachments: [{ containerId: 'c2', ifName: 'eth0' }], cniVersion: '1.1.0', netconf: {} });
    assert.deepEqual(r, { released: [{ containerId: 'c1', ifName: 'eth0' }], errors: [] });
    assert.deepEqual(calls, ['detach ep1', 'delete ep1 nl/c1/eth0']);
    assert.deepEqual(store.list().map((x) => x.endpointId).sort(), ['ep2', 'ep3', 'ep4']);
  });

  it('STATUS is ready only with OVS and the control plane connected', async () => {
    const { agent, ready } = fakeAgent();
    const b = new AgentCniBackend(agent);
    assert.deepEqual(await b.status(), { ready: true });
    ready.controlPlane = false;
    assert.deepEqual(await b.status(), { ready: false, code: 50, message: 'netloom agent is not connected to netmaster' });
    ready.ovs = false;
    assert.equal((await b.status()).ready, false);
  });
});
