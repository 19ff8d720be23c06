/** Cluster states for the agent API unit tests, built through the same applyKey the server uses. */
import { applyKeyChange, emptyCluster, type ClusterState, type KeyChange } from '../../../netmaster/agent/cluster';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { DEFAULT_GLOBAL } from '../../../netmaster/service/service';
import { allowTcp80Rule } from '../netmaster/world';
import type { Change, Change__Output } from '../../../proto/gen/netloom/v1/Change';

/** A change as the client receives it (every field present, as proto-loader with defaults gives). */
export function asReceived(c: Change): Change__Output {
  return JSON.parse(
    JSON.stringify({
      deleted: false,
      key: '',
      ...c,
      ...(c.deleted ? {} : { object: Object.keys(c).find((k) => k !== 'deleted' && k !== 'key') }),
    }),
  ) as Change__Output;
}

const cfg = (type: string, key: string, config: object, oper: object = {}) =>
  [`/netloom/v1/cfg/${type}/${key}`, JSON.stringify({ config, oper })] as const;

export class ClusterBuilder {
  readonly state: ClusterState = emptyCluster('10');
  private rev = 10;
  private nextTenantId = 1;
  private nextGroupId = 1;
  /** what every put and delete changed, in order (the view engine's input) */
  readonly changes: KeyChange[] = [];

  /** Put (value) or delete (undefined) one key, as an etcd watch event would. */
  raw(key: string, value: string | undefined): this {
    this.rev++;
    const ch = applyKeyChange(this.state, key, value, String(this.rev));
    if (ch) this.changes.push(ch);
    this.state.revision = String(this.rev);
    return this;
  }

  private put(key: string, value: string): this {
    return this.raw(key, value);
  }

  del(key: string): this {
    return this.raw(key, undefined);
  }

  /** The changes recorded since the last call. */
  takeChanges(): KeyChange[] {
    return this.changes.splice(0);
  }

  global(fwdMode: 'bridge' | 'routing', extra: Record<string, unknown> = {}): this {
    return this.put(...cfg('global', 'global', { ...DEFAULT_GLOBAL, fwdMode, ...extra }));
  }

  tenant(name: string, withId = true): this {
    this.put(...cfg('tenant', name, { tenantName: name, defaultNetwork: '' }));
    if (withId) this.put(agentLayout.tenantIdOf(name), String(this.nextTenantId++));
    return this;
  }

  /** A network created with its tag given (stored as before the tag in use was kept in its oper). */
  network(tenant: string, name: string, encap: 'vlan' | 'vxlan' | 'bgp', tag: number, subnet: string, gateway = ''): this {
    return this.putNetwork(tenant, name, encap, tag, {}, subnet, gateway);
  }

  /** A network created without a tag: config pktTag 0, the allocated `tag` in its oper (model/network-tag.ts). */
  allocatedNetwork(tenant: string, name: string, encap: 'vlan' | 'vxlan' | 'bgp', tag: number, subnet: string, gateway = ''): this {
    return this.putNetwork(tenant, name, encap, 0, { pktTag: tag }, subnet, gateway);
  }

  private putNetwork(tenant: string, name: string, encap: string, pktTag: number, oper: object, subnet: string, gateway: string): this {
    return this.put(
      ...cfg(
        'network',
        `${tenant}:${name}`,
        {
          tenantName: tenant,
          networkName: name,
          encap,
          pktTag,
          subnet,
          gateway,
          nwType: 'data',
          ipv6Subnet: '',
          ipv6Gateway: '',
          cfgdTag: '',
        },
        oper,
      ),
    );
  }

  group(tenant: string, name: string, network: string, policies: string[] = [], netProfile = '', groupId = this.nextGroupId++): this {
    return this.put(
      ...cfg(
        'endpointGroup',
        `${tenant}:${name}`,
        { tenantName: tenant, groupName: name, networkName: network, policies, netProfile, ipPool: '', extContractsGrps: [], cfgdTag: '' },
        { groupId },
      ),
    );
  }

