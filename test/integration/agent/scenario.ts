/**
 * The fabric scenario shared by the VLAN and VXLAN tests: two hosts, tenant t1 with networks blue and
 * red, tenant t2 whose network blue has the SAME subnet (and the same addresses) as t1's blue.
 */
import type { Encap } from '../../../netplugin/state/host-state';
import type { Ctr, Scenario } from './support';

export function scenario(encap: Encap): Scenario {
  const base = encap === 'vlan' ? 100 : 5000;
  const containers: Ctr[] = [
    { name: 'a1', host: 'host1', tenant: 't1', network: 'blue', ip: '10.50.1.1', mac: '02:00:00:00:01:01' },
    { name: 'b2', host: 'host2', tenant: 't1', network: 'blue', ip: '10.50.1.2', mac: '02:00:00:00:01:02' },
    { name: 'r2', host: 'host2', tenant: 't1', network: 'red', ip: '10.50.2.2', mac: '02:00:00:00:02:02' },
    { name: 'x1', host: 'host1', tenant: 't2', network: 'blue', ip: '10.50.1.1', mac: '02:00:00:00:03:01' },
    { name: 'y2', host: 'host2', tenant: 't2', network: 'blue', ip: '10.50.1.2', mac: '02:00:00:00:03:02' },
    { name: 'z2', host: 'host2', tenant: 't2', network: 'blue', ip: '10.50.1.3', mac: '02:00:00:00:03:03' },
    { name: 'g1', host: 'host1', tenant: 't1', network: 'blue', ip: '10.50.1.9', mac: '02:00:00:00:01:09' },
  ];
  return {
    encap,
    tenants: [
      { name: 't1', vrfId: 1, ctZone: 1 },
      { name: 't2', vrfId: 2, ctZone: 2 },
    ],
    networks: [
      { tenant: 't1', name: 'blue', tag: base + 1, subnet: '10.50.1.0/24', gateway: '10.50.1.254', networkId: 1 },
      { tenant: 't1', name: 'red', tag: base + 2, subnet: '10.50.2.0/24', gateway: '10.50.2.254', networkId: 2 },
      { tenant: 't2', name: 'blue', tag: base + 3, subnet: '10.50.1.0/24', gateway: '10.50.1.254', networkId: 3 },
    ],
    containers,
  };
}

export function ctr(sc: Scenario, name: string): Ctr {
  const c = sc.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}
