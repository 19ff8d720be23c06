/**
 * The endpoint record behind an external endpoint (kind externalEndpoint): written in the same
 * transaction as the object, with its address and MAC taken in the network's allocator (so no
 * container is ever given them) and the network and group indexes (so host views carry it and
 * group membership, hence group policy, covers it); removed with the object, releasing both.
 * A registration whose address or MAC is already allocated is refused, naming the field.
 */
import { NetloomError } from '../../lib/errors';
import { parseV4 } from '../model/net';
import { endpointV6Address } from '../model/endpoint-v6';
import type { Endpoint, ExternalEndpoint, Network } from '../model/schemas';
import type { EtcdKV, Guard, WriteOp } from '../store/kv';
import { layout } from '../store/layout';
import { EndpointService } from './endpoints';

/** The endpoint id of an external endpoint: stable for its tenant, name and network. */
export function externalEndpointId(x: Pick<ExternalEndpoint, 'tenantName' | 'networkName' | 'endpointName'>): string {
  return EndpointService.endpointId(`${x.tenantName}:${x.networkName}`, `external:${x.endpointName}`);
}

/** The endpoint record of a registration. */
export function externalEndpointRecord(x: ExternalEndpoint, nw: Network | undefined, createdAt: string): Endpoint {
  const netKey = `${x.tenantName}:${x.networkName}`;
  const ip = parseV4(x.ipAddress);
  return {
    endpointID: externalEndpointId(x),
    tenantName: x.tenantName,
    networkName: x.networkName,
    network: netKey,
    groupName: x.groupName,
    ipAddress: x.ipAddress,
    ipv6Address: nw && ip !== undefined ? endpointV6Address(nw, ip) : '',
    macAddress: x.macAddress,
    homingHost: '',
    intfName: '',
    vtepIP: '',
    labels: {},
    containerID: '',
    containerName: x.endpointName,
    idempotencyKey: `external:${x.endpointName}`,
    createdAt,
    external: true,
  };
}

/**
 * Guards and writes that register `ep` (an external endpoint's record). Reads who holds its
 * address and MAC first, to refuse a taken one by name (the guards then keep both free until the
 * commit).
 */
export async function registerExternal(kv: EtcdKV, ep: Endpoint): Promise<{ guards: Guard[]; writes: WriteOp[] }> {
  const ip = parseV4(ep.ipAddress);
  if (ip === undefined)
    throw new NetloomError('INVALID_ARGUMENT', `ipAddress '${ep.ipAddress}' must be an IPv4 address`, { field: 'ipAddress' });
  const ipKey = layout.ip(ep.network, ip);
  const macKey = layout.mac(ep.macAddress);
  const { results } = await kv.read([
    { kind: 'get', key: ipKey },
    { kind: 'get', key: macKey },
  ]);
  const ipOwner = results[0]?.kvs[0]?.value;
  const macOwner = results[1]?.kvs[0]?.value;
  if (ipOwner !== undefined && ipOwner !== ep.endpointID)
    throw new NetloomError(
      'CONFLICT',
      `ipAddress ${ep.ipAddress} is already allocated in network ${ep.network} (to ${ipOwner === 'gateway' ? 'the gateway' : `endpoint ${ipOwner}`})`,
      { field: 'ipAddress' },
    );
  if (macOwner !== undefined && macOwner !== ep.endpointID)
    throw new NetloomError('CONFLICT', `macAddress ${ep.macAddress} is already used by endpoint ${macOwner}`, { field: 'macAddress' });
  const grpKey = ep.groupName ? `${ep.tenantName}:${ep.groupName}` : '';
  return {
    guards: [
      { kind: 'modEquals', key: layout.ep(ep.endpointID), modRevision: '0' },
      { kind: 'modEquals', key: ipKey, modRevision: '0' },
      { kind: 'modEquals', key: macKey, modRevision: '0' },
    ],
    writes: [
      { kind: 'put', key: layout.ep(ep.endpointID), value: JSON.stringify(ep) },
      { kind: 'put', key: ipKey, value: ep.endpointID },
      { kind: 'put', key: macKey, value: ep.endpointID },
      { kind: 'put', key: layout.epByNet(ep.network, ep.endpointID), value: '' },
      ...(grpKey ? [{ kind: 'put' as const, key: layout.epByGrp(grpKey, ep.endpointID), value: '' }] : []),
    ],
  };
}

/** Guards and writes that remove an external endpoint's record and release what it holds (only what is still its own). */
export async function releaseExternal(kv: EtcdKV, x: ExternalEndpoint): Promise<{ guards: Guard[]; writes: WriteOp[] }> {
  const id = externalEndpointId(x);
  const netKey = `${x.tenantName}:${x.networkName}`;
  const ip = parseV4(x.ipAddress);
  const owned = [...(ip === undefined ? [] : [layout.ip(netKey, ip)]), layout.mac(x.macAddress)];
  const { results } = await kv.read([{ kind: 'get', key: layout.ep(id) }, ...owned.map((key) => ({ kind: 'get' as const, key }))]);
  const guards: Guard[] = [];
  const writes: WriteOp[] = [
    { kind: 'delete', key: layout.ep(id) },
    { kind: 'delete', key: layout.epByNet(netKey, id) },
    ...(x.groupName ? [{ kind: 'delete' as const, key: layout.epByGrp(`${x.tenantName}:${x.groupName}`, id) }] : []),
  ];
  guards.push({ kind: 'modEquals', key: layout.ep(id), modRevision: results[0]?.kvs[0]?.modRevision ?? '0' });
  owned.forEach((key, i) => {
    const held = results[i + 1]?.kvs[0];
    if (held?.value !== id) return;
    guards.push({ kind: 'modEquals', key, modRevision: held.modRevision });
    writes.push({ kind: 'delete', key });
  });
  return { guards, writes };
}