  /** A group in ACI mode: a VLAN of its own in its oper (netmaster/model/group-tag.ts). */
  aciGroup(tenant: string, name: string, network: string, pktTag: number): this {
    return this.put(
      ...cfg(
        'endpointGroup',
        `${tenant}:${name}`,
        {
          tenantName: tenant,
          groupName: name,
          networkName: network,
          policies: [],
          netProfile: '',
          ipPool: '',
          extContractsGrps: [],
          cfgdTag: '',
        },
        { groupId: this.nextGroupId++, pktTag },
      ),
    );
  }

  policy(tenant: string, name: string, rules: Array<{ id: string; from?: string; to?: string; fromNetwork?: string }> = []): this {
    this.put(...cfg('policy', `${tenant}:${name}`, { tenantName: tenant, policyName: name }));
    for (const r of rules) {
      const rule = { ...allowTcp80Rule(tenant, name, r.id, r.from, r.to), ...(r.fromNetwork ? { fromNetwork: r.fromNetwork } : {}) };
      this.put(...cfg('rule', `${tenant}:${name}:${r.id}`, rule));
    }
    return this;
  }

  /** One rule of policy `policy` (an allow tcp/80 'in' rule changed by `fields`). */
  rule(tenant: string, policy: string, id: string, fields: Record<string, unknown>): this {
    return this.put(...cfg('rule', `${tenant}:${policy}:${id}`, { ...allowTcp80Rule(tenant, policy, id), ...fields }));
  }

  profile(tenant: string, name: string, bandwidth: string): this {
    return this.put(...cfg('netprofile', `${tenant}:${name}`, { tenantName: tenant, profileName: name, bandwidth, burst: 100, DSCP: 10 }));
  }

  bgp(host: string): this {
    return this.put(
      ...cfg('Bgp', host, { hostname: host, routerip: '10.0.0.1/24', as: '65001', neighbor: '10.0.0.254', 'neighbor-as': '65000' }),
    );
  }

  /** A Bgp object with exactly these fields. */
  bgpObject(host: string, config: Record<string, unknown>): this {
    return this.put(...cfg('Bgp', host, { hostname: host, ...config }));
  }

  agent(host: string, vtepIp: string): this {
    return this.put(
      agentLayout.host(host),
      JSON.stringify({ host, vtepIp, mgmtIp: '', capabilities: [], agentVersion: 't', registeredAt: '', leaseId: '1' }),
    );
  }

  /** An external endpoint's record (a registered server: no host), as netmaster writes it (after a put without the mark). */
  external(id: string, tenant: string, network: string, ip: string, group = ''): this {
    this.endpoint(id, tenant, network, '', ip, group);
    return this.put(`/netloom/v1/ep/${id}`, JSON.stringify({ ...this.state.endpoints.get(id)?.ep, external: true }));
  }

  /** A serviceLB (its address as the store would have allocated it). */
  service(tenant: string, name: string, network: string, ip: string, selectors: string[], ports: string[] = ['80:8080:TCP']): this {
    return this.put(
      ...cfg('serviceLB', `${tenant}:${name}`, {
        tenantName: tenant,
        serviceName: name,
        networkName: network,
        ipAddress: ip,
        selectors,
        ports,
      }),
    );
  }

  endpoint(
    id: string,
    tenant: string,
    network: string,
    host: string,
    ip: string,
    group = '',
    vtepIP = '',
    labels: Record<string, string> = {},
    extra: Record<string, unknown> = {},
  ): this {
    const mac = `02:00:00:00:00:${(Number(ip.split('.')[3]) % 256).toString(16).padStart(2, '0')}`;
    return this.put(
      `/netloom/v1/ep/${id}`,
      JSON.stringify({
        endpointID: id,
        tenantName: tenant,
        networkName: network,
        network: `${tenant}:${network}`,
        groupName: group,
        ipAddress: ip,
        ipv6Address: '',
        macAddress: mac,
        homingHost: host,
        intfName: '',
        vtepIP,
        labels,
        containerID: id,
        containerName: '',
        idempotencyKey: '',
        createdAt: '',
        ...extra,
      }),
    );
  }

