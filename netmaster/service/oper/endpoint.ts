/** An endpoint in Contiv's oper shape (inside networks', groups' and policies' oper, and its own inspect). */
import type { Endpoint } from '../../model/schemas';

export function endpointOper(e: Endpoint, groupId?: number): Record<string, unknown> {
  return {
    endpointID: e.endpointID,
    network: e.network,
    endpointGroupKey: e.groupName ? `${e.tenantName}:${e.groupName}` : '',
    ...(groupId !== undefined ? { endpointGroupId: groupId } : {}),
    ipAddress: [e.ipAddress, ...(e.ipv6Address ? [e.ipv6Address] : [])],
    macAddress: e.macAddress,
    homingHost: e.homingHost,
    intfName: e.intfName,
    vtepIP: e.vtepIP,
    labels: e.labels,
    containerID: e.containerID,
    containerName: e.containerName,
    ...(e.external ? { external: true } : {}),
    ...(e.pod ? { pod: e.pod } : {}),
  };
}
