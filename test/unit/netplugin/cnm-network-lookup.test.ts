/**
 * The CNM backend's network lookup (`docker network create` on a host with no endpoint in the
 * network): a network in the desired state is used as is (no control-plane call); one that is
 * not is asked of the allocator at once (no wait for the stream); one that does not exist fails
 * at once with NOT_FOUND naming tenant and network. Also the two allocators' lookupNetwork: the
 * file fabric's (its networks are all there are) and netmaster's (answer checked like the state).
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import type { Agent } from '../../../netplugin/agent/agent';
import type { NetworkLookup } from '../../../netplugin/agent/fabric';
import { findListedNetwork } from '../../../netplugin/agent/file-fabric';
import { NetmasterFabric } from '../../../netplugin/agent/netmaster-adapter';
import { AgentCnmBackend } from '../../../netplugin/backends/cnm-backend';
import type { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { parseHostState, type HostState, type Network } from '../../../netplugin/state/host-state';

const net = (tenant: string, name: string, subnet: string, gateway = ''): Network =>
  parseHostState({ networks: [{ key: `${tenant}:${name}`, tenant, name, encap: 'vxlan', pktTag: 5000, subnet, gateway, networkId: 5000 }] })
    .networks[0]!;

/** The control plane's networks; the host's desired state carries only `carried`. */
function fakeAgent(all: Network[], carried: Network[]) {
  const lookups: NetworkLookup[] = [];
  const state: HostState = parseHostState({ networks: carried });
  const agent = {
    hostName: 'h1',
    currentState: state,
    waitForState: () => new Promise(() => undefined), // never: the backend must not wait on the stream
    allocator: {
      connected: true,
      lookupNetwork: async (ref: NetworkLookup) => {
        lookups.push(ref);
        await new Promise((r) => setTimeout(r, 5));
        const found = all.find((n) => n.tenant === ref.tenant && (ref.network ? n.name === ref.network : n.subnet === ref.subnet));
        if (!found)
          throw new NetloomError('NOT_FOUND', `network '${ref.network ?? ref.subnet ?? ''}' of tenant '${ref.tenant}' does not exist`, {
            field: 'network',
          });
        return found;
      },
    },
  };
  // a structural fake: only what the backend's network lookup uses
  return { backend: new AgentCnmBackend(agent as unknown as Agent), lookups };
}

