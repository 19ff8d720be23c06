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
import { memoPerStateAndHost } from './memo';
import { NAMESPACE_NAME_LABEL } from '../kube-syntax';
import { selectorKey, selects, type LabelSelector } from './label-selector';
import { ANY_ADDRESS, OPEN, type AddressSet, type DirectionPolicy, type EndpointPolicy, type PolicyRule, type Service } from './model';

/** The priority of every Kubernetes allow: below Contiv's 1..100, so a Contiv rule (deny or allow) decides first. */
export const KUBE_RULE_PRIORITY = 0;

/** The label the API server gives every namespace: its name. */

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

/** The services of `ports`' named ports resolved on `pod` (the numeric ones are not here). */
function namedServices(ports: readonly KubePortLike[], pod: KubePodLike): Service[] {
  return ports.flatMap((p) => (p.namedPort !== '' ? (resolveNamed(p, pod) ?? []) : []));
}

/** A pod's named ports as one text (pods with equal texts resolve every named port alike), with the pod. */
interface NamedKey {
  key: string;
  pod: KubePodLike;
}

function namedKey(pod: KubePodLike): NamedKey {
  const key = pod.namedPorts
    .map((n) => `${n.name}/${protocolOf(n.protocol)}/${n.port}`)
    .sort()
    .join(',');
  return { key, pod };
}

const serviceText = (s: Service): string => `${String(s.protocol)}:${(s.ports ?? []).map((r) => `${r.from}-${r.to}`).join(',')}`;

/** One compile: the state's indexes and the memo of rules and address sets shared by the pods. */
class KubeCompiler {
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  /** tenant -> its pod endpoints with an address, sorted by address */
  private readonly podsByTenant = new Map<string, KubeEndpoint[]>();
  private readonly policiesByNs = new Map<string, KubePolicyLike[]>();
  private readonly rules = new Map<string, PolicyRule[]>();
  private readonly peerSets = new Map<string, { pods: KubeEndpoint[]; sets: AddressSet[] }>();
  private readonly directions = new Map<string, DirectionPolicy>();
  private readonly groups = new WeakMap<KubeEndpoint[], Map<string, Array<{ peers: AddressSet; services: Service[] }>>>();
  private readonly sets = new Map<string, AddressSet>();
  private readonly podSets = new Map<string, KubeEndpoint[]>();
  private readonly unions = new Map<string, KubeEndpoint[]>();

