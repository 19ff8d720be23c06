/**
 * The NetworkPolicy scenarios (netpol-scenarios.ts) as desired state: each policy normalised as
 * the API server and netmaster's controller hand it on (KubeNetworkPolicy of agent.proto:
 * policyTypes resolved, TCP the default protocol, a string port a named port), the namespaces with
 * their labels, and the nine pods as pod endpoints of one network placed on hosts. Tests add the
 * rest of a HostState (networks, tenants, MACs) in their own form; `expectedCells` gives what the
 * compiled policy decides for each probe, by lib/policy/evaluate.ts.
 */
import { compilePolicy, type CompileState } from '../../lib/policy/compile';
import { passes } from '../../lib/policy/evaluate';
import type { EndpointPolicy } from '../../lib/policy/model';
import type { KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
import type { KubeLabelSelector } from '../../proto/gen/netloom/v1/KubeLabelSelector';
import type { KubePolicyPeer } from '../../proto/gen/netloom/v1/KubePolicyPeer';
import type { KubePolicyPort } from '../../proto/gen/netloom/v1/KubePolicyPort';
import type { Cell, EndpointSpec } from './policy-cases';
import {
  expectedReachability,
  NAMESPACES,
  namedPorts,
  namespaceLabels,
  PODS,
  podLabels,
  PORTS,
  PROTOCOLS,
  type IpOf,
  type LabelSelector,
  type NetpolObject,
  type NetpolPeer,
  type NetpolPort,
  type NetpolStep,
  type Proto,
} from './netpol-scenarios';

/** Where the scenario's pods live: their tenant and network, address and host. */
export interface NetpolPlacement {
  tenant: string;
  /** the network's name (its key is tenant:name) */
  network: string;
  ipOf: IpOf;
  hostOf: (pod: string) => string;
}

/** The pure tests' placement: 10.96.0.0/24 (x/a .11 ... z/c .33), pods round-robin over host1..host3. */
export const PURE_PLACEMENT: NetpolPlacement = {
  tenant: 'k8',
  network: 'pods',
  ipOf: (pod) => {
    const [ns, name] = pod.split('/') as [string, string];
    return `10.96.0.${(NAMESPACES.indexOf(ns as (typeof NAMESPACES)[number]) + 1) * 10 + name.charCodeAt(0) - 96}`;
  },
  hostOf: (pod) => `host${(PODS.indexOf(pod) % 3) + 1}`,
};

/** The endpoint id of a pod. */
export const podEndpointId = (pod: string): string => `pod-${pod.replace('/', '-')}`;

function selector(s: LabelSelector): KubeLabelSelector {
  return {
    matchLabels: { ...(s.matchLabels ?? {}) },
    matchExpressions: (s.matchExpressions ?? []).map((e) => ({ key: e.key, operator: e.operator, values: [...(e.values ?? [])] })),
  };
}

function peer(p: NetpolPeer): KubePolicyPeer {
  return {
    podSelector: p.podSelector ? selector(p.podSelector) : null,
    namespaceSelector: p.namespaceSelector ? selector(p.namespaceSelector) : null,
    ipBlock: p.ipBlock ? { cidr: p.ipBlock.cidr, except: [...(p.ipBlock.except ?? [])] } : null,
  };
}

function port(p: NetpolPort): KubePolicyPort {
  return {
    protocol: p.protocol ?? 'TCP',
    port: typeof p.port === 'number' ? p.port : 0,
    namedPort: typeof p.port === 'string' ? p.port : '',
    endPort: p.endPort ?? 0,
  };
}

/** A policy as netmaster sends it: policyTypes resolved as the API server does (Ingress unless only Egress is listed; Egress when listed or when there are egress rules). */
export function kubeNetworkPolicy(o: NetpolObject): KubeNetworkPolicy {
  const types = o.spec.policyTypes ?? ['Ingress', ...((o.spec.egress ?? []).length > 0 ? ['Egress' as const] : [])];
  return {
    key: `${o.namespace}/${o.name}`,
    namespace: o.namespace,
    name: o.name,
    podSelector: selector(o.spec.podSelector),
    ingressIsolation: types.includes('Ingress'),
    egressIsolation: types.includes('Egress'),
    ingress: (o.spec.ingress ?? []).map((r) => ({ peers: (r.from ?? []).map(peer), ports: (r.ports ?? []).map(port) })),
    egress: (o.spec.egress ?? []).map((r) => ({ peers: (r.to ?? []).map(peer), ports: (r.ports ?? []).map(port) })),
  };
}

/** The Kubernetes lists of a step's HostState (sorted by key, as netmaster sends them). */
export function netpolKubeLists(
  step: NetpolStep,
  ipOf: IpOf,
): { kubePolicies: KubeNetworkPolicy[]; kubeNamespaces: Array<{ key: string; labels: Record<string, string> }> } {
  const kubePolicies = step
    .policies(ipOf)
    .map(kubeNetworkPolicy)
    .sort((a, b) => (a.key! < b.key! ? -1 : 1));
  return { kubePolicies, kubeNamespaces: NAMESPACES.map((ns) => ({ key: ns, labels: namespaceLabels(step, ns) })) };
}

/** A pod endpoint's fields that policy reads (tests add MAC, interface and the rest). */
export interface NetpolPodEndpoint {
  id: string;
  network: string;
  host: string;
  ip: string;
  labels: Record<string, string>;
  pod: { namespace: string; name: string; uid: string; namedPorts: Array<{ name: string; protocol: string; port: number }> };
}

export function netpolPodEndpoints(step: NetpolStep, place: NetpolPlacement): NetpolPodEndpoint[] {
  return PODS.map((p) => {
    const [namespace, name] = p.split('/') as [string, string];
    return {
      id: podEndpointId(p),
      network: `${place.tenant}:${place.network}`,
      host: place.hostOf(p),
      ip: place.ipOf(p),
      labels: podLabels(step, p),
      pod: {
        namespace,
        name,
        uid: `uid-${namespace}-${name}`,
        namedPorts: namedPorts(step, p).map((n) => ({ name: n.name, protocol: n.protocol, port: n.containerPort })),
      },
    };
  });
}

/** One probe between two pods. */
export interface NetpolCell {
  from: string;
  to: string;
  port: number;
  protocol: Proto;
  allowed: boolean;
}

export const cellText = (c: Omit<NetpolCell, 'allowed'>): string => `${c.from} -> ${c.to} ${c.protocol.toLowerCase()}/${c.port}`;

/**
 * What compiled policy decides for every ordered pair of pods and every probe (ports 80 and 81,
 * TCP and UDP), by the reference semantics: `policyOf` gives a pod endpoint's compiled policy.
 */
export function expectedCells(policyOf: (endpointId: string) => EndpointPolicy, ipOf: IpOf): NetpolCell[] {
  const out: NetpolCell[] = [];
  for (const from of PODS)
    for (const to of PODS) {
      if (from === to) continue;
      const src = policyOf(podEndpointId(from));
      const dst = policyOf(podEndpointId(to));
      for (const p of PORTS)
        for (const protocol of PROTOCOLS) {
          const pkt = { src: ipOf(from), dst: ipOf(to), protocol: protocol === 'TCP' ? ('tcp' as const) : ('udp' as const), port: p };
          out.push({ from, to, port: p, protocol, allowed: passes(pkt, src.egress, dst.ingress).verdict === 'allow' });
        }
    }
  return out;
}

/**
 * The probes of a step for the real-traffic tests (policy-matrix.ts's MatrixChecker): every ordered
 * pod pair over TCP and UDP on ports 80 and 81, each expected as the scenario's matrix says where
 * it has one and as the compiled policy (of `state`, each pod on its host) decides elsewhere.
 * `spec` names a pod's probe agent and address.
 */
export function wireCells(state: CompileState, step: NetpolStep, place: NetpolPlacement, spec: (pod: string) => EndpointSpec): Cell[] {
  const hosts = [...new Set(PODS.map(place.hostOf))];
  const compiled = new Map<string, EndpointPolicy>(hosts.flatMap((h) => compilePolicy(state, h)).map((p) => [p.endpoint, p]));
  const listed = new Map<string, boolean>();
  for (const check of step.expect)
    for (const c of expectedReachability(check).entries())
      listed.set(cellText({ ...c, port: check.port, protocol: check.protocol }), c.allowed);
  return expectedCells((id) => compiled.get(id)!, place.ipOf).map((c) => ({
    from: spec(c.from),
    to: spec(c.to),
    probe: `${c.protocol === 'TCP' ? 'tcp' : 'udp'}/${c.port}` as const,
    verdict: (listed.get(cellText(c)) ?? c.allowed) ? 'pass' : 'deny',
  }));
}

/**
 * Contiv's rules and Kubernetes' on one pod (lib/policy/compile.ts): x/a is selected by a
 * NetworkPolicy allowing ingress from namespace y only, and is in a Contiv group whose policy
 * denies y/a at priority 1 and allows x/b at priority 5 (ingress). `MERGED_STEP` is the Kubernetes
 * side, `withContivOnXa` adds the Contiv side to a step's desired state, and `MERGED_EXPECT` is TCP
 * 80 into x/a: a Contiv deny wins over a Kubernetes allow, a Contiv allow passes a Kubernetes
 * isolation, the rest is Kubernetes'.
 */
export const MERGED_STEP: NetpolStep = {
  does: 'x/a: NetworkPolicy from ns y, Contiv deny y/a and allow x/b',
  policies: () => [
    {
      namespace: 'x',
      name: 'from-y',
      spec: {
        podSelector: { matchLabels: { pod: 'a' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }],
      },
    },
  ],
  expect: [],
};

export const MERGED_EXPECT: ReadonlyArray<[from: string, allowed: boolean]> = [
  ['y/a', false],
  ['y/b', true],
  ['y/c', true],
  ['x/b', true],
  ['x/c', false],
  ['z/a', false],
];

export function withContivOnXa<S extends { groups: unknown[]; policies: unknown[]; endpoints: Array<{ id: string; group: string }> }>(
  state: S,
  place: NetpolPlacement,
): S {
  const t = place.tenant;
  const rule = (ruleId: string, action: string, priority: number, fromIp: string) => ({
    ruleId,
    direction: 'in',
    priority,
    action,
    protocol: '',
    port: 0,
    fromGroup: '',
    toGroup: '',
    fromNetwork: '',
    toNetwork: '',
    fromIp,
    toIp: '',
  });
  return {
    ...state,
    groups: [{ key: `${t}:xa`, tenant: t, name: 'xa', network: `${t}:${place.network}`, groupId: 7, policies: ['p'], netProfile: '' }],
    policies: [
      {
        key: `${t}:p`,
        tenant: t,
        name: 'p',
        rules: [rule('no-ya', 'deny', 1, place.ipOf('y/a')), rule('xb', 'allow', 5, place.ipOf('x/b'))],
      },
    ],
    endpoints: state.endpoints.map((e) => (e.id === podEndpointId('x/a') ? { ...e, group: `${t}:xa` } : e)),
  };
}
