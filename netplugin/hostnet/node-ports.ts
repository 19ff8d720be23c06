/**
 * Kubernetes node ports on this host (issue 19, pure): for each NodePort port of a Kubernetes
 * Service in the pipeline input, where a new connection to any local address at the node port
 * goes. The nftables table (nft-render.ts) renders it:
 * - to a local provider, at its own target port, chosen at random (`numgen random mod N`), with
 *   the tenant mark, as a published port: its replies come back through this host's kernel, so
 *   the client's address is kept. The host's kernel reaches only local endpoints (the gateway
 *   port's flows deliver to local endpoints), so:
 * - to another host's provider (externalTrafficPolicy Cluster, Kubernetes' default): to that
 *   provider's host at the same node port, with a mark the postrouting chain masquerades, so the
 *   replies return through this host (kube-proxy's SNAT to the node). One entry per remote
 *   provider, so every provider gets the same share wherever it runs. That host serves what comes
 *   from a peer host (`peers`) with its local providers only, so a connection is forwarded once.
 * - externalTrafficPolicy Local: local providers only; a host without one drops the connection,
 *   as kube-proxy does.
 * A remote provider's host address is its endpoint's VTEP, else the one its provider entry carries
 * (`hostIp`: the endpoint may not be in the view); a provider with neither is left out.
 *
 * A host without a gateway of the Service's tenant (netmaster sends every host the Kubernetes
 * Services with a node port, also those of tenants it has no endpoint in) answers the node port
 * too, as kube-proxy does on every node: it has no way into the tenant's network, so with Cluster
 * every provider is remote, reached through the host address its provider entry carries
 * (`hostIp`), masqueraded, where that host's rule for peers serves it locally; with Local it drops.
 */
import { servicePorts } from '../pipeline/services';
import type { PipelineInput } from '../pipeline/input';

export interface NodePortRule {
  /** 0: a tenant this host does not serve (then no local backends) */
  tenantVrfId: number;
  protocol: 'tcp' | 'udp';
  nodePort: number;
  /** `kube:<namespace>/<name>:<proto>/<port>`, for the rule's comment */
  service: string;
  /** local providers sorted by endpoint id, each at its own target port (empty: none here) */
  backends: Array<{ ip: string; port: number }>;
  /** externalTrafficPolicy Cluster: the host address of each remote provider, by endpoint id (empty for Local) */
  remote: string[];
}

export interface NodePorts {
  /** sorted by protocol, port */
  rules: NodePortRule[];
  /** the other hosts' addresses (sorted): what they forward here is served by local providers only */
  peers: string[];
}

/** The node ports of the input's Kubernetes Services, for the tenants in `served`. */
export function nodePortRules(input: PipelineInput, served: ReadonlySet<number>): NodePorts {
  const vtepOfHost = new Map(input.state.vteps.map((v) => [v.host, v.vtepIp]));
  const rules: NodePortRule[] = [];
  for (const sp of servicePorts(input)) {
    const nodePort = sp.port.nodePort ?? 0;
    if (!sp.service.kube || nodePort === 0 || !served.has(sp.tenant.vrfId)) continue;
    const backends = sp.providers.filter((p) => p.ep.local).map((p) => ({ ip: p.ip, port: p.targetPort }));
    // every provider of the Service, also one whose endpoint is not in this host's view (a host
    // with the tenant but none of its pods): its host is reached at the node port, not the pod
    const inView = new Map(sp.providers.map((p) => [p.endpointId, p]));
    const remote = sp.service.externalTrafficLocal
      ? []
      : sp.service.providers.flatMap((sv) => {
          const p = inView.get(sv.endpointId);
          if (p?.ep.local) return [];
          const host = (p && (p.ep.vtepIp || vtepOfHost.get(p.ep.ep.host))) || sv.hostIp || '';
          return host === '' || host === input.local.vtepIp ? [] : [host];
        });
    rules.push({ tenantVrfId: sp.tenant.vrfId, protocol: sp.port.protocol, nodePort, service: sp.name, backends, remote });
  }
  const servedNames = new Set(input.state.tenants.filter((t) => served.has(t.vrfId)).map((t) => t.name));
  for (const s of input.state.services) {
    if (!s.kube || servedNames.has(s.tenant)) continue;
    const remote = s.externalTrafficLocal
      ? []
      : s.providers.flatMap((p) => (p.hostIp && p.hostIp !== input.local.vtepIp ? [p.hostIp] : []));
    for (const port of s.ports) {
      if (!port.nodePort) continue;
      const service = `${s.key}:${port.protocol}/${port.port}`;
      rules.push({ tenantVrfId: 0, protocol: port.protocol, nodePort: port.nodePort, service, backends: [], remote });
    }
  }
  rules.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.nodePort - b.nodePort));
  const peers = [...new Set(input.state.vteps.map((v) => v.vtepIp).filter((ip) => ip !== '' && ip !== input.local.vtepIp))].sort();
  return { rules, peers };
}