  constructor(private readonly state: KubePolicyState) {
    for (const n of state.kubeNamespaces ?? []) this.nsLabels.set(n.key, { ...n.labels, [NAMESPACE_NAME_LABEL]: n.key });
    // in address order (as address sets list them), so that sets made from them need no sort
    const byAddress = (a: KubeEndpoint, b: KubeEndpoint) => {
      const [x, y] = [`${a.ip}/32`, `${b.ip}/32`];
      return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    };
    for (const e of [...state.endpoints].sort(byAddress)) {
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
    const inc = sortedUnique(include);
    const exc = sortedUnique(exclude);
    const key = `${inc.join(',')}|${exc.join(',')}`;
    let s = this.sets.get(key);
    if (!s) {
      s = { include: inc, exclude: exc };
      this.sets.set(key, s);
    }
    return s;
  }

  /**
   * The pods of `tenant` a selector peer names, for a policy of namespace `ns`, in address order
   * (memoised per selector text: a namespaceSelector makes the policy's namespace irrelevant).
   */
  private peerPods(peer: KubePeerLike, ns: string, tenant: string): KubeEndpoint[] {
    const nsText = peer.namespaceSelector ? `*${selectorKey(peer.namespaceSelector)}` : `=${ns}`;
    const key = `${tenant}\0${nsText}\0${peer.podSelector ? selectorKey(peer.podSelector) : '-'}`;
    return this.memo(this.podSets, key, () => {
      const pods = this.podsByTenant.get(tenant) ?? [];
      const inNs = new Map<string, boolean>();
      const nsOk = (podNs: string): boolean => {
        let ok = inNs.get(podNs);
        if (ok === undefined) {
          ok = peer.namespaceSelector ? selects(peer.namespaceSelector, this.labelsOfNamespace(podNs)) : podNs === ns;
          inNs.set(podNs, ok);
        }
        return ok;
      };
      return pods.filter((e) => nsOk(e.pod!.namespace) && (!peer.podSelector || selects(peer.podSelector, e.labels)));
    });
  }

  /**
   * The compiled rules of rule `index` of `p` in `dir` for a local pod of `tenant` whose named
   * ports are `named` (memoised per what they depend on: ingress named ports are resolved on the
   * local pod, so pods that resolve them alike share the rules).
   */
  private ruleOf(p: KubePolicyLike, dir: Direction, index: number, tenant: string, named: NamedKey): PolicyRule[] {
    const rule = (dir === 'ingress' ? p.ingress : p.egress)[index]!;
    const at = `${p.key}\0${dir}\0${index}\0${tenant}`;
    if (dir === 'egress') return this.memo(this.rules, at, () => this.egressRules(p, index, rule, tenant));
    const hasNamed = rule.ports.some((x) => x.namedPort !== '');
    return this.memo(this.rules, hasNamed ? `${at}\0${named.key}` : at, () => {
      const id = kubeRuleId(p.key, dir, index);
      if (rule.ports.length === 0) return this.peersOf(at, p, rule, tenant).sets.map((set) => allow(id, set, []));
      const services = [...rule.ports.filter((x) => x.namedPort === '').map(numericService), ...namedServices(rule.ports, named.pod)];
      // ports listed but none resolved: the rule selects nothing (not every port)
      return services.length === 0 ? [] : this.peersOf(at, p, rule, tenant).sets.map((set) => allow(id, set, services));
    });
  }

  private memo<T>(m: Map<string, T>, key: string, make: () => T): T {
    let v = m.get(key);
    if (v === undefined) {
      v = make();
      m.set(key, v);
    }
    return v;
  }

  /**
   * A rule's peers (memoised per rule and tenant): the pods its selector peers name, and every peer
   * address as address sets, pods and plain CIDRs in one, each ipBlock with an except apart.
   */
  private peersOf(at: string, p: KubePolicyLike, rule: KubeRuleLike, tenant: string): { pods: KubeEndpoint[]; sets: AddressSet[] } {
    return this.memo(this.peerSets, at, () => {
      if (rule.peers.length === 0) return { pods: this.podsByTenant.get(tenant) ?? [], sets: [ANY_ADDRESS] };
      const lists: KubeEndpoint[][] = [];
      const blocks: KubeIpBlockLike[] = [];
      for (const peer of rule.peers) {
        if (peer.ipBlock) {
          // policy covers IPv4: an IPv6 block names no address here
          if (!peer.ipBlock.cidr.includes(':')) blocks.push(peer.ipBlock);
        } else if (peer.podSelector || peer.namespaceSelector) lists.push(this.peerPods(peer, p.namespace, tenant));
        // a peer with nothing set names nothing (the API refuses one)
      }
      const pods = this.union(lists);
      const plain = [...pods.map((e) => `${e.ip}/32`), ...blocks.filter((b) => b.except.length === 0).map((b) => b.cidr)];
      const sets = plain.length > 0 ? [this.set(plain, [])] : [];
      for (const b of blocks.filter((x) => x.except.length > 0)) sets.push(this.set([b.cidr], b.except));
      return { pods, sets };
    });
  }

  /** An egress rule: numeric ports towards every peer; named ports resolved on each peer pod (never on an ipBlock), peers grouped by what they resolve to. */
  private egressRules(p: KubePolicyLike, index: number, rule: KubeRuleLike, tenant: string): PolicyRule[] {
    const id = kubeRuleId(p.key, 'egress', index);
    const at = `${p.key}\0egress\0${index}\0${tenant}`;
    if (rule.ports.length === 0) return this.peersOf(at, p, rule, tenant).sets.map((set) => allow(id, set, []));
    const numeric = rule.ports.filter((x) => x.namedPort === '').map(numericService);
    const out = numeric.length > 0 ? this.peersOf(at, p, rule, tenant).sets.map((set) => allow(id, set, numeric)) : [];
    const named = rule.ports.filter((x) => x.namedPort !== '');
    if (named.length === 0) return out;
    for (const g of this.namedGroups(this.peersOf(at, p, rule, tenant).pods, named)) out.push(allow(id, g.peers, g.services));
    return out;
  }

  /** Pod lists (each in address order) as one, in address order: one list is itself (the same array, so what is memoised per list is shared). */
  private union(lists: KubeEndpoint[][]): KubeEndpoint[] {
    if (lists.length === 1) return lists[0]!;
    const ids = new Set(lists.flat().map((e) => e.id));
    return this.memo(this.unions, [...ids].sort().join(','), () => {
      const byAddress = new Map(lists.flat().map((e) => [e.id, e]));
      return [...byAddress.values()].sort((a, b) => {
        const [x, y] = [`${a.ip}/32`, `${b.ip}/32`];
        return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      });
    });
  }

  /**
   * `pods` grouped by what `named` resolves to on each (pods without any resolution left out), in
   * the order of the services' text; memoised per pod list and named ports, since many egress
   * rules name the same peers and ports (every pod, `http`, say).
   */
  private namedGroups(pods: KubeEndpoint[], named: readonly KubePortLike[]): Array<{ peers: AddressSet; services: Service[] }> {
    let byNamed = this.groups.get(pods);
    if (!byNamed) {
      byNamed = new Map();
      this.groups.set(pods, byNamed);
    }
    const key = named.map((x) => `${x.namedPort}/${protocolOf(x.protocol)}`).join(',');
    return this.memo(byNamed, key, () => {
      const byServices = new Map<string, { services: Service[]; addresses: string[] }>();
      for (const e of pods) {
        const services = namedServices(named, e.pod!);
        if (services.length === 0) continue;
        const k = services.map(serviceText).join(' ');
        const g = byServices.get(k);
        if (g) g.addresses.push(`${e.ip}/32`);
        else byServices.set(k, { services, addresses: [`${e.ip}/32`] });
      }
      return [...byServices.keys()].sort().map((k) => {
        const g = byServices.get(k)!;
        return { peers: this.set(g.addresses, []), services: g.services };
      });
    });
  }

  /**
   * The Kubernetes side of a local pod endpoint's policy. Pods of one tenant selected by the same
   * policies, whose named ports are alike, share their DirectionPolicy objects.
   */
  endpointPolicy(e: KubeEndpoint): { ingress: DirectionPolicy; egress: DirectionPolicy } {
    const selected = (this.policiesByNs.get(e.pod!.namespace) ?? []).filter((p) => selects(p.podSelector ?? {}, e.labels));
    const tenant = tenantOf(e);
    const named = namedKey(e.pod!);
    const direction = (dir: Direction): DirectionPolicy => {
      const isolating = selected.filter((p) => (dir === 'ingress' ? p.ingressIsolation : p.egressIsolation));
      if (isolating.length === 0) return OPEN;
      const key = `${dir}\0${tenant}\0${named.key}\0${isolating.map((p) => p.key).join('\0')}`;
      return this.memo(this.directions, key, () => {
        const rules: PolicyRule[] = [];
        for (const p of isolating) {
          const list = dir === 'ingress' ? p.ingress : p.egress;
          for (let i = 0; i < list.length; i++) rules.push(...this.ruleOf(p, dir, i, tenant, named));
        }
        return { isolated: true, rules };
      });
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

/** The texts sorted, each once (most lists arrive sorted already: checked in one pass). */
function sortedUnique(list: readonly string[]): string[] {
  let sorted = true;
  for (let i = 1; i < list.length && sorted; i++) sorted = list[i - 1]! < list[i]!;
  return sorted ? [...list] : [...new Set(list)].sort();
}

/** A Kubernetes allow (every one is at KUBE_RULE_PRIORITY: their union, in no order). */
function allow(id: string, peers: AddressSet, services: Service[]): PolicyRule {
  return { id, peers, services, action: 'allow', priority: KUBE_RULE_PRIORITY };
}

function tenantOf(e: { network: string }): string {
  const colon = e.network.indexOf(':');
  return colon < 0 ? e.network : e.network.slice(0, colon);
}

/**
 * The Kubernetes policy of every local pod endpoint of `host` that has an address (endpoints that
 * are not pods get nothing here; with no NetworkPolicy at all, nobody does); memoised per state
 * object.
 */
export const compileKubernetes: (state: KubePolicyState, host: string) => EndpointPolicy[] = memoPerStateAndHost((state, host) =>
  // no policy: every pod is open both ways, which is no Kubernetes policy at all (and no index to build)
  (state.kubePolicies?.length ?? 0) === 0 ? [] : new KubeCompiler(state).compile(host),
);
