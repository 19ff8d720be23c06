/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) compiled from a host's desired state (pure):
 * for each local pod endpoint, the policies of its namespace whose podSelector selects it.
 *
 * - A pod is isolated for a direction once any such policy has that direction's isolation
 *   (policyTypes, resolved by netmaster as the API server does); traffic then passes only when a
 *   rule of one of those policies allows it (the union of their rules: every rule is an allow at
 *   KUBE_RULE_PRIORITY). A pod no policy selects for a direction is open in it.
 * - Peers: podSelector alone = the pods of the policy's namespace it selects; namespaceSelector
 *   alone = every pod of the namespaces it selects (namespace labels from KubeNamespace, with the
 *   automatic kubernetes.io/metadata.name); both in one peer = pods matching both; ipBlock = its
 *   CIDR minus its `except` (any address in it, pods' included, as upstream). No peers: every
 *   address. Peer pods are the pod endpoints the state carries in the local pod's tenant (tenants
 *   never reach each other; their addresses may overlap).
 * - Ports: TCP, UDP or SCTP (IP protocol 132), a port, a range [port, endPort], or every port of
 *   the protocol; no ports: every port and protocol. A named port is resolved on the pod that
 *   receives the traffic, by name and protocol: for ingress on the local pod itself, for egress on
 *   each peer pod (so one egress rule becomes rules per set of peer addresses that resolve alike).
 *   A named port that no such pod has, or one towards an ipBlock, selects nothing (never every port).
 * - Pods whose endpoint has no address are skipped, as local pods and as peers. Policy covers
 *   IPv4 (as the rest of netloom's policy): an IPv6 ipBlock names no address.
 *
 * Replies are the backends' business (both are stateful). A compiled rule's id names its policy
 * and rule (`k8s:NAMESPACE/NAME/ingress/I`), so counters and explanations name it; one Kubernetes
 * rule may become several compiled rules with that id. Rules are shared by every pod they apply to
 * (the same object) and results memoised per state object, as in contiv.ts. docs/policy.md has the
 * semantics with examples.
 */
import { selectorKey, selects, type LabelSelector } from './label-selector';
import { ANY_ADDRESS, OPEN, type AddressSet, type DirectionPolicy, type EndpointPolicy, type PolicyRule, type Service } from './model';

/** The priority of every Kubernetes allow: below Contiv's 1..100, so a Contiv rule (deny or allow) decides first. */
export const KUBE_RULE_PRIORITY = 0;

/** The label the API server gives every namespace: its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface KubeNamedPortLike {
  name: string;
  /** TCP | UDP | SCTP ('' : TCP, the API's default) */
  protocol: string;
  port: number;
}

export interface KubePodLike {
  namespace: string;
  name: string;
  namedPorts: readonly KubeNamedPortLike[];
}

export interface KubeIpBlockLike {
  cidr: string;
  except: readonly string[];
}

/** One `from`/`to` entry; an absent selector (null/undefined) differs from an empty one. */
export interface KubePeerLike {
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipBlock?: KubeIpBlockLike | null;
}

/** port 0 and namedPort '': every port of the protocol; endPort 0: the port alone. */
export interface KubePortLike {
  protocol: string;
  port: number;
  namedPort: string;
  endPort: number;
}

export interface KubeRuleLike {
  peers: readonly KubePeerLike[];
  ports: readonly KubePortLike[];
}

export interface KubePolicyLike {
  /** namespace/name */
  key: string;
  namespace: string;
  name: string;
  /** absent: every pod of the namespace (the API's podSelector is never absent) */
  podSelector?: LabelSelector | null;
  ingressIsolation: boolean;
  egressIsolation: boolean;
  ingress: readonly KubeRuleLike[];
  egress: readonly KubeRuleLike[];
}

export interface KubeNamespaceLike {
  /** the namespace's name */
  key: string;
  labels: Readonly<Record<string, string>>;
}

interface KubeEndpoint {
  id: string;
  /** tenant:network */
  network: string;
  host: string;
  ip: string;
  /** the pod's labels */
  labels: Readonly<Record<string, string>>;
  /** absent or null: not a pod */
  pod?: KubePodLike | null;
}

/** What the compiler reads of a host's desired state. */
export interface KubePolicyState {
  endpoints: readonly KubeEndpoint[];
  kubePolicies?: readonly KubePolicyLike[] | null;
  kubeNamespaces?: readonly KubeNamespaceLike[] | null;
}

/** The id a compiled rule carries: `k8s:NAMESPACE/NAME/DIRECTION/INDEX`. */
export const kubeRuleId = (policyKey: string, direction: 'ingress' | 'egress', index: number): string =>
  `k8s:${policyKey}/${direction}/${index}`;

type Direction = 'ingress' | 'egress';

/** The model's protocol for a Kubernetes one. */
function protocolOf(p: string): 'tcp' | 'udp' | 132 {
  const up = p.toUpperCase();
  if (up === 'UDP') return 'udp';
  if (up === 'SCTP') return 132;
  return 'tcp';
}

