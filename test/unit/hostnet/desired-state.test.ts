import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import type { PortMapping } from '../../../netplugin/hostnet/port-mapping';
import { parseHostState } from '../../../netplugin/state/host-state';
import { ep, input, network } from './fixture';

describe('hostnet: desired host-network state', () => {
  it('one gateway per tenant with a local endpoint: port, fixed MAC, mark, table, subnets with nat', () => {
    const s = desiredHostNet(input(), { addresses: ['192.168.0.1/24'] });
    assert.deepEqual(
      s.gateways.map((g) => [g.tenant, g.vrfId, g.ctZone, g.port, g.mac, g.mark, g.table, g.mtu]),
      [
        ['blue', 1, 101, 'nlgw1', '02:6e:6c:fe:00:01', 0x10001, 10001, 1450],
        ['red', 2, 102, 'nlgw2', '02:6e:6c:fe:00:02', 0x10002, 10002, 1450],
      ],
      'green has no endpoint on h1: no gateway',
    );
    assert.deepEqual(s.gateways[0]!.subnets, [
      { network: 'blue:web', subnet: '10.1.1.0/24', nat: true, hostRoute: false },
      { network: 'blue:db', subnet: '10.1.2.0/24', nat: false, hostRoute: true },
    ]);
    assert.deepEqual(s.portMappings, []);
  });

  it('no host route for a subnet another local tenant also uses, nor for one the host is connected to', () => {
    const s = desiredHostNet(input(), { addresses: ['10.1.2.200/16'] });
    assert.deepEqual(
      s.gateways.flatMap((g) => g.subnets.map((x) => `${g.port} ${x.subnet} ${x.hostRoute}`)),
      ['nlgw1 10.1.1.0/24 false', 'nlgw1 10.1.2.0/24 false', 'nlgw2 10.1.1.0/24 false'],
    );
    const alone = desiredHostNet(input({ endpoints: [ep('a1', 'blue:web', 'h1', '10.1.1.10', 1)] }), { addresses: [] });
    assert.deepEqual(
      alone.gateways[0]!.subnets.map((x) => x.hostRoute),
      [true],
      'red has no local endpoint: no clash',
    );
  });

  it('networks without a gateway or subnet take no part; a tenant with only those gets no port', () => {
    const i = input({
      networks: [network('blue', 'web', '10.1.1.0/24', 5001, { gateway: '' })],
      endpoints: [ep('a1', 'blue:web', 'h1', '10.1.1.10', 1)],
    });
    assert.deepEqual(desiredHostNet(i, { addresses: [] }).gateways, []);
  });

  it('port mappings are checked (naming the field) and sorted', () => {
    const m = (hostPort: number, hostIp = ''): PortMapping => ({
      endpointId: 'a1',
      tenantVrfId: 1,
      endpointIp: '10.1.1.10',
      hostIp,
      hostPort,
      containerPort: 80,
      protocol: 'tcp',
    });
    assert.deepEqual(
      desiredHostNet(input(), { addresses: [] }, [m(9090), m(8080), m(80, '192.168.0.1')]).portMappings.map((x) => x.hostPort),
      [80, 8080, 9090],
      'a given host address first, then any address by port',
    );
    assert.throws(
      () => desiredHostNet(input(), { addresses: [] }, [m(8080), { ...m(70000) }]),
      (e: unknown) => e instanceof NetloomError && e.field === 'portMappings[1].hostPort',
    );
    assert.throws(
      () => desiredHostNet(input(), { addresses: [] }, [{ ...m(1), protocol: 'sctp' as 'tcp' }]),
      (e: unknown) => e instanceof NetloomError && e.field === 'portMappings[0].protocol',
    );
  });

  it("the port's MTU is the smallest endpoint MTU of the tenant's local networks (VXLAN: underlay - 50, a network's own MTU lowers it)", () => {
    const i = input({
      networks: [network('blue', 'web', '10.1.1.0/24', 5001), network('blue', 'vl', '10.1.2.0/24', 5002, { encap: 'vlan', pktTag: 12 })],
      endpoints: [ep('v1', 'blue:vl', 'h1', '10.1.2.10', 2)],
    });
    assert.equal(desiredHostNet(i, { addresses: [] }).gateways[0]!.mtu, 1500, 'only a VLAN network local: 1500');
    assert.equal(desiredHostNet(input(), { addresses: [], underlayMtu: 9000 }).gateways[0]!.mtu, 8950);
    const low = input({
      networks: [network('blue', 'web', '10.1.1.0/24', 5001, { mtu: 1300 })],
      endpoints: [ep('a1', 'blue:web', 'h1', '10.1.1.10', 1)],
    });
    assert.equal(desiredHostNet(low, { addresses: [] }).gateways[0]!.mtu, 1300);
  });

  it('refuses a vrfId the mark cannot carry and a host address that is not a CIDR, naming the field', () => {
    const big = input();
    const state = parseHostState({
      ...big.state,
      tenants: big.state.tenants.map((t) => (t.name === 'red' ? { ...t, vrfId: 0x10000 } : t)),
    });
    assert.throws(
      () => desiredHostNet({ state, local: big.local }, { addresses: [] }),
      (e: unknown) => e instanceof NetloomError && e.field === 'tenants[1].vrfId',
    );
    assert.throws(
      () => desiredHostNet(input(), { addresses: ['10.0.0.1'] }),
      (e: unknown) => e instanceof NetloomError && e.field === 'addresses[0]',
    );
  });
});
