/**
 * Kubernetes node ports on this host (issue 19, pure): for each NodePort port of a Kubernetes
 * Service in the pipeline input, the providers that are local endpoints, each at its own target
 * port. The nftables table DNATs a connection to any local address at the node port to one of
 * them, chosen at random (`numgen random mod N`), with the tenant mark, as a published port
 * (nft-render.ts): the provider's replies come back through this host's kernel, so no SNAT is
 * needed. Only local providers: the host's kernel reaches its tenants' local endpoints only (the
 * gateway port's flows deliver to local endpoints), so this is Kubernetes' `externalTrafficPolicy:
 * Local`; a host without a local provider does not answer on the port.
 */
import { servicePorts } from '../pipeline/services';
import type { PipelineInput } from '../pipeline/input';

export interface NodePortRule {
  tenantVrfId: number;
  protocol: 'tcp' | 'udp';
  nodePort: number;
  /** `kube:<namespace>/<name>:<proto>/<port>`, for the rule's comment */
  service: string;
  /** local providers sorted by endpoint id, each at its own target port */
  backends: Array<{ ip: string; port: number }>;
}

/** The node port rules of the input's Kubernetes Services, for the tenants in `served` (sorted by protocol, port). */
export function nodePortRules(input: PipelineInput, served: ReadonlySet<number>): NodePortRule[] {
  const out: NodePortRule[] = [];
  for (const sp of servicePorts(input)) {
    const nodePort = sp.port.nodePort ?? 0;
    if (!sp.service.kube || nodePort === 0 || !served.has(sp.tenant.vrfId)) continue;
    const backends = sp.providers.filter((p) => p.ep.local).map((p) => ({ ip: p.ip, port: p.targetPort }));
    if (backends.length === 0) continue;
    out.push({ tenantVrfId: sp.tenant.vrfId, protocol: sp.port.protocol, nodePort, service: sp.name, backends });
  }
  return out.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.nodePort - b.nodePort));
}