function numericService(p: KubePortLike): Service {
  const protocol = protocolOf(p.protocol);
  if (p.port === 0) return { protocol };
  return { protocol, ports: [{ from: p.port, to: p.endPort > p.port ? p.endPort : p.port }] };
}

/** `port`'s named port resolved on `pod` (same name and protocol), or undefined. */
function resolveNamed(p: KubePortLike, pod: KubePodLike): Service | undefined {
  const protocol = protocolOf(p.protocol);
  const np = pod.namedPorts.find((n) => n.name === p.namedPort && protocolOf(n.protocol) === protocol);
  return np && np.port > 0 ? { protocol, ports: [{ from: np.port, to: np.port }] } : undefined;
}

/** The services of `ports` whose named ones are resolved on `pod`: the resolved ones and their text. */
function namedServices(ports: readonly KubePortLike[], pod: KubePodLike): Service[] {
  return ports.flatMap((p) => (p.namedPort !== '' ? (resolveNamed(p, pod) ?? []) : []));
}

const serviceText = (s: Service): string => `${String(s.protocol)}:${(s.ports ?? []).map((r) => `${r.from}-${r.to}`).join(',')}`;

/** One compile: the state's indexes and the memo of rules and address sets shared by the pods. */
class KubeCompiler {
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  /** tenant -> its pod endpoints with an address, sorted by id */
  private readonly podsByTenant = new Map<string, KubeEndpoint[]>();
  private readonly policiesByNs = new Map<string, KubePolicyLike[]>();
  private readonly rules = new Map<string, PolicyRule[]>();
  private readonly sets = new Map<string, AddressSet>();
  private readonly podSets = new Map<string, KubeEndpoint[]>();

