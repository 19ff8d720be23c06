/**
 * A new endpoint as stored, and the keys that record it: netmaster's CreateEndpoint and an agent's
 * registration of an endpoint it allocated from its own block (endpoint-sync.ts) write exactly the
 * same, so that `endpoint ls`, the consistency check and the host views cannot tell them apart.
 */
import { formatV4 } from '../model/net';
import { endpointV6Address, type DualStack } from '../model/endpoint-v6';
import type { Endpoint, EndpointRequest } from '../model/schemas';
import type { WriteOp } from '../store/kv';
import { layout } from '../store/layout';

export interface NewEndpoint {
  id: string;
  req: Pick<EndpointRequest, 'tenantName' | 'networkName' | 'groupName' | 'intfName' | 'labels' | 'containerID' | 'containerName' | 'pod'>;
  netKey: string;
  /** tenant:group, '' without one */
  grpKey: string;
  /** the IPv4 address as a number, and its subnet's base */
  ip: number;
  subnetBase: number;
  /** the network's subnets and gateways (the IPv6 address: model/endpoint-v6.ts) */
  nw: DualStack;
  mac: string;
  host: string;
  vtepIp: string;
  idempotencyKey: string;
  createdAt: string;
}

export function endpointRecord(e: NewEndpoint): Endpoint {
  return {
    endpointID: e.id,
    tenantName: e.req.tenantName,
    networkName: e.req.networkName,
    network: e.netKey,
    groupName: e.req.groupName,
    ipAddress: formatV4(e.ip),
    ipv6Address: endpointV6Address(e.nw, e.ip),
    macAddress: e.mac,
    homingHost: e.host,
    intfName: e.req.intfName,
    vtepIP: e.vtepIp,
    labels: e.req.labels,
    containerID: e.req.containerID,
    containerName: e.req.containerName,
    idempotencyKey: e.idempotencyKey,
    createdAt: e.createdAt,
    ...(e.req.pod ? { pod: e.req.pod } : {}),
  };
}

/** The record, its address and MAC claims and its network and group index entries. */
export function endpointWrites(ep: Endpoint, e: Pick<NewEndpoint, 'netKey' | 'grpKey' | 'ip'>): WriteOp[] {
  return [
    { kind: 'put', key: layout.ep(ep.endpointID), value: JSON.stringify(ep) },
    { kind: 'put', key: layout.ip(e.netKey, e.ip), value: ep.endpointID },
    { kind: 'put', key: layout.mac(ep.macAddress), value: ep.endpointID },
    { kind: 'put', key: layout.epByNet(e.netKey, ep.endpointID), value: '' },
    ...(e.grpKey ? [{ kind: 'put' as const, key: layout.epByGrp(e.grpKey, ep.endpointID), value: '' }] : []),
  ];
}
