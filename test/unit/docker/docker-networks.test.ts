/**
 * --docker-networks: the pure plan (one NETWORK/TENANT Docker network per netloom network, made
 * with the full binding; only managed networks removed) and the reconciler's rounds against a
 * fake dockerd.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { NetloomError } from '../../../lib/errors';
import {
  DockerNetworkReconciler,
  DockerNetworksApi,
  dockerNetworkName,
  MANAGED_BY,
  MANAGED_LABEL,
  planDockerNetworks,
  wantedDockerNetworks,
} from '../../../netplugin/docker/docker-networks';
import type { DockerNetwork, DockerNetworkCreate } from '../../../netplugin/docker/engine-client';
import type { Network } from '../../../netplugin/state/host-state';

function net(tenant: string, name: string, subnet: string, extra: Partial<Network> = {}): Network {
  return {
    key: `${tenant}:${name}`,
    tenant,
    name,
    encap: 'vxlan',
    pktTag: 5000,
    subnet,
    gateway: subnet.replace(/0\/\d+$/, '1'),
    ipv6Subnet: '',
    ipv6Gateway: '',
    nwType: 'data',
    networkId: 5000,
    gatewayMac: '',
    mtu: 0,
    ...extra,
  };
}

class FakeDocker implements DockerNetworksApi {
  readonly socketPath = '/fake/docker.sock';
  networks: DockerNetwork[] = [];
  inUse = new Set<string>();
  down = false;
  private next = 1;
  async listNetworks(label?: string): Promise<DockerNetwork[]> {
    if (this.down) throw new NetloomError('UNAVAILABLE', 'dockerd at /fake/docker.sock: ECONNREFUSED');
    return this.networks.filter((n) => label === undefined || (n.Labels ?? {})[label] !== undefined);
  }
  async createNetwork(spec: DockerNetworkCreate): Promise<string> {
    if (this.networks.some((n) => n.Name === spec.Name))
      throw new NetloomError('CONFLICT', `network with name ${spec.Name} already exists`);
    const Id = `id${this.next++}`;
    this.networks.push({ Id, Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels, IPAM: spec.IPAM });
    return Id;
  }
  async removeNetwork(id: string): Promise<void> {
    if (this.inUse.has(id)) throw new NetloomError('UNAVAILABLE', `network ${id} has active endpoints`);
    this.networks = this.networks.filter((n) => n.Id !== id);
  }
}

describe('docker networks (--docker-networks)', () => {
  it('names networks NETWORK/TENANT and makes them with the netloom drivers, the binding, subnet, gateway and labels', () => {
    const [w] = wantedDockerNetworks([net('blue', 'db', '10.9.0.0/24')]);
    assert.equal(dockerNetworkName({ tenant: 'blue', name: 'db' }), 'db/blue');
    assert.deepEqual(w, {
      Name: 'db/blue',
      Driver: 'netloom',
      CheckDuplicate: true,
      Options: { tenant: 'blue', network: 'db' },
      IPAM: { Driver: 'netloom', Options: { tenant: 'blue', network: 'db' }, Config: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1' }] },
      Labels: { [MANAGED_LABEL]: MANAGED_BY, 'io.netloom.network': 'blue:db', 'io.netloom.subnet': '10.9.0.0/24' },
    });
    assert.deepEqual(wantedDockerNetworks([net('t', 'infra', '10.8.0.0/24', { nwType: 'infra' }), net('t', 'v6', '')]), []);
  });

  it('plans creates for missing networks, removes managed ones whose netloom network is gone or changed subnet, never touches others', () => {
    const wanted = wantedDockerNetworks([net('blue', 'db', '10.9.0.0/24'), net('red', 'web', '10.7.0.0/24')]);
    const managed = (Id: string, Name: string, key: string, subnet: string): DockerNetwork => ({
      Id,
      Name,
      Driver: 'netloom',
      Labels: { [MANAGED_LABEL]: MANAGED_BY, 'io.netloom.network': key, 'io.netloom.subnet': subnet },
    });
    const existing: DockerNetwork[] = [
      managed('a', 'db/blue', 'blue:db', '10.9.0.0/24'),
      managed('b', 'web/red', 'red:web', '10.6.0.0/24'),
      managed('c', 'old/blue', 'blue:old', '10.5.0.0/24'),
      { Id: 'd', Name: 'mine', Driver: 'netloom', Labels: {} },
      { Id: 'e', Name: 'gone/blue', Driver: 'netloom', Labels: { [MANAGED_LABEL]: 'someone-else' } },
    ];
    const p = planDockerNetworks(wanted, existing);
    assert.deepEqual(
      p.remove.map((n) => n.Id),
      ['b', 'c'],
    );
    assert.deepEqual(
      p.create.map((n) => n.Name),
      ['web/red'],
    );
  });

  it('reconciles round by round: creates, keeps, removes a deleted network once no container uses it', async () => {
    const docker = new FakeDocker();
    let networks = [net('blue', 'db', '10.9.0.0/24'), net('blue', 'web', '10.9.1.0/24')];
    const r = new DockerNetworkReconciler({ catalog: { listNetworks: async () => networks }, docker, intervalMs: 1000 });
    assert.deepEqual((await r.reconcileOnce()).created, ['db/blue', 'web/blue']);
    assert.deepEqual(await r.reconcileOnce(), { created: [], removed: [], failed: [] });
    networks = [net('blue', 'db', '10.9.0.0/24')];
    const web = docker.networks.find((n) => n.Name === 'web/blue')!;
    docker.inUse.add(web.Id);
    const busy = await r.reconcileOnce();
    assert.deepEqual(busy.removed, []);
    assert.match(busy.failed[0]?.error ?? '', /active endpoints/);
    docker.inUse.clear();
    assert.deepEqual((await r.reconcileOnce()).removed, ['web/blue']);
    assert.deepEqual(
      docker.networks.map((n) => n.Name),
      ['db/blue'],
    );
  });

  it('a user network of the same name is reported, not replaced; dockerd away makes the round fail and the loop retry', async () => {
    const docker = new FakeDocker();
    docker.networks.push({ Id: 'u', Name: 'db/blue', Driver: 'bridge', Labels: {} });
    const r = new DockerNetworkReconciler({
      catalog: { listNetworks: async () => [net('blue', 'db', '10.9.0.0/24')] },
      docker,
      intervalMs: 1000,
    });
    const out = await r.reconcileOnce();
    assert.deepEqual(out.created, []);
    assert.match(out.failed[0]?.error ?? '', /already exists/);
    assert.equal(docker.networks.length, 1);
    docker.down = true;
    await assert.rejects(r.reconcileOnce(), /ECONNREFUSED/);
  });

  it('the loop keeps going after dockerd comes up and stops promptly', async () => {
    const docker = new FakeDocker();
    docker.down = true;
    const r = new DockerNetworkReconciler({
      catalog: { listNetworks: async () => [net('blue', 'db', '10.9.0.0/24')] },
      docker,
      intervalMs: 10,
    });
    r.start();
    docker.down = false;
    await waitFor('the network to be made', () => docker.networks.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    await r.stop();
    assert.deepEqual(
      docker.networks.map((n) => n.Name),
      ['db/blue'],
    );
  });
});
