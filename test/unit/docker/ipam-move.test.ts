/**
 * The short form (`docker network create -d netloom -o tenant=T -o network=N NAME`, Docker's own
 * IPAM): the CNM plugin marks the network as served by a foreign IPAM, and the agent remakes it
 * under the same name with netloom's IPAM following the driver's binding.
 */
import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import { MemoryStateStore } from '../../../netplugin/cnm';
import type { CnmBackend, CreateNetworkRequest } from '../../../netplugin/cnm/backend';
import { CnmPlugin } from '../../../netplugin/cnm/plugin';
import { moveToNetloomIpam, MOVED_FROM_LABEL, remadeNetwork } from '../../../netplugin/docker/ipam-move';
import type { DockerNetwork, DockerNetworkCreate } from '../../../netplugin/docker/engine-client';

const OLD: DockerNetwork = {
  Id: 'a'.repeat(64),
  Name: 'shop',
  Driver: 'netloom',
  Labels: { team: 'x' },
  Options: { tenant: 'blue', network: 'db', group: 'web' },
  Attachable: true,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] },
};

describe('short-form Docker networks remade with netloom IPAM', () => {
  it('remadeNetwork keeps name, driver options, labels and flags; IPAM netloom with the binding, subnet and gateway', () => {
    assert.deepEqual(remadeNetwork(OLD, { tenant: 'blue', network: 'db', group: 'web' }, { subnet: '10.9.0.0/24', gateway: '10.9.0.1' }), {
      Name: 'shop',
      Driver: 'netloom',
      CheckDuplicate: true,
      Options: { tenant: 'blue', network: 'db', group: 'web' },
      IPAM: { Driver: 'netloom', Options: { tenant: 'blue', network: 'db' }, Config: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1' }] },
      Labels: { team: 'x', [MOVED_FROM_LABEL]: OLD.Id },
      Attachable: true,
    });
  });

  it('moveToNetloomIpam waits for dockerd to store the network, removes it, then makes the new one', async () => {
    const calls: string[] = [];
    let seen = 0;
    const created: DockerNetworkCreate[] = [];
    const docker = {
      inspectNetwork: async (id: string) => {
        calls.push(`inspect ${id.slice(0, 4)}`);
        if (seen++ < 2) throw new NetloomError('NOT_FOUND', 'network not found');
        return OLD;
      },
      removeNetwork: async (id: string) => void calls.push(`rm ${id.slice(0, 4)}`),
      createNetwork: async (spec: DockerNetworkCreate) => {
        calls.push(`create ${spec.Name}`);
        created.push(spec);
        return 'b'.repeat(64);
      },
    };
    const id = await moveToNetloomIpam(docker, OLD.Id, { tenant: 'blue', network: 'db' }, { subnet: '10.9.0.0/24', gateway: '' });
    assert.equal(id, 'b'.repeat(64));
    assert.deepEqual(calls, ['inspect aaaa', 'inspect aaaa', 'inspect aaaa', 'rm aaaa', 'create shop']);
    assert.deepEqual(created[0]?.IPAM.Config, [{ Subnet: '10.9.0.0/24' }]);
  });

  it("the CNM plugin tells the backend when Docker's default IPAM serves the pool, not when netloom's does", async () => {
    const seen: CreateNetworkRequest[] = [];
    const backend = {
      createNetwork: async (req: CreateNetworkRequest) => void seen.push(req),
      resolvePool: async () => ({ subnet: '10.9.0.0/24', gateway: '10.9.0.1' }),
    } as unknown as CnmBackend;
    const plugin = new CnmPlugin({ backend, store: new MemoryStateStore() });
    const create = (id: string, space: string, pool: string) =>
      plugin.handle(
        '/NetworkDriver.CreateNetwork',
        JSON.stringify({
          NetworkID: id,
          Options: { 'com.docker.network.generic': { tenant: 'blue', network: 'db' } },
          IPv4Data: [{ AddressSpace: space, Pool: pool, Gateway: pool.replace(/0\/\d+$/, '1/16') }],
          IPv6Data: [],
        }),
      );
    const r1 = await create('n1'.padEnd(64, '0'), 'LocalDefault', '172.18.0.0/16');
    assert.deepEqual(r1.body, {});
    assert.equal(seen[0]?.foreignIpamSpace, 'LocalDefault');
    const pool = await plugin.handle(
      '/IpamDriver.RequestPool',
      JSON.stringify({ AddressSpace: 'netloom', Pool: '', SubPool: '', Options: { tenant: 'blue', network: 'db' }, V6: false }),
    );
    assert.equal((pool.body as { Pool?: string }).Pool, '10.9.0.0/24');
    await create('n2'.padEnd(64, '0'), 'netloom', '10.9.0.0/24');
    assert.equal(seen[1]?.foreignIpamSpace, undefined);
  });
});
