/**
 * The CNM backend and MACs: `docker run --mac-address` (Docker sets that MAC in the container
 * itself) gets an endpoint with that MAC, the address IPAM reserved being allocated again with it;
 * a MAC the IPAM driver asks for (a restarted container's own) reaches the allocator. Fake agent.
 */
import { strict as assert } from 'node:assert';
import type { Agent } from '../../../netplugin/agent/agent';
import { EndpointStore } from '../../../netplugin/agent/endpoint-store';
import type { EndpointRequest } from '../../../netplugin/agent/fabric';
import { AgentCnmBackend } from '../../../netplugin/backends/cnm-backend';
import { parseHostState } from '../../../netplugin/state/host-state';

function fakeAgent() {
  const state = parseHostState({
    networks: [
      { key: 't1:n', tenant: 't1', name: 'n', encap: 'vxlan', pktTag: 5000, subnet: '10.0.0.0/24', gateway: '10.0.0.1', networkId: 5000 },
    ],
  });
  const created: EndpointRequest[] = [];
  const deleted: string[] = [];
  let n = 0;
  const agent = {
    hostName: 'h1',
    currentState: state,
    store: new EndpointStore(undefined),
    config: { underlayMtu: 1500, txChecksumOff: false },
    network: async () => state.networks[0],
    allocator: {
      connected: true,
      create: async (r: EndpointRequest) => {
        created.push(r);
        n++;
        const ip = r.requestedIp ?? `10.0.0.${n + 1}`;
        return {
          id: `ep${n}`,
          networkKey: 't1:n',
          tenant: 't1',
          network: 'n',
          ip,
          prefixLength: 24,
          mac: r.requestedMac ?? `02:00:00:00:00:0${n}`,
          gateway: '10.0.0.1',
        };
      },
      delete: async (r: { endpointId?: string }) => void deleted.push(r.endpointId ?? '-'),
    },
  };
  // a structural fake: only what allocateAddress and createEndpoint use
  return { backend: new AgentCnmBackend(agent as unknown as Agent), created, deleted };
}

const pool = { tenant: 't1', network: 'n', subnet: '10.0.0.0/24' };
const ref = { dockerNetworkId: 'd'.repeat(64), endpointId: 'e'.repeat(64), binding: { tenant: 't1', network: 'n' } };

describe('CNM backend: MACs', () => {
  it('docker run --mac-address: the endpoint gets that MAC and keeps the address IPAM reserved', async () => {
    const { backend, created, deleted } = fakeAgent();
    const ip = await backend.allocateAddress({ pool });
    const r = await backend.createEndpoint({ ...ref, address: `${ip}/24`, macAddress: '02:42:11:22:33:44' });
    assert.deepEqual(r, { address: `${ip}/24`, macAddress: '02:42:11:22:33:44' });
    assert.deepEqual(deleted, ['ep1'], 'the reservation without that MAC is given back');
    assert.deepEqual([created[1]?.requestedIp, created[1]?.requestedMac], [ip, '02:42:11:22:33:44']);
  });

  it('without --mac-address the reservation is used as is', async () => {
    const { backend, created, deleted } = fakeAgent();
    const ip = await backend.allocateAddress({ pool });
    const r = await backend.createEndpoint({ ...ref, address: `${ip}/24` });
    assert.deepEqual(r, { address: `${ip}/24`, macAddress: '02:00:00:00:00:01' });
    assert.equal(created.length, 1);
    assert.deepEqual(deleted, []);
  });

  it("a MAC the IPAM driver asks for (a restarted container's own) is the allocation's", async () => {
    const { backend, created } = fakeAgent();
    const ip = await backend.allocateAddress({ pool, preferred: '10.0.0.9', mac: '02:aa:bb:cc:dd:ee' });
    assert.equal(ip, '10.0.0.9');
    assert.equal(created[0]?.requestedMac, '02:aa:bb:cc:dd:ee');
    assert.deepEqual(await backend.createEndpoint({ ...ref, address: '10.0.0.9/24' }), {
      address: '10.0.0.9/24',
      macAddress: '02:aa:bb:cc:dd:ee',
    });
  });
});