  /** The endpoint of Kubernetes pod `namespace/id` (issue 19), its labels the pod's. */
  pod(
    id: string,
    tenant: string,
    network: string,
    host: string,
    ip: string,
    namespace: string,
    labels: Record<string, string> = {},
    group = '',
    vtepIP = '',
  ): this {
    const pod = { namespace, name: id, uid: `uid-${id}`, namedPorts: [{ name: 'http', protocol: 'TCP', port: 8080 }] };
    return this.endpoint(id, tenant, network, host, ip, group, vtepIP, labels, { pod });
  }

  /** A NetworkPolicy as the Kubernetes controller stores it (normalized); `fields` over an ingress-only deny-all. */
  kubePolicy(namespace: string, name: string, fields: Record<string, unknown> = {}): this {
    return this.put(
      ...cfg('kubeNetworkPolicy', `${namespace}:${name}`, {
        namespace,
        name,
        podSelector: { matchLabels: {}, matchExpressions: [] },
        ingressIsolation: true,
        egressIsolation: false,
        ingress: [],
        egress: [],
        ...fields,
      }),
    );
  }

  /**
   * A Service as the Kubernetes controller stores it, and `endpoints` (each with its port per
   * service port, 0 for none) as its slices: one slice per distinct port tuple (`<name>-<n>`, in
   * order of first appearance), replacing the Service's stored slices.
   */
  kubeService(namespace: string, name: string, fields: Record<string, unknown> = {}): this {
    const {
      endpoints = [],
      ports = [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 0 }],
      ...rest
    } = fields as { endpoints?: Array<{ ip: string; pod?: object; ports: number[] }>; ports?: Array<{ name: string; protocol: string }> };
    this.put(
      ...cfg('kubeService', `${namespace}:${name}`, { namespace, name, type: 'ClusterIP', clusterIP: '10.96.0.10', ports, ...rest }),
    );
    const byPorts = new Map<string, Array<{ ip: string; pod?: object; ports: number[] }>>();
    for (const e of endpoints) {
      const k = e.ports.join(',');
      byPorts.set(k, [...(byPorts.get(k) ?? []), e]);
    }
    const slices = [...byPorts.values()].map((eps, i) => ({
      slice: `${name}-${i}`,
      ports: ports.flatMap((p, j) => ((eps[0]!.ports[j] ?? 0) > 0 ? [{ name: p.name, protocol: p.protocol, port: eps[0]!.ports[j] }] : [])),
      endpoints: eps.map(({ ip, pod }) => ({ ip, ...(pod ? { pod } : {}) })),
    }));
    for (const k of this.state.index.slicesByKubeService.get(`${namespace}:${name}`) ?? [])
      if (!slices.some((sl) => `${namespace}:${name}:${sl.slice}` === k)) this.del(`/netloom/v1/cfg/kubeServiceSlice/${k}`);
    for (const sl of slices) this.kubeSlice(namespace, name, sl.slice, sl.ports, sl.endpoints);
    return this;
  }

  /** One EndpointSlice of a Service as the Kubernetes controller stores it. */
  kubeSlice(
    namespace: string,
    service: string,
    slice: string,
    ports: Array<{ name: string; protocol: string; port: number }>,
    endpoints: Array<{ ip: string; pod?: object }>,
  ): this {
    return this.put(...cfg('kubeServiceSlice', `${namespace}:${service}:${slice}`, { namespace, service, slice, ports, endpoints }));
  }

  /** A namespace's labels as the Kubernetes controller stores them. */
  kubeNamespace(name: string, labels: Record<string, string> = {}): this {
    return this.put(...cfg('kubeNamespace', name, { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } }));
  }
}