describe('CNM backend: networks the host does not carry yet', () => {
  const blue = net('blue', 'vx', '10.71.2.0/24', '10.71.2.254');
  const red = net('red', 'vl', '10.71.1.0/24');

  it('uses the desired state when it carries the network, without asking the control plane', async () => {
    const { backend, lookups } = fakeAgent([blue], [blue]);
    assert.deepEqual(await backend.resolvePool({ tenant: 'blue', network: 'vx' }), { subnet: '10.71.2.0/24', gateway: '10.71.2.254' });
    assert.deepEqual(await backend.resolvePool({ tenant: 'blue', subnet: '10.71.2.0/24' }), {
      subnet: '10.71.2.0/24',
      gateway: '10.71.2.254',
    });
    assert.deepEqual(lookups, []);
  });

  it('asks the control plane at once for a network outside the desired state (pool by name or subnet, and CreateNetwork)', async () => {
    const { backend, lookups } = fakeAgent([blue, red], []);
    const t0 = Date.now();
    assert.deepEqual(await backend.resolvePool({ tenant: 'blue', network: 'vx', subnet: '10.71.2.0/24' }), {
      subnet: '10.71.2.0/24',
      gateway: '10.71.2.254',
    });
    assert.deepEqual(await backend.resolvePool({ tenant: 'red', subnet: '10.71.1.0/24' }), { subnet: '10.71.1.0/24' });
    await backend.createNetwork({
      dockerNetworkId: 'd1',
      binding: { tenant: 'blue', network: 'vx' },
      subnet: '10.71.2.0/24',
      auxAddresses: {},
    });
    assert.ok(Date.now() - t0 < 1000, 'no wait for the desired state');
    assert.deepEqual(lookups, [
      { tenant: 'blue', network: 'vx' },
      { tenant: 'red', subnet: '10.71.1.0/24' },
      { tenant: 'blue', network: 'vx' },
    ]);
    // the subnet check still applies to a looked-up network
    await assert.rejects(
      backend.resolvePool({ tenant: 'blue', network: 'vx', subnet: '10.9.9.0/24' }),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'subnet',
    );
    await assert.rejects(
      backend.createNetwork({ dockerNetworkId: 'd2', binding: { tenant: 'blue', network: 'vx' }, subnet: '10.9.9.0/24', auxAddresses: {} }),
      (e: unknown) => isNetloomError(e, 'CONFLICT'),
    );
  });

  it('a network that does not exist fails at once with NOT_FOUND naming tenant and network', async () => {
    const { backend } = fakeAgent([blue], []);
    const t0 = Date.now();
    await assert.rejects(
      backend.resolvePool({ tenant: 'blue', network: 'nope' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && /'nope' of tenant 'blue'/.test(e.message),
    );
    await assert.rejects(
      backend.createNetwork({ dockerNetworkId: 'd3', binding: { tenant: 'green', network: 'vx' }, auxAddresses: {} }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && /tenant 'green'/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 1000, 'no 5 s wait');
  });

  it("the file fabric's lookup: by name or subnet, NOT_FOUND / CONFLICT naming what is wrong", () => {
    const s = parseHostState({ networks: [blue, red] });
    assert.equal(findListedNetwork(s, { tenant: 'blue', network: 'vx' }).key, 'blue:vx');
    assert.equal(findListedNetwork(s, { tenant: 'red', subnet: '10.71.1.0/24' }).key, 'red:vl');
    assert.throws(
      () => findListedNetwork(s, { tenant: 'red', network: 'vx' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'network' && /network 'vx' of tenant 'red'/.test(e.message),
    );
    assert.throws(
      () => findListedNetwork(s, { tenant: 'blue', subnet: '10.0.0.0/8' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'subnet',
    );
    assert.throws(
      () => findListedNetwork(s, { tenant: 'blue', network: 'vx', subnet: '10.71.1.0/24' }),
      (e: unknown) => isNetloomError(e, 'CONFLICT'),
    );
    assert.throws(
      () => findListedNetwork(s, { tenant: 'blue' }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });

  it("netmaster's lookup passes tenant/name/subnet and checks the answer like a network of the state", async () => {
    const asked: unknown[] = [];
    let answer: Record<string, unknown> = {
      key: 'blue:vx',
      tenant: 'blue',
      name: 'vx',
      encap: 'vxlan',
      pktTag: 5000,
      subnet: '10.71.2.0/24',
      gateway: '10.71.2.254',
      networkId: 5000,
    };
    const client = Object.assign(new EventEmitter(), {
      replica: '10.0.0.1:9998',
      lookupNetwork: async (req: unknown) => {
        asked.push(req);
        return answer;
      },
    });
    const fabric = new NetmasterFabric(client as unknown as NetmasterClient);
    const n = await fabric.lookupNetwork({ tenant: 'blue', network: 'vx' });
    assert.equal(n.gateway, '10.71.2.254');
    assert.equal(n.encap, 'vxlan');
    assert.deepEqual(asked, [{ tenant: 'blue', network: 'vx', subnet: '' }]);
    assert.equal(fabric.replica, '10.0.0.1:9998');
    answer = { ...answer, pktTag: 0 };
    await assert.rejects(
      fabric.lookupNetwork({ tenant: 'blue', subnet: '10.71.2.0/24' }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && /pktTag/.test(e.message),
    );
    assert.deepEqual(asked[1], { tenant: 'blue', network: '', subnet: '10.71.2.0/24' });
  });
});