  constructor(private readonly state: KubePolicyState) {
    for (const n of state.kubeNamespaces ?? []) this.nsLabels.set(n.key, { ...n.labels, [NAMESPACE_NAME_LABEL]: n.key });
    for (const e of [...state.endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      if (!e.pod || e.ip === '') continue;
      const t = tenantOf(e);
      const list = this.podsByTenant.get(t);
      if (list) list.push(e);
      else this.podsByTenant.set(t, [e]);
    }
    const policies = [...(state.kubePolicies ?? [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const p of policies) {
      const list = this.policiesByNs.get(p.namespace);
      if (list) list.push(p);
      else this.policiesByNs.set(p.namespace, [p]);
    }
  }

  /** A namespace's labels (one the state does not carry still has its name label, as every namespace does). */
  private labelsOfNamespace(ns: string): Readonly<Record<string, string>> {
    let l = this.nsLabels.get(ns);
    if (!l) {
      l = { [NAMESPACE_NAME_LABEL]: ns };
      this.nsLabels.set(ns, l);
    }
    return l;
  }

  /** The one AddressSet object for these prefixes (shared, so backends work a set out once). */
  private set(include: string[], exclude: readonly string[]): AddressSet {
    const inc = [...new Set(include)].sort();
    const exc = [...new Set(exclude)].sort();
    const key = `${inc.join(',')}|${exc.join(',')}`;
    let s = this.sets.get(key);
    if (!s) {
      s = { include: inc, exclude: exc };
      this.sets.set(key, s);
    }
    return s;
  }

  /** The pods of `tenant` a selector peer names, for a policy of namespace `ns` (memoised per selector text). */
  private peerPods(peer: KubePeerLike, ns: string, tenant: string): KubeEndpoint[] {
    const text = (sel: LabelSelector | null | undefined) => (sel ? selectorKey(sel) : '-');
    const key = `${tenant}\0${ns}\0${text(peer.podSelector)}\0${text(peer.namespaceSelector)}`;
    let out = this.podSets.get(key);
    if (!out) {
      const pods = this.podsByTenant.get(tenant) ?? [];
      out = pods.filter((e) => {
        const podNs = e.pod!.namespace;
        const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, this.labelsOfNamespace(podNs)) : podNs === ns;
        return nsOk && (!peer.podSelector || selects(peer.podSelector, e.labels));
      });
      this.podSets.set(key, out);
    }
    return out;
  }

  /** The compiled rules of rule `index` of `p` in `dir`, for local pod `self` (memoised per what they depend on). */
  private ruleOf(p: KubePolicyLike, dir: Direction, index: number, self: KubeEndpoint): PolicyRule[] {
    const rule = (dir === 'ingress' ? p.ingress : p.egress)[index]!;
    const tenant = tenantOf(self);
    const hasNamed = rule.ports.some((x) => x.namedPort !== '');
    // ingress named ports are resolved on the local pod: pods that resolve them alike share the rules
    const selfNamed = dir === 'ingress' && hasNamed ? namedServices(rule.ports, self.pod!) : [];
    const key = `${p.key}\0${dir}\0${index}\0${tenant}\0${selfNamed.map(serviceText).join(' ')}`;
    let out = this.rules.get(key);
    if (!out) {
      out = this.build(p, dir, index, rule, tenant, selfNamed);
      this.rules.set(key, out);
    }
    return out;
  }

  private build(p: KubePolicyLike, dir: Direction, index: number, rule: KubeRuleLike, tenant: string, selfNamed: Service[]): PolicyRule[] {
    const id = kubeRuleId(p.key, dir, index);
    const make = (peers: AddressSet, services: Service[]): PolicyRule => ({
      id,
      peers,
      services,
      action: 'allow',
      priority: KUBE_RULE_PRIORITY,
    });
    const anyPeer = rule.peers.length === 0;
    const pods = new Map<string, KubeEndpoint>();
    const blocks: KubeIpBlockLike[] = [];
    for (const peer of rule.peers) {
      if (peer.ipBlock) {
        // policy covers IPv4: an IPv6 block names no address here
        if (!peer.ipBlock.cidr.includes(':')) blocks.push(peer.ipBlock);
      } else if (peer.podSelector || peer.namespaceSelector) for (const e of this.peerPods(peer, p.namespace, tenant)) pods.set(e.id, e);
      // a peer with nothing set names nothing (the API refuses one)
    }
    /** Every peer address of the rule as address sets: pods and plain CIDRs in one, each ipBlock with an except apart. */
    const peerSets = (): AddressSet[] => {
      if (anyPeer) return [ANY_ADDRESS];
      const plain = [...[...pods.values()].map((e) => `${e.ip}/32`), ...blocks.filter((b) => b.except.length === 0).map((b) => b.cidr)];
      const out = plain.length > 0 ? [this.set(plain, [])] : [];
      for (const b of blocks.filter((x) => x.except.length > 0)) out.push(this.set([b.cidr], b.except));
      return out;
    };
    if (rule.ports.length === 0) return peerSets().map((s) => make(s, []));
    const numeric = rule.ports.filter((x) => x.namedPort === '').map(numericService);
    if (dir === 'ingress') {
      const services = [...numeric, ...selfNamed];
      // ports listed but none resolved: the rule selects nothing (not every port)
      return services.length === 0 ? [] : peerSets().map((s) => make(s, services));
    }
    const out = numeric.length > 0 ? peerSets().map((s) => make(s, numeric)) : [];
    const named = rule.ports.filter((x) => x.namedPort !== '');
    if (named.length > 0) {
      // egress named ports are resolved on each peer pod (never on an ipBlock): peers grouped by what they resolve to
      const candidates = anyPeer ? (this.podsByTenant.get(tenant) ?? []) : [...pods.values()];
      const byServices = new Map<string, { services: Service[]; addresses: string[] }>();
      for (const e of candidates) {
        const services = namedServices(named, e.pod!);
        if (services.length === 0) continue;
        const k = services.map(serviceText).join(' ');
        const g = byServices.get(k);
        if (g) g.addresses.push(`${e.ip}/32`);
        else byServices.set(k, { services, addresses: [`${e.ip}/32`] });
      }
      for (const k of [...byServices.keys()].sort()) {
        const g = byServices.get(k)!;
        out.push(make(this.set(g.addresses, []), g.services));
      }
    }
    return out;
  }

  /** The Kubernetes side of a local pod endpoint's policy. */
  endpointPolicy(e: KubeEndpoint): { ingress: DirectionPolicy; egress: DirectionPolicy } {
    const selected = (this.policiesByNs.get(e.pod!.namespace) ?? []).filter((p) => selects(p.podSelector ?? {}, e.labels));
    const direction = (dir: Direction): DirectionPolicy => {
      const isolating = selected.filter((p) => (dir === 'ingress' ? p.ingressIsolation : p.egressIsolation));
      if (isolating.length === 0) return OPEN;
      const rules: PolicyRule[] = [];
      for (const p of isolating) {
        const list = dir === 'ingress' ? p.ingress : p.egress;
        for (let i = 0; i < list.length; i++) rules.push(...this.ruleOf(p, dir, i, e));
      }
      return { isolated: true, rules };
    };
    return { ingress: direction('ingress'), egress: direction('egress') };
  }

  compile(host: string): EndpointPolicy[] {
    const out: EndpointPolicy[] = [];
    for (const e of this.state.endpoints) {
      if (e.host !== host || !e.pod || e.ip === '') continue;
      out.push({ endpoint: e.id, ip: e.ip, tenant: tenantOf(e), ...this.endpointPolicy(e) });
    }
    return out;
  }
}

function tenantOf(e: { network: string }): string {
  const colon = e.network.indexOf(':');
  return colon < 0 ? e.network : e.network.slice(0, colon);
}

const compiled = new WeakMap<KubePolicyState, Map<string, EndpointPolicy[]>>();

/**
 * The Kubernetes policy of every local pod endpoint of `host` that has an address (endpoints that
 * are not pods get nothing here; with no NetworkPolicy at all, nobody does); memoised per state
 * object.
 */
export function compileKubernetes(state: KubePolicyState, host: string): EndpointPolicy[] {
  let byHost = compiled.get(state);
  if (!byHost) {
    byHost = new Map();
    compiled.set(state, byHost);
  }
  let out = byHost.get(host);
  if (!out) {
    // no policy: every pod is open both ways, which is no Kubernetes policy at all (and no index to build)
    out = (state.kubePolicies?.length ?? 0) === 0 ? [] : new KubeCompiler(state).compile(host);
    byHost.set(host, out);
  }
  return out;
}
