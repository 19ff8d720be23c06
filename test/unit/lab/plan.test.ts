import { strict as assert } from 'node:assert';
import { containerNetns, containerVethName, DEFAULT_LAB, labIndex, planLab, validateContainerName } from '../../../deploy/lab/plan';
import { isNetloomError } from '../../../lib/errors';

describe('lab plan', () => {
  it('gives the default lab plain host names and the 10.213.0/1 subnets', () => {
    const p = planLab({ name: DEFAULT_LAB, hosts: 3, etcdMembers: 1 }, '/x');
    assert.deepEqual(
      p.hosts.map((h) => [h.name, h.netns, h.mgmtIp, h.dataIp]),
      [
        ['host1', 'host1', '10.213.0.1', '10.213.1.1'],
        ['host2', 'host2', '10.213.0.2', '10.213.1.2'],
        ['host3', 'host3', '10.213.0.3', '10.213.1.3'],
      ],
    );
    assert.equal(p.underlayNetns, 'underlay');
    assert.equal(p.torNetns, 'tor');
    assert.equal(p.rootMgmtIp, '10.213.0.254');
    assert.equal(p.stateFile, '/x/netloom/state.json');
    assert.deepEqual(
      p.etcd.map((m) => m.clientUrl),
      ['https://10.213.0.254:13010'],
    );
  });

  it('prefixes every namespace of a named lab and moves its subnets and ports', () => {
    const p = planLab({ name: 'ta', hosts: 2, etcdMembers: 3 }, '/x');
    const i = labIndex('ta');
    assert.ok(i >= 1 && i <= 99);
    assert.deepEqual(
      p.hosts.map((h) => h.netns),
      ['ta-host1', 'ta-host2'],
    );
    assert.equal(p.underlayNetns, 'ta-underlay');
    assert.equal(p.mgmtSubnet, `10.213.${i * 2}.0/24`);
    assert.equal(p.dataSubnet, `10.213.${i * 2 + 1}.0/24`);
    assert.equal(p.etcd.length, 3);
    assert.equal(new Set(p.etcd.map((m) => m.clientUrl)).size, 3, 'member client URLs are distinct');
    assert.equal(new Set(p.etcd.map((m) => m.peerUrl)).size, 3, 'member peer URLs are distinct');
    for (const h of p.hosts) {
      assert.ok(h.mgmtPeer.length <= 15 && h.dataPeer.length <= 15, `interface names fit IFNAMSIZ: ${h.mgmtPeer}`);
    }
    assert.ok(p.rootVeth.length <= 15);
  });

  it('places netmaster replicas on the management address with distinct ports, and the URL file in the lab dir', () => {
    const p = planLab({ name: DEFAULT_LAB, hosts: 1, etcdMembers: 1, netmasters: 3 }, '/x');
    assert.deepEqual(
      p.netmasters.map((n) => n.url),
      ['https://10.213.0.254:13051', 'https://10.213.0.254:13052', 'https://10.213.0.254:13053'],
    );
    assert.equal(new Set(p.netmasters.map((n) => n.grpcListen)).size, 3);
    assert.equal(p.netmasterUrlFile, '/x/netloom/netmaster.url');
    assert.equal(planLab({ name: 'ta', hosts: 1, etcdMembers: 1 }).netmasters.length, 1, 'one netmaster by default');
    assert.equal(planLab({ name: 'ta', hosts: 1, etcdMembers: 1, netmasters: 0 }).netmasters.length, 0);
  });

  it('keeps the longest allowed lab name within interface name limits', () => {
    const p = planLab({ name: 'abcdef', hosts: 50, etcdMembers: 1 }, '/x');
    for (const h of p.hosts) assert.ok(h.dataPeer.length <= 15, h.dataPeer);
    assert.ok(p.torPeer.length <= 15);
  });

  for (const [input, field] of [
    [{ name: 'Bad_Name', hosts: 1, etcdMembers: 1 }, 'name'],
    [{ name: 'toolongname', hosts: 1, etcdMembers: 1 }, 'name'],
    [{ name: 'ok', hosts: 0, etcdMembers: 1 }, 'hosts'],
    [{ name: 'ok', hosts: 51, etcdMembers: 1 }, 'hosts'],
    [{ name: 'ok', hosts: 1.5, etcdMembers: 1 }, 'hosts'],
    [{ name: 'ok', hosts: 2, etcdMembers: 2 }, 'etcdMembers'],
    [{ name: 'ok', hosts: 2, etcdMembers: 1, netmasters: 4 }, 'netmasters'],
    [{ name: 'ok', hosts: 2, etcdMembers: 1, netmasters: -1 }, 'netmasters'],
  ] as const) {
    it(`refuses ${JSON.stringify(input)} naming ${field}`, () => {
      assert.throws(
        () => planLab(input as Parameters<typeof planLab>[0]),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === field,
      );
    });
  }

  it('derives container namespaces and short, distinct veth names', () => {
    const p = planLab({ name: 'ta', hosts: 1, etcdMembers: 1 }, '/x');
    assert.equal(containerNetns(p, 'web'), 'ta-c-web');
    const a = containerVethName('host1', 'web');
    const b = containerVethName('host2', 'web');
    assert.match(a, /^nlv[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    assert.equal(a, containerVethName('host1', 'web'), 'stable for the same host and container');
  });

  it('validates container names', () => {
    validateContainerName('web-1');
    assert.throws(() => validateContainerName('-x'), /container name/);
    assert.throws(() => validateContainerName('a/b'), /container name/);
  });
});
