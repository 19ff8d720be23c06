/** A small pipeline input for the host-network tests: blue and red share 10.1.1.0/24 on host h1. */
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { parseHostState, parseLocalFacts, type Endpoint, type Network } from '../../../netplugin/state/host-state';

export function network(tenant: string, name: string, subnet: string, networkId: number, extra: Partial<Network> = {}): Network {
  return {
    key: `${tenant}:${name}`,
    tenant,
    name,
    encap: 'vxlan',
    pktTag: networkId,
    subnet,
    gateway: subnet.replace(/\.0\/\d+$/, '.1'),
    ipv6Subnet: '',
    ipv6Gateway: '',
    nwType: 'data',
    networkId,
    gatewayMac: '',
    mtu: 0,
    ...extra,
  };
}

export function ep(id: string, net: string, host: string, ip: string, n: number): Endpoint {
  return {
    id,
    network: net,
    group: '',
    host,
    ip,
    ipv6: '',
    mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`,
    intfName: `v-${id}`,
    vtepIp: host === 'h1' ? '' : '192.168.0.2',
    containerId: '',
    containerName: '',
    labels: {},
    revision: 1,
  };
}

/** blue (vrf 1, zone 101): web 10.1.1.0/24 and db 10.1.2.0/24 (nat off); red (vrf 2, zone 102): web 10.1.1.0/24; green (vrf 3): only remote. */
export function input(over: { networks?: Network[]; endpoints?: Endpoint[] } = {}): PipelineInput {
  const networks = over.networks ?? [
    network('blue', 'web', '10.1.1.0/24', 5001),
    network('blue', 'db', '10.1.2.0/24', 5002, { nat: false }),
    network('red', 'web', '10.1.1.0/24', 6001),
    network('green', 'web', '10.3.1.0/24', 7001),
  ];
  const endpoints = over.endpoints ?? [
    ep('a1', 'blue:web', 'h1', '10.1.1.10', 1),
    ep('b1', 'blue:db', 'h1', '10.1.2.10', 2),
    ep('r1', 'red:web', 'h1', '10.1.1.10', 3),
    ep('g2', 'green:web', 'h2', '10.3.1.10', 4),
  ];
  return {
    state: parseHostState({
      global: {},
      tenants: [
        { name: 'blue', ctZone: 101, vrfId: 1 },
        { name: 'red', ctZone: 102, vrfId: 2 },
        { name: 'green', ctZone: 103, vrfId: 3 },
      ],
      networks,
      endpoints,
    }),
    local: parseLocalFacts({ hostName: 'h1', vtepIp: '192.168.0.1', ports: {}, bridge: {} }),
  };
}
